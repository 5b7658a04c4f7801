// The hardening view: the most common finding types with what to fix, the accounts and resources
// they land on, and the trend since a date (findings created before vs after it), so a team can
// see what to fix first and whether fixing it worked.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Account, HardeningItem } from '../api';
import { gql } from '../api';
import { FilterBar } from '../components/FilterBar';
import type { ViewFilter } from '../filters';
import { filterToParams, toFindingFilter } from '../filters';
import { labelName } from '../format';
import { go, link } from '../route';
import { markReady } from '../perf';

const HARDENING_QUERY = `
query Hardening($filter: FindingFilter, $since: DateTime) {
  hardening(filter: $filter, limit: 20, since: $since) {
    findingType whatToFix count maxSeverity accountCount accounts resourceCount
    resources(limit: 3) { resourceKey resourceType accountId count }
    before after
  }
  accounts { id name criticality owner }
}`;

/** How far back the trend compares, in days. */
const SINCE_DAYS = [7, 14, 30, 90];

export function Hardening(props: { filter: ViewFilter; onFilter: (f: ViewFilter) => void }) {
  const { filter } = props;
  const gfilter = useMemo(() => toFindingFilter(filter), [JSON.stringify(filter)]);
  const [days, setDays] = useState(30);
  const [data, setData] = useState<{ hardening: HardeningItem[]; accounts: Account[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    const since = new Date(Date.now() - days * 86_400_000).toISOString();
    gql<{ hardening: HardeningItem[]; accounts: Account[] }>(HARDENING_QUERY, { filter: gfilter, since })
      .then((d) => {
        if (!live) return;
        setData(d);
        markReady('hardening');
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [JSON.stringify(gfilter), days]);

  return (
    <div class="hardening" data-testid="hardening">
      <FilterBar filter={filter} accounts={data?.accounts ?? []} onChange={props.onFilter} />
      {error && (
        <div class="error" data-testid="hardening-error">
          {error}
        </div>
      )}
      <section class="panel wide">
        <header>
          <h2>What to harden: the most common finding types</h2>
          <label>
            Trend since{' '}
            <select
              data-testid="hardening-since"
              value={String(days)}
              onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}
            >
              {SINCE_DAYS.map((d) => (
                <option value={String(d)}>{d} days ago</option>
              ))}
            </select>
          </label>
        </header>
        {data && data.hardening.length === 0 && (
          <p class="muted" data-testid="hardening-empty">Nothing in this filter.</p>
        )}
        {data && data.hardening.length > 0 && (
          <table class="rows" data-testid="hardening-table">
            <thead>
              <tr>
                <th>Finding type and what to fix</th>
                <th>Findings</th>
                <th>Max</th>
                <th>Accounts</th>
                <th>Top resources</th>
                <th>Before / since</th>
              </tr>
            </thead>
            <tbody>
              {data.hardening.map((h) => (
                <tr
                  data-testid="hardening-row"
                  data-type={h.findingType}
                  data-count={h.count}
                  data-before={h.before ?? ''}
                  data-after={h.after ?? ''}
                  class="clickable"
                  onClick={() => go(link('findings', filterToParams({ ...filter, types: [h.findingType] })))}
                >
                  <td>
                    <code>{h.findingType}</code>
                    <div class="hardening-fix" data-testid="hardening-fix">{h.whatToFix}</div>
                  </td>
                  <td>{h.count}</td>
                  <td>
                    <span class={`sev sev-${h.maxSeverity.toLowerCase()}`}>{labelName(h.maxSeverity)}</span>
                  </td>
                  <td title={h.accounts.join(', ')} data-testid="hardening-accounts" data-value={h.accountCount}>
                    {h.accountCount}
                  </td>
                  <td>
                    {h.resources.map((r) => (
                      <div>
                        <code>{r.resourceKey}</code> ({r.count})
                      </div>
                    ))}
                    {h.resourceCount > h.resources.length && (
                      <div class="muted">+{h.resourceCount - h.resources.length} more</div>
                    )}
                  </td>
                  <td>
                    {h.before} / {h.after}{' '}
                    {h.before !== null && h.after !== null && (
                      <span class={h.after < h.before ? 'trend-down' : h.after > h.before ? 'trend-up' : ''}>
                        {h.after < h.before ? '▼' : h.after > h.before ? '▲' : '='}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {!data && !error && <p class="muted">Loading…</p>}
      </section>
    </div>
  );
}
