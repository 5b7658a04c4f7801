// One finding: what it is, why it scores as it does, every stored version, its triage and ticket
// links (with the actions to change them), and the original JSON.

import { useEffect, useState } from 'preact/hooks';
import type { ScoreFactor, TriageStatus } from '../api';
import { gql, TRIAGE_STATUSES } from '../api';
import { SeverityBadge, when } from '../format';
import { link } from '../route';

const FINDING_QUERY = `
query Finding($id: ID!) {
  finding(id: $id) {
    id arn accountId account { id name criticality owner } region type severity severityLabel title description
    createdAt updatedAt firstSeen lastSeen count archived resourceType resourceKey
    tactics { id name }
    score { value factors { name contribution } }
    group { id title }
    versions { updatedAt count severity }
    triage { status assignee note version updatedAt updatedBy }
    ticketLinks { system key url createdAt createdBy }
    raw
  }
}`;

const SET_TRIAGE = `
mutation SetTriage($ids: [ID!], $status: TriageStatus!, $assignee: String, $note: String, $expectedVersion: Int) {
  setTriage(findingIds: $ids, status: $status, assignee: $assignee, note: $note, expectedVersion: $expectedVersion) {
    status version
  }
}`;

const LINK_TICKET = `
mutation LinkTicket($ids: [ID!], $system: String!, $key: String!, $url: String) {
  linkTicket(findingIds: $ids, system: $system, key: $key, url: $url) { system key }
}`;

interface FindingFull {
  id: string;
  arn: string;
  accountId: string;
  account: { id: string; name: string; criticality: string; owner?: string };
  region: string;
  type: string;
  severity: number;
  title: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  archived: boolean;
  resourceType: string;
  resourceKey?: string | null;
  tactics: { id: string; name: string }[];
  score: { value: number; factors: ScoreFactor[] };
  group?: { id: string; title: string } | null;
  versions: { updatedAt: string; count: number; severity: number }[];
  triage: { status: TriageStatus; assignee?: string | null; note?: string | null; version: number; updatedAt?: string | null; updatedBy?: string | null };
  ticketLinks: { system: string; key: string; url?: string | null; createdAt: string; createdBy: string }[];
  raw?: string | null;
}

