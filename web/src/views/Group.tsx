// One finding group as a story: the kill-chain strip, the timeline, the entity graph, the member
// findings and related Detective investigations.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import { EntityGraph } from '../components/EntityGraph';
import type { GraphEdge, GraphNode } from '../components/EntityGraph';
import { KILL_CHAIN, killChainIndex } from '../killchain';
import { SeverityBadge, when } from '../format';
import { go, link } from '../route';
import { markReady } from '../perf';

const GROUP_QUERY = `
query Group($id: ID!) {
  findingGroup(id: $id) {
    id title severity score firstSeen lastSeen accounts regions source parents children findingCount
    triageStatus updatedAt
    tactics { id name }
    findings { id type title severity accountId region firstSeen lastSeen tactics { id name } }
    entities { kind value findingIds }
    timeline { at findingId label tactic { id name } }
    graph { nodes { id kind label } edges { source target } }
  }
}`;

const INVESTIGATIONS_QUERY = `
query Investigations($id: ID!) {
  findingGroup(id: $id) {
    investigations { id status severity state createdAt entityArn relatedFindingIds detectiveFindingGroups { id consoleUrl } }
  }
}`;

// The GuardDuty attack sequence behind an attack-sequence group (signal types and indicator keys
// are open sets: shown as sent).
const SEQUENCE_QUERY = `
query Sequence($id: ID!) {
  findingGroup(id: $id) {
    attackSequence {
      uid description additionalSequenceTypes
      signals { uid type name findingId severity count firstSeenAt }
      actors { id userName userType credentialUid accountId sessionUid processName }
      resources { uid name resourceType accountId region }
      endpoints { id ip domain country autonomousSystem }
      sequenceIndicators { key title values }
    }
  }
}`;

interface AttackSequence {
  uid?: string | null;
  description?: string | null;
  additionalSequenceTypes: string[];
  signals: { uid: string; type: string; name: string; findingId?: string | null; severity?: number | null; count?: number | null; firstSeenAt?: string | null }[];
  actors: { id: string; userName?: string | null; userType?: string | null; credentialUid?: string | null; accountId?: string | null; sessionUid?: string | null; processName?: string | null }[];
  resources: { uid: string; name?: string | null; resourceType?: string | null; accountId?: string | null; region?: string | null }[];
  endpoints: { id: string; ip?: string | null; domain?: string | null; country?: string | null; autonomousSystem?: string | null }[];
  sequenceIndicators: { key: string; title?: string | null; values: string[] }[];
}

interface GroupFull {
  id: string;
  title: string;
  severity: number;
  score: number;
  firstSeen: string;
  lastSeen: string;
  accounts: string[];
  regions: string[];
  source: string;
  parents: string[];
  children: string[];
  findingCount: number;
  triageStatus?: string;
  updatedAt?: string;
  tactics: { id: string; name: string }[];
  findings: { id: string; type: string; title: string; severity: number; accountId: string; region: string; firstSeen: string; lastSeen: string; tactics: { id: string; name: string }[] }[];
  entities: { kind: string; value: string; findingIds: string[] }[];
  timeline: { at: string; findingId: string; label: string; tactic?: { id: string; name: string } | null }[];
  graph: { nodes: GraphNode[]; edges: GraphEdge[] };
}

interface Investigation {
  id: string;
  status?: string;
  severity?: string;
  state?: string;
  createdAt?: string;
  entityArn?: string;
  relatedFindingIds?: string[];
  detectiveFindingGroups?: { id: string; consoleUrl: string }[];
}

