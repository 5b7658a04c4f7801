// The finding groups list, highest score first.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import type { ViewFilter } from '../filters';
import { toFindingFilter } from '../filters';
import { SeverityBadge, when } from '../format';
import { go, link } from '../route';
import { killChainIndex } from '../killchain';

const GROUPS_QUERY = `
query Groups($filter: FindingFilter) {
  findingGroups(filter: $filter, first: 100) {
    totalCount
    nodes { id title severity score findingCount accounts firstSeen lastSeen source tactics { id name } }
  }
}`;

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
  tactics: { id: string; name: string }[];
}

export function Groups(props: { filter: ViewFilter }) {
  const gfilter = useMemo(() => toFindingFilter(props.filter), [JSON.stringify(props.filter)]);
  const [d, setD] = useState<{ totalCount: number; nodes: GroupRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    gql<{ findingGroups: { totalCount: number; nodes: GroupRow[] } }>(GROUPS_QUERY, { filter: gfilter })
      .then((r) => setD(r.findingGroups))
      .catch((e) => setError(String(e.message ?? e)));
  }, [JSON.stringify(gfilter)]);
  if (error) return <div class="error">{error}</div>;
  if (!d) return <p class="muted">Loading…</p>;
  return (
    <section data-testid="groups-view">
      <h1>Finding groups ({d.totalCount})</h1>
      <table class="rows" data-testid="groups-list">
        <thead><tr><th>Score</th><th>Severity</th><th>Title</th><th>Tactics</th><th>Findings</th><th>Accounts</th><th>Last seen</th></tr></thead>
        <tbody>
          {d.nodes.map((g) => (
            <tr data-testid="group-row" data-group-id={g.id} class="clickable" onClick={() => go(link('group', {}, g.id))}>
              <td>{g.score.toFixed(1)}</td>
              <td><SeverityBadge severity={g.severity} /></td>
              <td>{g.title}</td>
              <td>{g.tactics.slice().sort((a, b) => killChainIndex(a.id) - killChainIndex(b.id)).map((t) => t.name).join(' → ')}</td>
              <td>{g.findingCount}</td>
              <td>{g.accounts.length}</td>
              <td>{when(g.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