export function FindingDetail(props: { id: string }) {
  const [f, setF] = useState<FindingFull | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    gql<{ finding: FindingFull | null }>(FINDING_QUERY, { id: props.id })
      .then((d) => {
        if (!live) return;
        if (!d.finding) setError(`No finding with id ${props.id}`);
        setF(d.finding);
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [props.id, tick]);

  if (error) return <div class="error" data-testid="finding-error">{error}</div>;
  if (!f) return <p class="muted">Loading…</p>;

  const triage = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try {
      await gql(SET_TRIAGE, {
        ids: [f.id],
        status: form.get('status'),
        assignee: (form.get('assignee') as string) || null,
        note: (form.get('note') as string) || null,
        expectedVersion: f.triage.version,
      });
      setNotice('Triage saved');
      setTick(tick + 1);
    } catch (err) {
      setNotice(`Triage failed: ${(err as Error).message}`);
    }
  };
  const linkTicket = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try {
      await gql(LINK_TICKET, {
        ids: [f.id],
        system: form.get('system'),
        key: form.get('key'),
        url: (form.get('url') as string) || null,
      });
      setNotice('Ticket linked');
      setTick(tick + 1);
    } catch (err) {
      setNotice(`Linking failed: ${(err as Error).message}`);
    }
  };

  return (
    <article class="finding-detail" data-testid="finding-detail" data-finding-id={f.id}>
      <p>
        <a href="javascript:history.back()">← back</a>
      </p>
      <h1 data-testid="finding-title">{f.title}</h1>
      <p class="meta">
        <SeverityBadge severity={f.severity} /> <code data-testid="finding-type">{f.type}</code> ·{' '}
        {f.account.name || f.accountId} ({f.accountId}, {f.account.criticality}) · {f.region}
      </p>
      <p>{f.description}</p>
      {notice && <div class="notice" data-testid="finding-notice">{notice}</div>}
      <div class="detail-grid">
        <section>
          <h2>Facts</h2>
          <dl>
            <dt>Id</dt><dd><code data-testid="finding-id">{f.id}</code></dd>
            <dt>Resource</dt><dd>{f.resourceType} {f.resourceKey && <code>{f.resourceKey}</code>}</dd>
            <dt>First seen</dt><dd>{when(f.firstSeen)}</dd>
            <dt>Last seen</dt><dd>{when(f.lastSeen)}</dd>
            <dt>Updated</dt><dd>{when(f.updatedAt)}</dd>
            <dt>Count</dt><dd>{f.count}</dd>
            <dt>Archived</dt><dd>{f.archived ? 'yes' : 'no'}</dd>
            <dt>Tactics</dt><dd>{f.tactics.map((t) => t.name).join(' → ') || '—'}</dd>
            <dt>Group</dt>
            <dd>{f.group ? <a href={link('group', {}, f.group.id)} data-testid="finding-group-link">{f.group.title}</a> : '—'}</dd>
          </dl>
        </section>
        <section data-testid="finding-score">
          <h2>Priority {f.score.value.toFixed(1)}</h2>
          <ul class="factors">
            {f.score.factors.map((x) => (
              <li>
                {x.name}: <b>{x.contribution.toFixed(1)}</b>
              </li>
            ))}
          </ul>
        </section>
        <section data-testid="finding-triage">
          <h2>Triage</h2>
          <p>
            Status <b data-testid="triage-status">{f.triage.status}</b>
            {f.triage.assignee && <> · {f.triage.assignee}</>}
            {f.triage.updatedBy && <> · by {f.triage.updatedBy} {when(f.triage.updatedAt)}</>}
          </p>
          {f.triage.note && <p class="muted">{f.triage.note}</p>}
          <form onSubmit={triage} data-testid="triage-form">
            <select name="status" data-testid="triage-select">
              {TRIAGE_STATUSES.map((s) => (
                <option value={s} selected={s === f.triage.status}>{s}</option>
              ))}
            </select>
            <input name="assignee" placeholder="assignee" value={f.triage.assignee ?? ''} data-testid="triage-assignee" />
            <input name="note" placeholder="note" data-testid="triage-note" />
            <button type="submit" data-testid="triage-save">Save triage</button>
          </form>
        </section>
        <section data-testid="finding-tickets">
          <h2>Ticket links</h2>
          <ul>
            {f.ticketLinks.map((t) => (
              <li data-testid="ticket-link">
                {t.system} {t.url ? <a href={t.url}>{t.key}</a> : t.key} <span class="muted">({t.createdBy}, {when(t.createdAt)})</span>
              </li>
            ))}
          </ul>
          <form onSubmit={linkTicket} data-testid="ticket-form">
            <input name="system" placeholder="system (jira)" required data-testid="ticket-system" />
            <input name="key" placeholder="key (SEC-123)" required data-testid="ticket-key" />
            <input name="url" placeholder="url" data-testid="ticket-url" />
            <button type="submit" data-testid="ticket-save">Link ticket</button>
          </form>
        </section>
      </div>
      <section data-testid="finding-versions">
        <h2>Versions ({f.versions.length})</h2>
        <table class="rows">
          <thead><tr><th>Updated</th><th>Count</th><th>Severity</th></tr></thead>
          <tbody>
            {f.versions.map((v) => (
              <tr data-testid="version-row"><td>{when(v.updatedAt)}</td><td>{v.count}</td><td>{v.severity}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Raw JSON</h2>
        <pre class="raw" data-testid="finding-raw">{f.raw ? pretty(f.raw) : '—'}</pre>
      </section>
    </article>
  );
}

function pretty(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}
