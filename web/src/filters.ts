// The organization-wide filter bar (time range, accounts, regions, severity) and its mapping to
// the GraphQL `FindingFilter`. The same parameters travel in the URL so drill-downs keep them.

import type { FindingFilterInput, SeverityLabel } from './api';
import { SEVERITY_LABELS } from './api';

/** Time ranges the filter bar offers, in days (`all` = no time restriction). */
export const RANGES: { key: string; label: string; days: number | null }[] = [
  { key: '24h', label: 'Last 24 hours', days: 1 },
  { key: '7d', label: 'Last 7 days', days: 7 },
  { key: '30d', label: 'Last 30 days', days: 30 },
  { key: '90d', label: 'Last 90 days', days: 90 },
  { key: 'all', label: 'All time', days: null },
];

/** The filter parameters shared by dashboard drill-downs and the findings view. */
export interface ViewFilter {
  range: string;
  accounts: string[];
  regions: string[];
  severities: SeverityLabel[];
  types: string[];
  resourceKey?: string;
  /** Finding type prefix, e.g. `AttackSequence:`. */
  typePrefix?: string;
  /** Explicit period (a clicked trend day): ISO instants. */
  since?: string;
  before?: string;
  /** Only open findings past their SLA target (the dashboard's SLA widget drills with it). */
  overdue?: boolean;
}

const list = (v: string | null): string[] => (v ? v.split(',').filter(Boolean) : []);

/** Reads a ViewFilter from URL parameters. */
export function filterFromParams(p: URLSearchParams): ViewFilter {
  return {
    range: p.get('range') ?? 'all',
    accounts: list(p.get('accounts')),
    regions: list(p.get('regions')),
    severities: list(p.get('sev')).filter((s): s is SeverityLabel =>
      (SEVERITY_LABELS as string[]).includes(s),
    ),
    types: list(p.get('types')),
    resourceKey: p.get('resource') ?? undefined,
    typePrefix: p.get('typePrefix') ?? undefined,
    since: p.get('since') ?? undefined,
    before: p.get('before') ?? undefined,
    overdue: p.get('overdue') === '1' ? true : undefined,
  };
}

/** Writes a ViewFilter as URL parameters (defaults left out). */
export function filterToParams(f: ViewFilter): Record<string, string | undefined> {
  return {
    range: f.range === 'all' ? undefined : f.range,
    accounts: f.accounts.join(',') || undefined,
    regions: f.regions.join(',') || undefined,
    sev: f.severities.join(',') || undefined,
    types: f.types.join(',') || undefined,
    resource: f.resourceKey,
    typePrefix: f.typePrefix,
    since: f.since,
    before: f.before,
    overdue: f.overdue ? '1' : undefined,
  };
}

/** The GraphQL FindingFilter for a ViewFilter at time `nowMs`. */
export function toFindingFilter(f: ViewFilter, nowMs: number = Date.now()): FindingFilterInput {
  const out: FindingFilterInput = {};
  if (f.accounts.length) out.accountIds = f.accounts;
  if (f.regions.length) out.regions = f.regions;
  if (f.severities.length) out.severityLabels = f.severities;
  if (f.types.length) out.types = f.types;
  if (f.resourceKey) out.resourceKey = f.resourceKey;
  if (f.typePrefix) out.typePrefix = f.typePrefix;
  const days = RANGES.find((r) => r.key === f.range)?.days ?? null;
  if (f.since) out.updatedSince = f.since;
  else if (days !== null) out.updatedSince = new Date(nowMs - days * 86_400_000).toISOString();
  if (f.before) out.updatedBefore = f.before;
  if (f.overdue) out.overdue = true;
  return out;
}

/** The severity labels at or above a label (a widget's "High and above"). */
export function labelsFrom(min: SeverityLabel): SeverityLabel[] {
  return SEVERITY_LABELS.slice(SEVERITY_LABELS.indexOf(min));
}
