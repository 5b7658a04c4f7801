// The finding groups list, highest score first.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import type { ViewFilter } from '../filters';
import { toFindingFilter } from '../filters';
import { SeverityBadge, when } from '../format';
import { go, link } from '../route';
import { killChainIndex } from '../killchain';
import { useLiveVersion } from '../live';

const GROUPS_QUERY = `
query Groups($filter: FindingFilter, $triage: [TriageStatus!], $since: DateTime) {
  findingGroups(filter: $filter, triage: $triage, changedSince: $since, first: 100) {
    totalCount
    nodes { id title severity score findingCount accounts firstSeen lastSeen updatedAt source triageStatus tactics { id name } }
  }
}`;

const TRIAGE_STATES = ['NEW', 'ACKNOWLEDGED', 'IN_PROGRESS', 'RESOLVED', 'SUPPRESSED', 'FALSE_POSITIVE'];
// "Open" is what an analyst still has to look at.
const OPEN = ['NEW', 'ACKNOWLEDGED', 'IN_PROGRESS'];

interface GroupRow {
  id: string;
  title: string;
  severity: number;
  score: number;
  findingCount: number;
  accounts: string[];
  firstSeen: string;
  lastSeen: string;
  source: string;
  triageStatus: string;
  updatedAt: string;
  tactics: { id: string; name: string }[];
}

export function Groups(props: { filter: ViewFilter }) {
  const gfilter = useMemo(() => toFindingFilter(props.filter), [JSON.stringify(props.filter)]);
  const [d, setD] = useState<{ totalCount: number; nodes: GroupRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // '' = every state, 'OPEN' = not yet closed, else one state.
  const [triage, setTriage] = useState<string>('');
  // A local datetime ('' = no bound): groups with a member new or updated since then.
  const [since, setSince] = useState<string>('');
  // Re-load when findings change on the server (live updates).
  const liveVersion = useLiveVersion();
  useEffect(() => {
    const states = triage === '' ? null : triage === 'OPEN' ? OPEN : [triage];
    const sinceIso = since ? new Date(since).toISOString() : null;
    gql<{ findingGroups: { totalCount: number; nodes: GroupRow[] } }>(GROUPS_QUERY, { filter: gfilter, triage: states, since: sinceIso })
      .then((r) => setD(r.findingGroups))
      .catch((e) => setError(String(e.message ?? e)));
  }, [JSON.stringify(gfilter), triage, since, liveVersion]);
  if (error) return <div class="error">{error}</div>;
  if (!d) return <p class="muted">Loading…</p>;
  return (
    <section data-testid="groups-view">
      <h1>Finding groups ({d.totalCount})</h1>
      <p class="filters">
        <label>
          Triage{' '}
          <select data-testid="groups-triage" value={triage} onChange={(e) => setTriage((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            <option value="OPEN">open (not closed)</option>
            {TRIAGE_STATES.map((t) => (
              <option value={t}>{t.toLowerCase().replace('_', ' ')}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          Changed since{' '}
          <input type="datetime-local" data-testid="groups-since" value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} />
        </label>
      </p>
      <table class="rows" data-testid="groups-list">
        <thead><tr><th>Score</th><th>Severity</th><th>Title</th><th>Tactics</th><th>Findings</th><th>Accounts</th><th>Triage</th><th>Changed</th></tr></thead>
        <tbody>
          {d.nodes.map((g) => (
            <tr data-testid="group-row" data-group-id={g.id} class="clickable" onClick={() => go(link('group', {}, g.id))}>
              <td>{g.score.toFixed(1)}</td>
              <td><SeverityBadge severity={g.severity} /></td>
              <td>{g.title}</td>
              <td>{g.tactics.slice().sort((a, b) => killChainIndex(a.id) - killChainIndex(b.id)).map((t) => t.name).join(' → ')}</td>
              <td>{g.findingCount}</td>
              <td title={g.accounts.join(', ')}>{g.accounts.length}</td>
              <td data-testid="group-row-triage">{g.triageStatus}</td>
              <td>{when(g.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
