// The organization-wide summary dashboard: the GuardDuty console's widgets over every account and
// region, with the filter bar, per-widget severity filters and drill-down into the findings view.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type {
  Account,
  AccountStat,
  FindingFilterInput,
  ResourceStat,
  SeverityLabel,
  SlaSummary,
  Summary,
  TypeStat,
} from '../api';
import { gql, SEVERITY_LABELS } from '../api';
import { Chart } from '../components/Chart';
import { FilterBar } from '../components/FilterBar';
import type { ViewFilter } from '../filters';
import { filterToParams, labelsFrom, toFindingFilter } from '../filters';
import { age, labelName, SEVERITY_COLORS, SeverityBadge, when } from '../format';
import { go, link } from '../route';
import { markReady } from '../perf';
import { useLiveVersion } from '../live';

const SUMMARY_QUERY = `
query Dashboard($filter: FindingFilter) {
  summary(filter: $filter) {
    total
    bySeverity { low medium high critical }
    accountsAffected
    resourcesAffected
    attackSequences
    severityTrend { date low medium high critical }
    topFindingTypes(limit: 10) { type count maxSeverity accounts lastSeen }
    newTypes { type accountId firstSeen }
    findingGroups
    coverage { regions sync { region lastSuccessAt lastErrorCode findingsSynced dataAgeSeconds } }
  }
  accounts { id name criticality owner }
}`;

const ACCOUNTS_QUERY = `
query TopAccounts($filter: FindingFilter) {
  summary(filter: $filter) { topAccounts(limit: 10) { accountId name criticality count } }
}`;
const RESOURCES_QUERY = `
query TopResources($filter: FindingFilter) {
  summary(filter: $filter) { topResources(limit: 10) { resourceKey resourceType accountId count distinctTypes maxSeverity } }
}`;
const LEAST_QUERY = `
query LeastFrequent($filter: FindingFilter) {
  summary(filter: $filter) { leastFrequentTypes(limit: 10) { type count maxSeverity lastSeen } }
}`;
const SLA_QUERY = `
query Sla($filter: FindingFilter) {
  summary(filter: $filter) {
    sla {
      overdue open asOf
      bySeverity { low medium high critical }
      targetHours { low medium high critical }
      oldestOpen { id type accountId severity createdAt }
    }
  }
}`;
interface DashboardData {
  summary: Summary & { findingGroups: number; coverage: { regions: string[]; sync: RegionSync[] } };
  accounts: Account[];
}

/** Drill into the findings view with the dashboard's filter plus `extra`. */
function drill(base: ViewFilter, extra: Partial<ViewFilter>) {
  go(link('findings', filterToParams({ ...base, ...extra })));
}

