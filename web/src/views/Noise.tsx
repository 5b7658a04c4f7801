// The noise view: suppression suggestions (the patterns that make the noise, ranked by findings
// removed, each with its dry run over the whole history), a dry run of any GuardDuty
// `findingCriteria` (prefilled from a suggestion, editable), and the suppression rules with their
// export as code (GuardDuty CreateFilter, Terraform, CloudFormation). A suggestion or dry run that
// would hide a High/Critical finding or a finding-group member says so loudly and is never shown
// as safe.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type {
  Account,
  SeverityCounts,
  SuppressionDryRun,
  SuppressionExportFormat,
  SuppressionRule,
  SuppressionSuggestion,
} from '../api';
import { ApiError, SUPPRESSION_EXPORT_FORMATS, gql } from '../api';
import { FilterBar } from '../components/FilterBar';
import type { ViewFilter } from '../filters';
import { toFindingFilter } from '../filters';
import { link } from '../route';
import { markReady } from '../perf';

const SEVERITY = 'bySeverity { low medium high critical }';

const SUGGESTIONS_QUERY = `
query Suggestions($filter: FindingFilter, $limit: Int) {
  suppressionSuggestions(filter: $filter, limit: $limit) {
    id description criteria findingCount ${SEVERITY} accounts
    hiddenHighOrAbove hiddenGroupMembers safe warning noiseShare
    sample(limit: 5) { id }
  }
}`;

const ACCOUNTS_QUERY = `query { accounts { id name criticality owner } }`;

const DRY_RUN_QUERY = `
query DryRun($criteria: JSON!) {
  dryRunSuppression(criteria: $criteria) {
    findingCount alreadyArchived ${SEVERITY} accounts
    byAccount { accountId findingCount ${SEVERITY} }
    hiddenHighOrAbove hiddenGroupMembers
    hidden { id accountId type severity reason }
    safe warning noiseShare noiseRemoved noiseTotal scanned
    sample(limit: 5) { id }
  }
}`;

const RULES_QUERY = `query { suppressionRules { id name description origin region action rank } }`;

const EXPORT_QUERY = `
query Export($format: SuppressionExportFormat!) {
  suppressionRules { id export(format: $format) }
}`;

/** How many suggestions to ask for. */
const LIMIT = 10;

/** An error as shown: the stable code and the message. */
interface Shown {
  code: string;
  message: string;
}