export function Group(props: { id: string }) {
  const [g, setG] = useState<GroupFull | null>(null);
  const [error, setError] = useState<string | null>(null);
  // undefined while loading, null when the server has no investigations.
  const [inv, setInv] = useState<Investigation[] | null | undefined>(undefined);
  const [seq, setSeq] = useState<AttackSequence | null>(null);

  useEffect(() => {
    let live = true;
    gql<{ findingGroup: GroupFull | null }>(GROUP_QUERY, { id: props.id })
      .then((d) => {
        if (!live) return;
        if (!d.findingGroup) setError(`No finding group with id ${props.id}`);
        setG(d.findingGroup);
        markReady('group');
        if (d.findingGroup?.source === 'attack_sequence') {
          gql<{ findingGroup: { attackSequence: AttackSequence | null } | null }>(SEQUENCE_QUERY, { id: props.id })
            .then((r) => live && setSeq(r.findingGroup?.attackSequence ?? null))
            .catch(() => live && setSeq(null));
        }
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    // Investigations are optional in the schema: ask only a server whose FindingGroup has them.
    gql<{ __type: { fields: { name: string }[] } | null }>('{ __type(name: "FindingGroup") { fields { name } } }')
      .then((t) =>
        t.__type?.fields.some((f) => f.name === 'investigations')
          ? gql<{ findingGroup: { investigations: Investigation[] } | null }>(INVESTIGATIONS_QUERY, { id: props.id }).then(
              (d) => live && setInv(d.findingGroup?.investigations ?? []),
            )
          : live && setInv(null),
      )
      .catch(() => live && setInv(null));
    return () => {
      live = false;
    };
  }, [props.id]);

  const nodes = useMemo(() => (g ? graphNodes(g) : []), [g]);

  if (error) return <div class="error" data-testid="group-error">{error}</div>;
  if (!g) return <p class="muted">Loading…</p>;

  const present = new Set(g.tactics.map((t) => t.id));
  const accountOf = new Map(g.findings.map((f) => [f.id, f.accountId]));
  const flow = accountFlow(g);
  const tactics = g.tactics.slice().sort((a, b) => killChainIndex(a.id) - killChainIndex(b.id));
  const unknown = tactics.filter((t) => killChainIndex(t.id) >= KILL_CHAIN.length);

  return (
    <article class="group" data-testid="group-view" data-group-id={g.id}>
      <p>
        <a href={link('groups')}>← finding groups</a>
      </p>
      <h1 data-testid="group-title">{g.title}</h1>
      <p class="meta">
        <SeverityBadge severity={g.severity} /> score {g.score.toFixed(1)} · {g.findingCount} findings ·{' '}
        {g.accounts.join(', ')} · {g.regions.join(', ')} · {when(g.firstSeen)} → {when(g.lastSeen)} · {g.source}
        {g.triageStatus && <> · <span data-testid="group-triage">{g.triageStatus}</span></>}
        {g.updatedAt && <> · changed {when(g.updatedAt)}</>}
        {g.parents.length > 0 && <> · merged from {g.parents.map((p) => <a href={link('group', {}, p)}>{p}</a>)}</>}
        {g.children.length > 0 && <> · merged into {g.children.map((c) => <a href={link('group', {}, c)}>{c}</a>)}</>}
      </p>
      {flow.length > 1 && (
        <p class="account-flow" data-testid="group-account-flow">
          Across accounts:{' '}
          {flow.map((a, i) => (
            <>
              {i > 0 && ' → '}
              <code data-testid="flow-account">{a}</code>
            </>
          ))}
        </p>
      )}
      <ol class="killchain" data-testid="killchain">
        {KILL_CHAIN.map((t) => (
          <li
            class={present.has(t.id) ? 'on' : 'off'}
            data-testid={present.has(t.id) ? 'killchain-tactic' : 'killchain-step'}
            data-tactic-id={t.id}
          >
            {t.name}
          </li>
        ))}
        {unknown.map((t) => (
          <li class="on" data-testid="killchain-tactic" data-tactic-id={t.id}>{t.name}</li>
        ))}
      </ol>
      <div class="detail-grid">
        <section class="wide-section">
          <h2>Entity graph</h2>
          <EntityGraph
            nodes={nodes}
            edges={g.graph.edges}
            onFinding={(id) => go(link('finding', {}, id))}
          />
        </section>
        <section>
          <h2>Timeline</h2>
          <ol class="timeline" data-testid="group-timeline">
            {g.timeline.map((t) => (
              <li data-testid="timeline-event">
                <span class="muted">{when(t.at)}</span> {t.tactic && <span class="tactic">{t.tactic.name}</span>}{' '}
                <a href={link('finding', {}, t.findingId)}>{t.label}</a>{' '}
                <span class="muted" data-testid="timeline-account">{accountOf.get(t.findingId) ?? ''}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>
      <section>
        <h2>Member findings</h2>
        <table class="rows" data-testid="group-findings">
          <thead><tr><th>Severity</th><th>Type</th><th>Title</th><th>Account</th><th>Region</th><th>First seen</th><th>Tactics</th></tr></thead>
          <tbody>
            {g.findings.map((f) => (
              <tr data-testid="group-finding" class="clickable" onClick={() => go(link('finding', {}, f.id))}>
                <td><SeverityBadge severity={f.severity} /></td>
                <td><code>{f.type}</code></td>
                <td>{f.title}</td>
                <td>{f.accountId}</td>
                <td>{f.region}</td>
                <td>{when(f.firstSeen)}</td>
                <td>{f.tactics.map((t) => t.name).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Entities</h2>
        <ul class="entities" data-testid="group-entities">
          {g.entities.map((e) => (
            <li><b>{e.kind}</b> <code>{e.value}</code> <span class="muted">({e.findingIds.length} findings)</span></li>
          ))}
        </ul>
      </section>
      {seq && <SequenceView seq={seq} />}
      <section data-testid="group-investigations">
        <h2>Related Detective investigations</h2>
        {inv === undefined && <span class="muted">Loading…</span>}
        {inv === null && <p class="muted">Detective investigations are not available from this server.</p>}
        {inv && inv.length === 0 && <p class="muted">None.</p>}
        {inv && inv.length > 0 && (
          <ul>
            {inv.map((i) => (
              <li data-testid="investigation">
                {i.id} · {i.status} · {i.severity} · {i.state} · {when(i.createdAt)} · <code>{i.entityArn}</code>
                {(i.relatedFindingIds ?? []).length > 0 && (
                  <> · names {(i.relatedFindingIds ?? []).length} of these findings</>
                )}
                {(i.detectiveFindingGroups ?? []).map((d) => (
                  <>
                    {' '}
                    · <a href={d.consoleUrl} target="_blank" rel="noopener noreferrer" data-testid="detective-group-link">
                      Detective finding group {d.id}
                    </a>
                  </>
                ))}
              </li>
            ))}
          </ul>
        )}
      </section>
    </article>
  );
}

/** Accounts in the order the story reaches them (by each member's first seen). */
function accountFlow(g: GroupFull): string[] {
  const out: string[] = [];
  for (const f of g.findings.slice().sort((a, b) => a.firstSeen.localeCompare(b.firstSeen))) {
    if (!out.includes(f.accountId)) out.push(f.accountId);
  }
  return out;
}

/** GuardDuty's attack sequence: its signals, indicators, actors, resources and endpoints. */
function SequenceView(props: { seq: AttackSequence }) {
  const s = props.seq;
  return (
    <section data-testid="sequence-view">
      <h2>Attack sequence</h2>
      {s.description && <p>{s.description}</p>}
      {s.additionalSequenceTypes.length > 0 && <p class="muted">Also matches: {s.additionalSequenceTypes.join(', ')}</p>}
      <h3>Signals</h3>
      <table class="rows" data-testid="sequence-signals">
        <thead><tr><th>Type</th><th>Name</th><th>Severity</th><th>Count</th><th>First seen</th></tr></thead>
        <tbody>
          {s.signals.map((x) => (
            <tr data-testid="sequence-signal" data-signal-type={x.type}>
              <td><code>{x.type}</code></td>
              <td>{x.findingId ? <a href={link('finding', {}, x.findingId)}>{x.name}</a> : x.name}</td>
              <td>{x.severity ?? ''}</td>
              <td>{x.count ?? ''}</td>
              <td>{x.firstSeenAt ? when(x.firstSeenAt) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Indicators</h3>
      <ul data-testid="sequence-indicators">
        {s.sequenceIndicators.map((i) => (
          <li data-testid="sequence-indicator" data-key={i.key}>
            <b>{i.title ?? i.key}</b> <span class="muted">({i.key})</span>: {i.values.join(', ')}
          </li>
        ))}
      </ul>
      <h3>Actors</h3>
      <ul data-testid="sequence-actors">
        {s.actors.map((a) => (
          <li data-testid="sequence-actor">
            {a.userName ?? a.processName ?? a.id} {a.userType && <span class="muted">({a.userType})</span>}
            {a.credentialUid && <> · key <code>{a.credentialUid}</code></>}
            {a.accountId && <> · account {a.accountId}</>}
          </li>
        ))}
      </ul>
      <h3>Resources</h3>
      <ul>
        {s.resources.map((r) => (
          <li><code>{r.name ?? r.uid}</code> {r.resourceType && <span class="muted">{r.resourceType}</span>} {r.accountId ?? ''} {r.region ?? ''}</li>
        ))}
      </ul>
      <h3>Endpoints</h3>
      <ul data-testid="sequence-endpoints">
        {s.endpoints.map((e) => (
          <li data-testid="sequence-endpoint">
            <code>{e.ip ?? e.domain ?? e.id}</code> {e.country ?? ''} {e.autonomousSystem && <span class="muted">{e.autonomousSystem}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Graph nodes with findings labelled by their finding type's name (the API labels them by id). */
function graphNodes(g: GroupFull): GraphNode[] {
  const byId = new Map(g.findings.map((f) => [`finding:${f.id}`, f]));
  return g.graph.nodes.map((n) => {
    const f = byId.get(String(n.id));
    return f ? { ...n, label: f.type.split('/').pop() ?? f.type } : n;
  });
}
