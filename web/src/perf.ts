// In-page measurements the browser tests and the benchmark read: `window.__gdlens`.

/** What the page exposes for tests and benchmarks. */
export interface PagePerf {
  /** Milliseconds of the last local re-rank (WASM rank + filter), from `performance.now()`. */
  lastRankMs: number | null;
  /** How many findings the last re-rank ranked, and how many passed the local filter. */
  lastRankRows: number;
  lastRankMatches: number;
  /** `performance.now()` when each view first rendered with data. */
  ready: Record<string, number>;
  /** Ids in the current local order (first 1,000), for tests comparing with the server. */
  topIds: () => string[];
  /** Re-ranks with the given weights and returns the time it took (benchmark hook). */
  rerank?: (weights: Record<string, number>) => number;
  /**
   * Benchmark hook: builds a ranker over `rows` findings (the loaded columns repeated until there
   * are that many), then times 3 warm-up + `reps` re-ranks with changing weights; returns each
   * time in ms, warm-ups first.
   */
  benchRank?: (rows: number, reps: number) => number[];
}

declare global {
  interface Window {
    __gdlens: PagePerf;
  }
}

window.__gdlens = window.__gdlens ?? {
  lastRankMs: null,
  lastRankRows: 0,
  lastRankMatches: 0,
  ready: {},
  topIds: () => [],
};

/** The page's measurement record. */
export const perf: PagePerf = window.__gdlens;

/** Records the first time a view rendered with data. */
export function markReady(view: string): void {
  if (perf.ready[view] === undefined) perf.ready[view] = performance.now();
  document.body.dataset[`ready${view.charAt(0).toUpperCase()}${view.slice(1)}`] = '1';
}