function shown(e: unknown): Shown {
  if (e instanceof ApiError) return { code: e.code, message: e.message };
  return { code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
}

function ErrorBox(props: { error: Shown; testid: string; onRetry?: () => void }) {
  return (
    <div class="error" data-testid={props.testid} data-code={props.error.code}>
      <strong>{props.error.code}</strong>: {props.error.message}
      {props.onRetry && (
        <>
          {' '}
          <button type="button" onClick={props.onRetry} data-testid={`${props.testid}-retry`}>
            Retry
          </button>
        </>
      )}
    </div>
  );
}

function Severities(props: { counts: SeverityCounts }) {
  const c = props.counts;
  return (
    <span class="sev-counts" data-testid="sev-counts">
      {(['critical', 'high', 'medium', 'low'] as const).map((k) =>
        c[k] > 0 ? (
          <span class={`sev sev-${k}`} data-sev={k} data-value={c[k]} title={`${k}: ${c[k]}`}>
            {k.charAt(0).toUpperCase() + k.slice(1)} {c[k]}
          </span>
        ) : null,
      )}
    </span>
  );
}

/** The loud warnings of a suggestion or dry run that hides High/Critical findings or group members. */
function Hides(props: { high: number; members: number; warning?: string | null }) {
  if (props.high === 0 && props.members === 0) return null;
  return (
    <div class="hides" data-testid="hides-warning" role="alert">
      {props.high > 0 && (
        <div data-testid="hides-high" data-value={props.high}>
          ⚠ hides {props.high} High/Critical finding{props.high === 1 ? '' : 's'}
        </div>
      )}
      {props.members > 0 && (
        <div data-testid="hides-members" data-value={props.members}>
          ⚠ hides {props.members} finding-group member{props.members === 1 ? '' : 's'}
        </div>
      )}
      {props.warning && <div class="hides-detail">{props.warning}</div>}
    </div>
  );
}

function SampleIds(props: { ids: { id: string }[] }) {
  if (props.ids.length === 0) return <span class="muted">none</span>;
  return (
    <span data-testid="sample">
      {props.ids.map((s, i) => (
        <>
          {i > 0 && ' '}
          <a href={link('finding', {}, s.id)} data-testid="sample-id">
            <code>{s.id.slice(0, 12)}</code>
          </a>
        </>
      ))}
    </span>
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pretty = (v: unknown) => JSON.stringify(v, null, 2);

function Suggestions(props: {
  filter: ViewFilter;
  selected: string | null;
  onTry: (s: SuppressionSuggestion) => void;
}) {
  const gfilter = useMemo(() => toFindingFilter(props.filter), [JSON.stringify(props.filter)]);
  const [data, setData] = useState<SuppressionSuggestion[] | null>(null);
  const [error, setError] = useState<Shown | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [open, setOpen] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    setData(null);
    gql<{ suppressionSuggestions: SuppressionSuggestion[] }>(SUGGESTIONS_QUERY, { filter: gfilter, limit: LIMIT })
      .then((d) => {
        if (!live) return;
        setData(d.suppressionSuggestions);
        markReady('noise');
      })
      .catch((e) => live && setError(shown(e)));
    return () => {
      live = false;
    };
  }, [JSON.stringify(gfilter), attempt]);

  return (
    <section class="panel wide" data-testid="suggestions">
      <header>
        <h2>Suppression suggestions: the patterns that make the noise, most findings removed first</h2>
      </header>
      {error && <ErrorBox error={error} testid="suggestions-error" onRetry={() => setAttempt((a) => a + 1)} />}
      {!data && !error && <p class="muted">Finding the noise patterns and dry-running each over the whole history…</p>}
      {data && data.length === 0 && (
        <p class="muted" data-testid="suggestions-empty">
          No recurring Low/Medium pattern in this filter.
        </p>
      )}
      {data && data.length > 0 && (
        <table class="rows" data-testid="suggestions-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Pattern</th>
              <th>Findings archived</th>
              <th>By severity</th>
              <th>Accounts</th>
              <th>Safety</th>
              <th>Sample</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((s, i) => {
              const unsafe = s.hiddenHighOrAbove > 0 || s.hiddenGroupMembers > 0 || !s.safe;
              return (
                <>
                  <tr
                    data-testid="suggestion"
                    data-id={s.id}
                    data-count={s.findingCount}
                    data-safe={unsafe ? '0' : '1'}
                    class={`${unsafe ? 'unsafe' : ''} ${props.selected === s.id ? 'selected' : ''}`}
                  >
                    <td>{i + 1}</td>
                    <td>
                      {s.description}
                      <div>
                        <button
                          type="button"
                          class="link"
                          data-testid="suggestion-criteria-toggle"
                          onClick={() => setOpen(open === s.id ? null : s.id)}
                        >
                          {open === s.id ? 'hide' : 'show'} findingCriteria
                        </button>
                      </div>
                    </td>
                    <td data-testid="suggestion-count">
                      <strong>{s.findingCount}</strong>
                      <div class="muted" title="Share of the current noise (Low/Medium, not archived) it removes">
                        {pct(s.noiseShare)} of noise
                      </div>
                    </td>
                    <td>
                      <Severities counts={s.bySeverity} />
                    </td>
                    <td title={s.accounts.join(', ')} data-testid="suggestion-accounts" data-value={s.accounts.length}>
                      {s.accounts.length}
                    </td>
                    <td>
                      {unsafe ? (
                        <Hides high={s.hiddenHighOrAbove} members={s.hiddenGroupMembers} warning={s.warning ?? 'not safe'} />
                      ) : (
                        <span class="safe" data-testid="suggestion-safe">
                          hides no High/Critical nor group member
                        </span>
                      )}
                    </td>
                    <td>
                      <SampleIds ids={s.sample} />
                    </td>
                    <td>
                      <button type="button" data-testid="suggestion-try" onClick={() => props.onTry(s)}>
                        Dry run…
                      </button>
                    </td>
                  </tr>
                  {open === s.id && (
                    <tr>
                      <td />
                      <td colSpan={7}>
                        <pre class="raw" data-testid="suggestion-criteria">
                          {pretty({ findingCriteria: s.criteria })}
                        </pre>
                      </td>
                    </tr>
                  )}
                </>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DryRun(props: { text: string; onText: (t: string) => void; from: string | null }) {
  const [result, setResult] = useState<SuppressionDryRun | null>(null);
  const [error, setError] = useState<Shown | null>(null);
  const [running, setRunning] = useState(false);
  // Finished runs (result or error), for tests to wait on.
  const [runs, setRuns] = useState(0);

  const run = async () => {
    setError(null);
    setResult(null);
    let criteria: unknown;
    try {
      criteria = JSON.parse(props.text);
    } catch (e) {
      setError({ code: 'INVALID_JSON', message: `the criteria are not valid JSON: ${e instanceof Error ? e.message : String(e)}` });
      setRuns((n) => n + 1);
      return;
    }
    // Accept a whole GuardDuty filter (`{"findingCriteria": {...}}`) as well as the criteria.
    if (criteria && typeof criteria === 'object' && !Array.isArray(criteria) && 'findingCriteria' in criteria) {
      criteria = (criteria as { findingCriteria: unknown }).findingCriteria;
    }
    setRunning(true);
    try {
      const d = await gql<{ dryRunSuppression: SuppressionDryRun }>(DRY_RUN_QUERY, { criteria });
      setResult(d.dryRunSuppression);
    } catch (e) {
      setError(shown(e));
    } finally {
      setRunning(false);
      setRuns((n) => n + 1);
    }
  };

  const r = result;
  const unsafe = r !== null && (r.hiddenHighOrAbove > 0 || r.hiddenGroupMembers > 0 || !r.safe);
  return (
    <section class="panel wide" data-testid="dryrun" data-runs={runs}>
      <header>
        <h2>Dry run: what a filter with these criteria would archive over the whole history</h2>
      </header>
      <p class="muted">
        GuardDuty <code>findingCriteria</code> JSON, e.g.{' '}
        <code>{'{"criterion": {"type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]}, "severity": {"lessThan": 4}}}'}</code>
        {props.from && (
          <>
            {' '}
            — prefilled from suggestion <code data-testid="dryrun-from">{props.from}</code>
          </>
        )}
      </p>
      <textarea
        class="criteria"
        data-testid="dryrun-criteria"
        rows={12}
        spellcheck={false}
        value={props.text}
        onInput={(e) => props.onText((e.target as HTMLTextAreaElement).value)}
      />
      <div>
        <button type="button" class="primary" data-testid="dryrun-run" disabled={running} onClick={run}>
          {running ? 'Running…' : 'Dry run'}
        </button>
      </div>
      {error && <ErrorBox error={error} testid="dryrun-error" />}
      {r && (
        <div class="dryrun-result" data-testid="dryrun-result" data-count={r.findingCount} data-safe={unsafe ? '0' : '1'}>
          {unsafe ? (
            <Hides high={r.hiddenHighOrAbove} members={r.hiddenGroupMembers} warning={r.warning ?? 'not safe'} />
          ) : (
            <p class="safe" data-testid="dryrun-safe">
              Hides no High/Critical finding and no finding-group member.
            </p>
          )}
          <div class="tiles">
            <div class="tile">
              <span class="tile-value" data-testid="dryrun-count">{r.findingCount}</span>
              <span class="tile-label">findings it would archive</span>
            </div>
            <div class="tile">
              <span class="tile-value" data-testid="dryrun-archived">{r.alreadyArchived}</span>
              <span class="tile-label">already archived</span>
            </div>
            <div class="tile" style={r.hiddenHighOrAbove > 0 ? 'border-top-color: #b00020' : undefined}>
              <span class="tile-value" data-testid="dryrun-hidden-high">{r.hiddenHighOrAbove}</span>
              <span class="tile-label">High/Critical hidden</span>
            </div>
            <div class="tile" style={r.hiddenGroupMembers > 0 ? 'border-top-color: #b00020' : undefined}>
              <span class="tile-value" data-testid="dryrun-hidden-members">{r.hiddenGroupMembers}</span>
              <span class="tile-label">group members hidden</span>
            </div>
            <div class="tile">
              <span class="tile-value">{pct(r.noiseShare)}</span>
              <span class="tile-label">
                of current noise ({r.noiseRemoved} of {r.noiseTotal})
              </span>
            </div>
          </div>
          <p>
            By severity: <Severities counts={r.bySeverity} /> · scanned {r.scanned} findings · sample:{' '}
            <SampleIds ids={r.sample} />
          </p>
          {r.hidden.length > 0 && (
            <table class="rows" data-testid="dryrun-hidden">
              <thead>
                <tr>
                  <th>Hidden finding</th>
                  <th>Account</th>
                  <th>Type</th>
                  <th>Severity</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {r.hidden.slice(0, 20).map((h) => (
                  <tr>
                    <td>
                      <a href={link('finding', {}, h.id)}>
                        <code>{h.id.slice(0, 12)}</code>
                      </a>
                    </td>
                    <td>{h.accountId}</td>
                    <td>
                      <code>{h.type}</code>
                    </td>
                    <td>{h.severity}</td>
                    <td class="warn">{h.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <table class="rows" data-testid="dryrun-accounts">
            <thead>
              <tr>
                <th>Account</th>
                <th>Findings</th>
                <th>By severity</th>
              </tr>
            </thead>
            <tbody>
              {r.byAccount.slice(0, 20).map((a) => (
                <tr data-testid="dryrun-account" data-account={a.accountId} data-count={a.findingCount}>
                  <td>{a.accountId}</td>
                  <td>{a.findingCount}</td>
                  <td>
                    <Severities counts={a.bySeverity} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {r.byAccount.length > 20 && <p class="muted">+{r.byAccount.length - 20} more accounts</p>}
        </div>
      )}
    </section>
  );
}

function RuleExport(props: { rule: SuppressionRule }) {
  const [format, setFormat] = useState<SuppressionExportFormat | ''>('');
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<Shown | null>(null);
  useEffect(() => {
    if (!format) return;
    let live = true;
    setText(null);
    setError(null);
    gql<{ suppressionRules: { id: string; export: string }[] }>(EXPORT_QUERY, { format })
      .then((d) => {
        if (!live) return;
        const r = d.suppressionRules.find((x) => x.id === props.rule.id);
        if (r) setText(r.export);
        else setError({ code: 'NOT_FOUND', message: `rule ${props.rule.name} is gone` });
      })
      .catch((e) => live && setError(shown(e)));
    return () => {
      live = false;
    };
  }, [format, props.rule.id]);
  return (
    <>
      <select
        data-testid="rule-export-format"
        value={format}
        onChange={(e) => setFormat((e.target as HTMLSelectElement).value as SuppressionExportFormat | '')}
      >
        <option value="">Export as…</option>
        {SUPPRESSION_EXPORT_FORMATS.map((f) => (
          <option value={f}>{f === 'GUARDDUTY' ? 'GuardDuty CreateFilter' : f === 'TERRAFORM' ? 'Terraform' : 'CloudFormation'}</option>
        ))}
      </select>
      {error && <ErrorBox error={error} testid="rule-export-error" />}
      {format && text !== null && (
        <pre class="raw" data-testid="rule-export">
          {text}
        </pre>
      )}
    </>
  );
}

function Rules() {
  const [rules, setRules] = useState<SuppressionRule[] | null>(null);
  const [error, setError] = useState<Shown | null>(null);
  useEffect(() => {
    gql<{ suppressionRules: SuppressionRule[] }>(RULES_QUERY)
      .then((d) => setRules(d.suppressionRules))
      .catch((e) => setError(shown(e)));
  }, []);
  return (
    <section class="panel wide" data-testid="rules">
      <header>
        <h2>Suppression rules: gdlens's own and those synced from GuardDuty</h2>
      </header>
      {error && <ErrorBox error={error} testid="rules-error" />}
      {!rules && !error && <p class="muted">Loading…</p>}
      {rules && rules.length === 0 && (
        <p class="muted" data-testid="rules-empty">
          No rule yet. Create one with <code>gdlens suppress add</code> or the <code>createSuppressionRule</code>{' '}
          mutation; filters already in GuardDuty appear after a sync.
        </p>
      )}
      {rules && rules.length > 0 && (
        <table class="rows" data-testid="rules-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Origin</th>
              <th>Region</th>
              <th>Action</th>
              <th>Rank</th>
              <th>As code</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr data-testid="rule" data-name={r.name}>
                <td>
                  {r.name}
                  {r.description && <div class="muted">{r.description}</div>}
                </td>
                <td>{r.origin}</td>
                <td>{r.region ?? <span class="muted">every configured region</span>}</td>
                <td>{r.action}</td>
                <td>{r.rank}</td>
                <td class="rule-export-cell">
                  <RuleExport rule={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Noise(props: { filter: ViewFilter; onFilter: (f: ViewFilter) => void }) {
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [text, setText] = useState('{\n  "criterion": {}\n}');
  const [from, setFrom] = useState<string | null>(null);
  useEffect(() => {
    gql<{ accounts: Account[] }>(ACCOUNTS_QUERY)
      .then((d) => setAccounts(d.accounts))
      .catch(() => {});
  }, []);
  const onTry = (s: SuppressionSuggestion) => {
    setText(pretty(s.criteria));
    setFrom(s.id);
    document.querySelector('[data-testid="dryrun"]')?.scrollIntoView({ behavior: 'smooth' });
  };
  return (
    <div class="noise" data-testid="noise">
      <FilterBar filter={props.filter} accounts={accounts} onChange={props.onFilter} />
      <Suggestions filter={props.filter} selected={from} onTry={onTry} />
      <DryRun text={text} onText={setText} from={from} />
      <Rules />
    </div>
  );
}
