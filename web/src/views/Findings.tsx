// The findings view: the scoring features of up to 100,000 findings loaded once, then re-ranked
// and filtered in the page by the WASM scoring module on every slider move or keystroke.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Account, SeverityLabel } from '../api';
import { gql, SEVERITY_LABELS } from '../api';
import { FilterBar } from '../components/FilterBar';
import { VirtualList } from '../components/VirtualList';
import type { ViewFilter } from '../filters';
import { toFindingFilter } from '../filters';
import { labelName, SeverityBadge, when } from '../format';
import { markReady, perf } from '../perf';
import type { LocalFilter, WeightSet } from '../ranking';
import { DEFAULT_WEIGHTS, FACTORS, fetchFeatures, loadWasm, LocalRanking, tilePayload } from '../ranking';
import { link } from '../route';
import { useLiveVersion } from '../live';

const ROW_HEIGHT = 58;

export function Findings(props: { filter: ViewFilter; onFilter: (f: ViewFilter) => void }) {
  const gfilter = useMemo(() => toFindingFilter(props.filter), [JSON.stringify(props.filter)]);
  const [ranking, setRanking] = useState<LocalRanking | null>(null);
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loadMs, setLoadMs] = useState<number | null>(null);
  const [weights, setWeights] = useState<WeightSet>({ ...DEFAULT_WEIGHTS });
  const [local, setLocal] = useState<LocalFilter>({});
  const [order, setOrder] = useState<Uint32Array>(new Uint32Array(0));
  const [rankMs, setRankMs] = useState<number | null>(null);
  const rankingRef = useRef<LocalRanking | null>(null);
  // Re-load the columns when findings change on the server (live updates), keeping the current
  // list on screen until the new one is ranked.
  const liveVersion = useLiveVersion();
  const loadedFilter = useRef<string>('');

  useEffect(() => {
    gql<{ accounts: Account[] }>('{ accounts { id name criticality } }')
      .then((d) => setAccounts(d.accounts))
      .catch(() => setAccounts([]));
  }, []);

  // Load the columns once per server-side filter.
  useEffect(() => {
    let live = true;
    setError(null);
    const key = JSON.stringify(gfilter);
    if (loadedFilter.current !== key) setRanking(null);
    loadedFilter.current = key;
    const t0 = performance.now();
    Promise.all([loadWasm(), fetchFeatures(gfilter)])
      .then(([, payload]) => {
        if (!live) return;
        const r = new LocalRanking(payload);
        rankingRef.current = r;
        setLoadMs(performance.now() - t0);
        setRanking(r);
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [JSON.stringify(gfilter), liveVersion]);

  // Re-rank locally on every weight or local filter change: no server round trip.
  useEffect(() => {
    if (!ranking) return;
    const res = ranking.rank(weights, local);
    perf.lastRankMs = res.ms;
    perf.lastRankRows = ranking.n;
    perf.lastRankMatches = res.order.length;
    setOrder(res.order);
    setRankMs(res.ms);
    markReady('findings');
    document.body.dataset.rankSeq = String(Number(document.body.dataset.rankSeq ?? 0) + 1);
  }, [ranking, JSON.stringify(weights), JSON.stringify(local)]);

  useEffect(() => {
    perf.topIds = () => {
      const r = rankingRef.current;
      if (!r) return [];
      return Array.from(order.subarray(0, 1000), (i) => r.payload.id(i));
    };
    perf.rerank = (w) => {
      const r = rankingRef.current!;
      return r.rank({ ...DEFAULT_WEIGHTS, ...w } as WeightSet, local).ms;
    };
    perf.benchRank = (rows, reps) => {
      const big = new LocalRanking(tilePayload(rankingRef.current!.payload, rows));
      const times: number[] = [];
      // The first re-ranks grow WASM memory for the sort keys; report them apart (index 0..2).
      for (let k = 0; k < reps + 3; k++) {
        // A different slider position each time, as a user dragging the severity weight.
        times.push(big.rank({ ...DEFAULT_WEIGHTS, severity: (k * 7) % 101, rarity: 100 - ((k * 3) % 101) }, local).ms);
      }
      return times;
    };
  }, [order, local]);

  const types = useMemo(() => (ranking ? ranking.payload.dictionaries.types.slice().sort() : []), [ranking]);

  return (
    <div class="findings" data-testid="findings-view">
      <FilterBar filter={props.filter} accounts={accounts} regions={ranking?.payload.dictionaries.regions} onChange={props.onFilter} />
      {error && <div class="error" data-testid="findings-error">{error}</div>}
      <div class="findings-layout">
        <aside class="weights" data-testid="weights">
          <h2>Weights</h2>
          {FACTORS.map((f) => (
            <label class="slider">
              <span>
                {f.label} <b data-testid={`weight-value-${f.key}`}>{weights[f.key]}</b>
              </span>
              <input
                type="range"
                min={0}
                max={100}
                step={1}
                value={weights[f.key]}
                data-testid={`weight-${f.key}`}
                onInput={(e) => setWeights({ ...weights, [f.key]: Number((e.target as HTMLInputElement).value) })}
              />
            </label>
          ))}
          <button type="button" data-testid="weights-reset" onClick={() => setWeights({ ...DEFAULT_WEIGHTS })}>
            Default weights
          </button>
          <h2>Filter</h2>
          <input
            type="search"
            placeholder="type or title contains…"
            data-testid="local-search"
            value={local.search ?? ''}
            onInput={(e) => setLocal({ ...local, search: (e.target as HTMLInputElement).value })}
          />
          <select
            data-testid="local-type"
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setLocal({ ...local, types: v ? [v] : undefined });
            }}
          >
            <option value="">All finding types</option>
            {types.map((t) => (
              <option value={t} selected={local.types?.[0] === t}>
                {t}
              </option>
            ))}
          </select>
          <fieldset class="sev-filter">
            <legend>Severity (local)</legend>
            {SEVERITY_LABELS.map((l: SeverityLabel) => (
              <label class="check">
                <input
                  type="checkbox"
                  data-testid={`local-severity-${l.toLowerCase()}`}
                  checked={local.severityLabels?.includes(l) ?? false}
                  onChange={(e) => {
                    const on = (e.target as HTMLInputElement).checked;
                    const cur = local.severityLabels ?? [];
                    const next = SEVERITY_LABELS.filter((x) => (x === l ? on : cur.includes(x)));
                    setLocal({ ...local, severityLabels: next.length ? next : undefined });
                  }}
                />
                {labelName(l)}
              </label>
            ))}
          </fieldset>
        </aside>
        <section class="list">
          <div class="status" data-testid="rank-status">
            {ranking ? (
              <>
                <span data-testid="rank-count" data-value={order.length}>
                  {order.length.toLocaleString('en-US')} of {ranking.n.toLocaleString('en-US')} findings
                </span>
                <span data-testid="rank-ms" data-value={rankMs ?? ''}>
                  re-ranked in {rankMs?.toFixed(2)} ms (WASM, in the page)
                </span>
                {loadMs !== null && <span class="muted">loaded in {Math.round(loadMs)} ms</span>}
              </>
            ) : (
              !error && <span>Loading scoring features…</span>
            )}
          </div>
          {ranking && (
            <VirtualList
              testid="findings-list"
              count={order.length}
              rowHeight={ROW_HEIGHT}
              height={640}
              row={(p) => <FindingRow ranking={ranking} i={order[p]} position={p} />}
            />
          )}
        </section>
      </div>
    </div>
  );
}

function FindingRow(props: { ranking: LocalRanking; i: number; position: number }) {
  const r = props.ranking.row(props.i);
  const score = props.ranking.score(props.i);
  const factors = props.ranking.explain(props.i).filter((f) => f.contribution > 0.05);
  return (
    <a
      class="finding-row"
      href={link('finding', {}, r.id)}
      data-testid="finding-row"
      data-finding-id={r.id}
      data-position={props.position}
      data-score={score}
    >
      <span class="score" title="priority score">
        {score.toFixed(1)}
      </span>
      <span class="main">
        <span class="title">{r.title}</span>
        <span class="sub">
          <SeverityBadge severity={r.severity} /> <code>{r.type}</code> · {r.account} · {r.region} · {when(r.updatedAt)}
        </span>
      </span>
      <span class="why" data-testid="score-explanation">
        {factors.map((f) => (
          <span class="factor" title={`${f.name} contributes ${f.contribution.toFixed(2)}`}>
            {f.name} {f.contribution.toFixed(1)}
          </span>
        ))}
      </span>
    </a>
  );
}