export function Dashboard(props: { filter: ViewFilter; onFilter: (f: ViewFilter) => void }) {
  const { filter } = props;
  const gfilter = useMemo(() => toFindingFilter(filter), [JSON.stringify(filter)]);
  const [data, setData] = useState<DashboardData | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Re-load when findings change on the server (live updates).
  const liveVersion = useLiveVersion();

  useEffect(() => {
    let live = true;
    setError(null);
    gql<DashboardData>(SUMMARY_QUERY, { filter: gfilter })
      .then((d) => {
        if (!live) return;
        setData(d);
        markReady('dashboard');
        document.body.dataset.dashboardLiveVersion = String(liveVersion);
      })
      .catch((e) => live && setError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [JSON.stringify(gfilter), liveVersion]);

  const accounts = data?.accounts ?? [];
  const s = data?.summary;

  return (
    <div class="dashboard" data-testid="dashboard">
      <FilterBar filter={filter} accounts={accounts} regions={s?.coverage.regions} onChange={props.onFilter} />
      {s && <Coverage regions={s.coverage.regions} sync={s.coverage.sync} />}
      {error && (
        <div class="error" data-testid="dashboard-error">
          {error}
        </div>
      )}
      {s && (
        <>
          <section class="tiles" data-testid="tiles">
            <Tile id="total" label="Findings" value={s.total} onClick={() => drill(filter, {})} />
            {SEVERITY_LABELS.slice()
              .reverse()
              .map((l) => (
                <Tile
                  id={`sev-${l.toLowerCase()}`}
                  label={labelName(l)}
                  value={s.bySeverity[l.toLowerCase() as 'low']}
                  color={SEVERITY_COLORS[l]}
                  onClick={() => drill(filter, { severities: [l] })}
                />
              ))}
            <Tile id="accounts" label="Accounts affected" value={s.accountsAffected} />
            <Tile id="resources" label="Resources affected" value={s.resourcesAffected} />
            <Tile
              id="attack-sequences"
              label="Attack sequences"
              value={s.attackSequences}
              onClick={() => drill(filter, { typePrefix: 'AttackSequence:' })}
            />
            <Tile
              id="groups"
              label="Finding groups"
              value={s.findingGroups}
              onClick={() => go(link('groups', filterToParams(filter)))}
            />
          </section>
          <div class="grid">
            <Panel title="Findings by severity per day" testid="widget-trend" wide>
              <TrendChart summary={s} onPick={(date, label) => {
                const since = `${date}T00:00:00.000Z`;
                const before = new Date(Date.parse(since) + 86_400_000).toISOString();
                drill(filter, { since, before, range: 'all', severities: [label] });
              }} />
            </Panel>
            <Panel title="Most common finding types" testid="widget-top-types">
              <TypeChart types={s.topFindingTypes} onPick={(t) => drill(filter, { types: [t] })} />
            </Panel>
            <SlaWidget filter={filter} gfilter={gfilter} />
            <AccountsWidget filter={filter} gfilter={gfilter} accounts={accounts} />
            <ResourcesWidget filter={filter} gfilter={gfilter} />
            <LeastFrequentWidget filter={filter} gfilter={gfilter} />
            <Panel title="New finding types in the period" testid="widget-new-types">
              {!gfilter.updatedSince ? (
                <p class="muted">Choose a time range to see types new in that period.</p>
              ) : (
                <Table
                  testid="new-types"
                  rows={s.newTypes}
                  cols={['Finding type', 'Account', 'First seen']}
                  cells={(r) => [r.type, r.accountId, when(r.firstSeen)]}
                  onPick={(r) => drill(filter, { types: [r.type], accounts: [r.accountId] })}
                />
              )}
            </Panel>
          </div>
        </>
      )}
      {!s && !error && <p class="muted" data-testid="dashboard-loading">Loading…</p>}
    </div>
  );
}

function Tile(props: { id: string; label: string; value: number; color?: string; onClick?: () => void }) {
  return (
    <button
      class={`tile${props.onClick ? ' clickable' : ''}`}
      data-testid={`tile-${props.id}`}
      data-value={String(props.value)}
      onClick={props.onClick}
      disabled={!props.onClick}
      style={props.color ? { borderTopColor: props.color } : undefined}
    >
      <span class="tile-value">{props.value.toLocaleString('en-US')}</span>
      <span class="tile-label">{props.label}</span>
    </button>
  );
}

function Panel(props: { title: string; testid: string; wide?: boolean; children: unknown; extra?: unknown }) {
  return (
    <section class={`panel${props.wide ? ' wide' : ''}`} data-testid={props.testid}>
      <header>
        <h2>{props.title}</h2>
        {props.extra}
      </header>
      {props.children as never}
    </section>
  );
}

/** A small table whose rows drill down on click. */
function Table<R>(props: {
  testid: string;
  rows: R[];
  cols: string[];
  cells: (r: R) => unknown[];
  onPick: (r: R) => void;
}) {
  if (props.rows.length === 0) return <p class="muted" data-testid={`${props.testid}-empty`}>Nothing in this filter.</p>;
  return (
    <table class="rows" data-testid={props.testid}>
      <thead>
        <tr>{props.cols.map((c) => <th>{c}</th>)}</tr>
      </thead>
      <tbody>
        {props.rows.map((r, i) => (
          <tr data-testid={`${props.testid}-row`} data-index={i} class="clickable" onClick={() => props.onPick(r)}>
            {props.cells(r).map((c) => <td>{c as never}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The severity floor selector of a widget (the console's per-widget severity filter). */
function SeveritySelect(props: {
  value: SeverityLabel;
  onChange: (l: SeverityLabel) => void;
  testid: string;
  from?: SeverityLabel;
}) {
  const labels = SEVERITY_LABELS.slice(SEVERITY_LABELS.indexOf(props.from ?? 'LOW'));
  return (
    <select
      data-testid={props.testid}
      value={props.value}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as SeverityLabel)}
    >
      {labels.map((l) => (
        <option value={l}>{l === 'LOW' ? 'All severities' : `${labelName(l)} and above`}</option>
      ))}
    </select>
  );
}

/** Fetches one widget's summary slice with the widget's own severity floor. */
function useWidget<T>(query: string, gfilter: FindingFilterInput, floor: SeverityLabel): T | null {
  const [d, setD] = useState<T | null>(null);
  useEffect(() => {
    let live = true;
    const f: FindingFilterInput = { ...gfilter };
    if (floor !== 'LOW') {
      const allowed = labelsFrom(floor);
      f.severityLabels = gfilter.severityLabels ? gfilter.severityLabels.filter((l) => allowed.includes(l)) : allowed;
    }
    gql<{ summary: T }>(query, { filter: f })
      .then((r) => live && setD(r.summary))
      .catch(() => live && setD(null));
    return () => {
      live = false;
    };
  }, [query, JSON.stringify(gfilter), floor]);
  return d;
}

function widgetSeverities(filter: ViewFilter, floor: SeverityLabel): SeverityLabel[] {
  const allowed = labelsFrom(floor);
  return filter.severities.length ? filter.severities.filter((l) => allowed.includes(l)) : floor === 'LOW' ? [] : allowed;
}

function AccountsWidget(props: { filter: ViewFilter; gfilter: FindingFilterInput; accounts: Account[] }) {
  const [floor, setFloor] = useState<SeverityLabel>('HIGH');
  const d = useWidget<{ topAccounts: AccountStat[] }>(ACCOUNTS_QUERY, props.gfilter, floor);
  return (
    <Panel
      title="Accounts with the most findings"
      testid="widget-top-accounts"
      extra={<SeveritySelect testid="top-accounts-severity" value={floor} onChange={setFloor} />}
    >
      {d && (
        <Table
          testid="top-accounts"
          rows={d.topAccounts}
          cols={['Account', 'Criticality', 'Findings']}
          cells={(r) => [
            <span title={r.accountId}>{r.name || r.accountId}</span>,
            <span class={`crit crit-${r.criticality.toLowerCase()}`}>{r.criticality.toLowerCase()}</span>,
            r.count,
          ]}
          onPick={(r) => drill(props.filter, { accounts: [r.accountId], severities: widgetSeverities(props.filter, floor) })}
        />
      )}
    </Panel>
  );
}

function ResourcesWidget(props: { filter: ViewFilter; gfilter: FindingFilterInput }) {
  const [floor, setFloor] = useState<SeverityLabel>('HIGH');
  const d = useWidget<{ topResources: ResourceStat[] }>(RESOURCES_QUERY, props.gfilter, floor);
  return (
    <Panel
      title="Resources with the most findings"
      testid="widget-top-resources"
      extra={<SeveritySelect testid="top-resources-severity" value={floor} onChange={setFloor} />}
    >
      {d && (
        <Table
          testid="top-resources"
          rows={d.topResources}
          cols={['Resource', 'Type', 'Account', 'Findings', 'Types', 'Max']}
          cells={(r) => [
            <code>{r.resourceKey}</code>,
            r.resourceType,
            r.accountId,
            r.count,
            r.distinctTypes,
            <SeverityBadge severity={r.maxSeverity} />,
          ]}
          onPick={(r) =>
            drill(props.filter, {
              resourceKey: r.resourceKey,
              accounts: [r.accountId],
              severities: widgetSeverities(props.filter, floor),
            })
          }
        />
      )}
    </Panel>
  );
}

/** "1 d", "30 d", "12 h": an SLA target in hours. */
function hours(h: number): string {
  return h % 24 === 0 ? `${h / 24} d` : `${h} h`;
}

/** SLA aging: open findings past their target per severity, and the one that has waited longest. */
function SlaWidget(props: { filter: ViewFilter; gfilter: FindingFilterInput }) {
  const d = useWidget<{ sla: SlaSummary }>(SLA_QUERY, props.gfilter, 'LOW');
  const sla = d?.sla;
  return (
    <Panel title="SLA: overdue findings" testid="widget-sla">
      {sla && (
        <>
          <div class="sla-tiles">
            <Tile
              id="sla-overdue"
              label={`Overdue of ${sla.open.toLocaleString('en-US')} open`}
              value={sla.overdue}
              color="#b00020"
              onClick={() => drill(props.filter, { overdue: true })}
            />
            {SEVERITY_LABELS.slice()
              .reverse()
              .map((l) => {
                const k = l.toLowerCase() as 'low';
                return (
                  <Tile
                    id={`sla-${k}`}
                    label={`${labelName(l)} (target ${hours(sla.targetHours[k])})`}
                    value={sla.bySeverity[k]}
                    color={SEVERITY_COLORS[l]}
                    onClick={() => drill(props.filter, { overdue: true, severities: [l] })}
                  />
                );
              })}
          </div>
          {sla.oldestOpen ? (
            <p data-testid="sla-oldest" data-id={sla.oldestOpen.id}>
              Oldest open: <a href={link('finding', {}, sla.oldestOpen.id)}><code>{sla.oldestOpen.type}</code></a>{' '}
              <SeverityBadge severity={sla.oldestOpen.severity} /> in {sla.oldestOpen.accountId}, waiting{' '}
              {age(sla.oldestOpen.createdAt)} (since {when(sla.oldestOpen.createdAt)})
            </p>
          ) : (
            <p class="muted" data-testid="sla-oldest-none">Nothing open in this filter.</p>
          )}
        </>
      )}
    </Panel>
  );
}

function LeastFrequentWidget(props: { filter: ViewFilter; gfilter: FindingFilterInput }) {
  const [floor, setFloor] = useState<SeverityLabel>('HIGH');
  const d = useWidget<{ leastFrequentTypes: TypeStat[] }>(LEAST_QUERY, props.gfilter, floor);
  return (
    <Panel
      title="Least frequent finding types"
      testid="widget-least-frequent"
      extra={<SeveritySelect testid="least-frequent-severity" value={floor} onChange={setFloor} from="HIGH" />}
    >
      {d && (
        <Table
          testid="least-frequent"
          rows={d.leastFrequentTypes}
          cols={['Finding type', 'Findings', 'Max', 'Last seen']}
          cells={(r) => [r.type, r.count, <SeverityBadge severity={r.maxSeverity} />, when(r.lastSeen)]}
          onPick={(r) => drill(props.filter, { types: [r.type], severities: widgetSeverities(props.filter, floor) })}
        />
      )}
    </Panel>
  );
}

function TrendChart(props: { summary: Summary; onPick: (date: string, label: SeverityLabel) => void }) {
  const trend = props.summary.severityTrend;
  const option = useMemo(
    () => ({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 10, top: 30, bottom: 30 },
      xAxis: { type: 'category', data: trend.map((p) => p.date) },
      yAxis: { type: 'value' },
      series: SEVERITY_LABELS.map((l) => ({
        name: labelName(l),
        type: 'bar',
        stack: 'severity',
        itemStyle: { color: SEVERITY_COLORS[l] },
        data: trend.map((p) => p[l.toLowerCase() as 'low']),
      })),
    }),
    [trend],
  );
  return (
    <Chart
      testid="trend-chart"
      height={260}
      option={option}
      onClick={(c) => props.onPick(trend[c.dataIndex].date, (c.seriesName ?? 'Low').toUpperCase() as SeverityLabel)}
    />
  );
}

function TypeChart(props: { types: TypeStat[]; onPick: (t: string) => void }) {
  const types = props.types.slice().reverse();
  const option = useMemo(
    () => ({
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 10, right: 30, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: types.map((t) => t.type), axisLabel: { width: 260, overflow: 'truncate' } },
      series: [{ type: 'bar', name: 'Findings', data: types.map((t) => t.count), itemStyle: { color: '#3f6fb0' } }],
    }),
    [props.types],
  );
  return (
    <>
      <Chart testid="top-types-chart" height={Math.max(160, 28 * types.length + 40)} option={option} onClick={(c) => props.onPick(types[c.dataIndex].type)} />
      <table class="rows" data-testid="top-types">
        <thead>
          <tr><th>Finding type</th><th>Findings</th><th>Accounts</th><th>Max</th><th>Last seen</th></tr>
        </thead>
        <tbody>
          {props.types.map((t) => (
            <tr data-testid="top-types-row" data-type={t.type} data-count={t.count} class="clickable" onClick={() => props.onPick(t.type)}>
              <td><code>{t.type}</code></td>
              <td>{t.count}</td>
              <td>{t.accounts}</td>
              <td><SeverityBadge severity={t.maxSeverity} /></td>
              <td>{when(t.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

interface RegionSync {
  region: string;
  detectorId?: string | null;
  lastSuccessAt?: string | null;
  lastErrorCode?: string | null;
  findingsSynced: number;
  dataAgeSeconds?: number | null;
}

/** Coverage: the regions with findings, which regions are synced, and how old the data is. */
function Coverage(props: { regions: string[]; sync: RegionSync[] }) {
  const synced = props.sync.filter((r) => r.lastSuccessAt);
  const failing = props.sync.filter((r) => r.lastErrorCode);
  const ages = synced.map((r) => r.dataAgeSeconds).filter((a): a is number => a != null);
  const oldest = ages.length ? Math.max(...ages) : null;
  return (
    <div class="coverage" data-testid="coverage">
      <span data-testid="coverage-regions" data-value={props.regions.length} title={props.regions.join(', ')}>
        Findings from {props.regions.length} regions
      </span>
      <span data-testid="coverage-sync" data-value={synced.length}>
        {props.sync.length === 0
          ? 'No AWS sync configured (imported or demo data)'
          : `${synced.length} of ${props.sync.length} regions synced`}
        {failing.length > 0 && <span class="warn"> · {failing.length} failing ({failing.map((f) => f.region).join(', ')})</span>}
      </span>
      {props.sync.length > 0 && (
        <span data-testid="coverage-age">
          Data age: {oldest != null ? age(Date.now() - oldest * 1000) : 'never synced'} (oldest region)
        </span>
      )}
    </div>
  );
}
