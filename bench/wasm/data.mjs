// Deterministic synthetic findings for the scoring benchmark: the same data as typed columns (for
// WASM) and as an array of objects (for the idiomatic JavaScript baseline).

/** mulberry32: a small seeded PRNG, so every run and every runtime sees the same findings. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = 160; // distinct finding types seen in a large estate
const NOW = 1767225600000;

/** `n` findings: { features, codes, dictionaries, tieKey } typed columns and `objects`. */
export function makeFindings(n, seed = 42) {
  const rnd = prng(seed);
  const int = (k) => Math.floor(rnd() * k);
  const nResources = Math.max(1, Math.floor(n / 3));
  const types = Array.from({ length: TYPES }, (_, i) => `Purpose${i % 12}:Res${i % 7}/Family${i}.B`);
  const titles = Array.from({ length: TYPES }, (_, i) => `Finding title number ${i} on a resource`);
  const typeOf = new Uint32Array(n);
  const resourceOf = new Uint32Array(n);
  const f = {
    severity: new Float64Array(n), criticality: new Uint8Array(n), typeCount: new Uint32Array(n),
    ageHours: new Float64Array(n), count: new Uint32Array(n), resourceFindings: new Uint32Array(n),
    resourceDistinctTypes: new Uint32Array(n), groupTactics: new Uint8Array(n),
    groupSeverity: new Float64Array(n), archived: new Uint8Array(n), triage: new Uint8Array(n),
    sample: new Uint8Array(n),
  };
  const c = {
    account: new Uint32Array(n), region: new Uint32Array(n), findingType: new Uint32Array(n),
    title: new Uint32Array(n), resourceType: new Uint32Array(n), updatedAt: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const t = Math.floor(rnd() ** 3 * TYPES); // skewed: few noisy types, a long rare tail
    typeOf[i] = t;
    resourceOf[i] = int(nResources);
    f.severity[i] = rnd() < 0.7 ? [2, 5, 5, 8, 8, 9][int(6)] : (10 + int(91)) / 10;
    f.criticality[i] = int(5);
    f.ageHours[i] = int(90 * 24 * 60) / 60;
    f.count[i] = rnd() < 0.6 ? 1 : 1 + int(5000);
    const grouped = rnd() < 0.15;
    f.groupTactics[i] = grouped ? 1 + int(7) : 0;
    f.groupSeverity[i] = grouped ? (20 + int(81)) / 10 : 0;
    f.archived[i] = rnd() < 0.1 ? 1 : 0;
    f.triage[i] = rnd() < 0.7 ? 0 : int(6);
    f.sample[i] = rnd() < 0.02 ? 1 : 0;
    c.account[i] = int(100);
    c.region[i] = int(17);
    c.findingType[i] = t;
    c.title[i] = t;
    c.resourceType[i] = int(8);
    c.updatedAt[i] = NOW - f.ageHours[i] * 3600000;
  }
  // Context features, as the server computes them (counts over the whole scope).
  const typeCounts = new Uint32Array(TYPES);
  const resourceCounts = new Uint32Array(nResources);
  const resourceTypes = new Map();
  for (let i = 0; i < n; i++) {
    typeCounts[typeOf[i]]++;
    resourceCounts[resourceOf[i]]++;
    resourceTypes.set(resourceOf[i] * TYPES + typeOf[i], true);
  }
  const distinct = new Uint32Array(nResources);
  for (const key of resourceTypes.keys()) distinct[Math.floor(key / TYPES)]++;
  for (let i = 0; i < n; i++) {
    f.typeCount[i] = typeCounts[typeOf[i]];
    f.resourceFindings[i] = resourceCounts[resourceOf[i]];
    f.resourceDistinctTypes[i] = distinct[resourceOf[i]];
  }
  // Tie key: the row's position in id order (ids are random here, so a shuffled permutation).
  const tieKey = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = int(i + 1);
    [tieKey[i], tieKey[j]] = [tieKey[j], tieKey[i]];
  }
  const dictionaries = {
    accounts: Array.from({ length: 100 }, (_, i) => String(100000000000 + i)),
    regions: Array.from({ length: 17 }, (_, i) => `region-${i}`),
    types,
    titles,
    resourceTypes: Array.from({ length: 8 }, (_, i) => `ResourceType${i}`),
  };
  // The same findings as plain objects, as a typical frontend would hold them.
  const objects = Array.from({ length: n }, (_, i) => ({
    row: i,
    id: tieKey[i],
    severity: f.severity[i], criticality: f.criticality[i], typeCount: f.typeCount[i],
    ageHours: f.ageHours[i], count: f.count[i], resourceFindings: f.resourceFindings[i],
    resourceDistinctTypes: f.resourceDistinctTypes[i], groupTactics: f.groupTactics[i],
    groupSeverity: f.groupSeverity[i], archived: f.archived[i] === 1, triage: f.triage[i],
    sample: f.sample[i] === 1, accountId: dictionaries.accounts[c.account[i]],
    region: dictionaries.regions[c.region[i]], type: types[t_of(c, i)], title: titles[c.title[i]],
    resourceType: dictionaries.resourceTypes[c.resourceType[i]], updatedAt: c.updatedAt[i],
  }));
  return { features: f, codes: c, dictionaries, tieKey, objects };
}

function t_of(c, i) {
  return c.findingType[i];
}
