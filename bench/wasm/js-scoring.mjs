// The idiomatic JavaScript baseline: the same scoring as crates/gdlens-scoring, written the way a
// frontend usually would: over an array of finding objects, with a filter() and a comparator sort.
// Same operations in the same order, so its scores equal the WASM scores bit for bit.

export const DEFAULT_WEIGHTS = {
  severity: 40, criticality: 15, rarity: 15, recency: 10, count: 5, exposure: 5, group: 10,
  rarityMidpoint: 5, recencyMidpointHours: 24, countMidpoint: 10, exposureFindingsMidpoint: 5,
  exposureTypesMidpoint: 2, groupTacticsMidpoint: 2, closedMultiplier: 0.2, archivedMultiplier: 0.5,
  sampleMultiplier: 0.1,
};
const FACTORS = ['severity', 'criticality', 'rarity', 'recency', 'count', 'exposure', 'group'];
const CRITICALITY = [0.4, 0.2, 0.5, 0.8, 1.0];

const severityFactor = (s) => {
  const x = s > 10 ? 1 : (s > 0 ? s : 0) / 10;
  return x * x;
};

function factorValues(f, w) {
  const others = Math.max(f.resourceFindings - 1, 0);
  const otherTypes = Math.max(f.resourceDistinctTypes - 1, 0);
  const repeats = Math.max(f.count - 1, 0);
  const age = f.ageHours > 0 ? f.ageHours : 0;
  return {
    severity: severityFactor(f.severity),
    criticality: CRITICALITY[f.criticality] ?? CRITICALITY[0],
    rarity: w.rarityMidpoint / (w.rarityMidpoint + f.typeCount),
    recency: w.recencyMidpointHours / (w.recencyMidpointHours + age),
    count: repeats / (repeats + w.countMidpoint),
    exposure: 0.5 * (others / (others + w.exposureFindingsMidpoint))
      + 0.5 * (otherTypes / (otherTypes + w.exposureTypesMidpoint)),
    group: f.groupTactics === 0 ? 0
      : (f.groupTactics / (f.groupTactics + w.groupTacticsMidpoint)) * (0.5 + 0.5 * severityFactor(f.groupSeverity)),
  };
}

/** The points per unit of each factor, `100 · w / Σw`, computed once per ranking. */
export function scales(w) {
  const total = FACTORS.reduce((sum, k) => sum + w[k], 0);
  return Object.fromEntries(FACTORS.map((k) => [k, total > 0 ? (100 * w[k]) / total + 0 : 0]));
}

/** Scores one finding object. */
export function scoreFinding(f, w, scale = scales(w)) {
  const values = factorValues(f, w);
  let base = 0;
  for (const k of FACTORS) base += scale[k] * values[k];
  base = base > 100 ? 100 : base > 0 ? base : 0;
  let m = 1;
  if (f.triage >= 3 && f.triage <= 5) m *= w.closedMultiplier;
  if (f.archived) m *= w.archivedMultiplier;
  if (f.sample) m *= w.sampleMultiplier;
  return base * m + 0;
}

const label = (s) => (s >= 9 ? 'CRITICAL' : s >= 7 ? 'HIGH' : s >= 4 ? 'MEDIUM' : 'LOW');

/** Filter + score + sort, idiomatically: returns the ranked finding objects with their score. */
export function rankFindings(findings, weights, filter) {
  const w = { ...DEFAULT_WEIGHTS, ...weights };
  const scale = scales(w);
  const wantArchived = filter.archived ?? false;
  const search = filter.search?.trim().toLowerCase();
  return findings
    .filter((f) =>
      f.archived === wantArchived
      && (filter.includeSamples || !f.sample)
      && (filter.severityMin == null || f.severity >= filter.severityMin)
      && (!filter.severityLabels || filter.severityLabels.includes(label(f.severity)))
      && (!filter.accountIds || filter.accountIds.includes(f.accountId))
      && (!search || f.type.toLowerCase().includes(search) || f.title.toLowerCase().includes(search)))
    .map((f) => ({ finding: f, score: scoreFinding(f, w, scale) }))
    .sort((a, b) => b.score - a.score || a.finding.id - b.finding.id || a.finding.row - b.finding.row);
}

