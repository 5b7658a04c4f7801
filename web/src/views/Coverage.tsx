// The coverage matrix: accounts × regions, each cell covered / partial (some protection plans
// off, named in the cell) / not enabled (not a member, invited, disabled, no detector), accounts
// with gaps first — what GuardDuty's "protection plans coverage" shows, for the whole
// organization (or the caller's accounts).

import { useEffect, useState } from 'preact/hooks';
import type { CoverageCell, CoverageMatrix } from '../api';
import { gql } from '../api';
import { markReady } from '../perf';

const COVERAGE_QUERY = `
query Coverage($filter: CoverageFilter) {
  coverageMatrix(filter: $filter) {
    regions { region checkedAt lastSyncAt errorCode error }
    accounts {
      accountId name criticality administrator gapCount
      cells { region state detectorPresent relationshipStatus plansDisabled gaps { kind plan } checkedAt lastSyncAt }
    }
    totals { accounts regions cells covered partial notEnabled gapsByPlan { plan cells } }
  }
}`;

/** Short names of the protection plans, for cells. */
const PLAN_SHORT: Record<string, string> = {
  S3_DATA_EVENTS: 'S3',
  EKS_AUDIT_LOGS: 'EKS audit',
  EBS_MALWARE_PROTECTION: 'Malware (EBS)',
  RDS_LOGIN_EVENTS: 'RDS',
  RUNTIME_MONITORING: 'Runtime',
  LAMBDA_NETWORK_LOGS: 'Lambda',
};

const plan = (p: string) => PLAN_SHORT[p] ?? p;

/** Why a cell is not enabled, in words. */
function notEnabledReason(c: CoverageCell): string {
  const kind = c.gaps[0]?.kind;
  if (kind === 'NO_DETECTOR') return 'no detector in region';
  if (kind === 'NOT_MEMBER') return 'not a member';
  return c.relationshipStatus ? c.relationshipStatus.toLowerCase() : 'no detector';
}

/** The cell's text and its hover title. */
function cellText(c: CoverageCell): { text: string; title: string } {
  const checked = c.checkedAt ? `checked ${c.checkedAt}` : 'no coverage row';
  const synced = c.lastSyncAt ? `, last sync ${c.lastSyncAt}` : '';
  switch (c.state) {
    case 'COVERED':
      return { text: '✓', title: `Covered: every protection plan on (${checked}${synced})` };
    case 'PARTIAL':
      return {
        text: c.plansDisabled.map(plan).join(', ') + ' off',
        title: `Partial: ${c.plansDisabled.join(', ')} off (${checked}${synced})`,
      };
    default: {
      const why = notEnabledReason(c);
      return { text: `not enabled (${why})`, title: `Not enabled: ${why} (${checked}${synced})` };
    }
  }
}

export function Coverage() {
  const [gapsOnly, setGapsOnly] = useState(false);
  const [data, setData] = useState<CoverageMatrix | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    gql<{ coverageMatrix: CoverageMatrix }>(COVERAGE_QUERY, { filter: { gapsOnly } })
      .then((d) => {
        if (!live) return;
        setData(d.coverageMatrix);
        markReady('coverage');
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [gapsOnly]);

  const t = data?.totals;
  return (
    <div class="coverage" data-testid="coverage">
      {error && (
        <div class="error" data-testid="coverage-error">
          {error}
        </div>
      )}
      <section class="panel wide">
        <header>
          <h2>GuardDuty coverage: accounts × regions</h2>
          <label>
            <input
              type="checkbox"
              data-testid="coverage-gaps-only"
              checked={gapsOnly}
              onChange={(e) => setGapsOnly((e.target as HTMLInputElement).checked)}
            />{' '}
            Only accounts with gaps
          </label>
        </header>
        {t && (
          <p class="coverage-totals" data-testid="coverage-totals" data-covered={t.covered} data-partial={t.partial} data-not-enabled={t.notEnabled}>
            {t.accounts} accounts × {t.regions} regions:{' '}
            <span class="cov-chip cov-covered">{t.covered} covered</span>{' '}
            <span class="cov-chip cov-partial">{t.partial} partial</span>{' '}
            <span class="cov-chip cov-not_enabled">{t.notEnabled} not enabled</span>
            {t.gapsByPlan.length > 0 && (
              <span class="muted">
                {' '}
                · plans off: {t.gapsByPlan.map((g) => `${plan(g.plan)} ${g.cells}`).join(', ')}
              </span>
            )}
          </p>
        )}
        {data && data.regions.length === 0 && (
          <p class="muted" data-testid="coverage-empty">
            No coverage recorded yet: it comes with the next AWS sync.
          </p>
        )}
        {data && data.regions.length > 0 && (
          <table class="rows coverage-matrix" data-testid="coverage-matrix">
            <thead>
              <tr>
                <th>Account</th>
                {data.regions.map((r) => (
                  <th
                    data-testid="coverage-region"
                    title={r.errorCode ? `${r.errorCode}${r.error ? ': ' + r.error : ''}` : `checked ${r.checkedAt}`}
                  >
                    {r.region}
                    {r.errorCode && <span class="cov-region-error"> ⚠ {r.errorCode}</span>}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.accounts.map((a) => (
                <tr data-testid="coverage-row" data-account={a.accountId} data-gaps={a.gapCount}>
                  <td>
                    <div>{a.name ?? a.accountId}{a.administrator && <span class="muted"> (administrator)</span>}</div>
                    <div class="muted">
                      <code>{a.accountId}</code> · {a.criticality}
                    </div>
                  </td>
                  {a.cells.map((c) => {
                    const { text, title } = cellText(c);
                    return (
                      <td
                        class={`cov-cell cov-${c.state.toLowerCase()}`}
                        data-testid="coverage-cell"
                        data-region={c.region}
                        data-state={c.state}
                        data-off={c.plansDisabled.join(',')}
                        title={title}
                      >
                        {text}
                      </td>
                    );
                  })}
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
