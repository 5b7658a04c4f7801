// GraphQL client for gdlens serve: one POST per request to /graphql, typed results,
// errors surfaced with their stable `extensions.code`. Sends the session's bearer token (auth.ts);
// a 401 or an auth 403 tells the app to show the sign-in or "session expired" screen.

import { authHeaders, reportAuthFailure } from './auth';

/** A GraphQL error as the server returns it. */
export interface GraphQLErrorItem {
  message: string;
  extensions?: { code?: string };
  path?: (string | number)[];
}

/** Thrown when the server answers with errors or a non-2xx status. */
export class ApiError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
    this.name = 'ApiError';
  }
}

/** A server route's URL (same origin as the page, as `gdlens serve` serves both). */
export function apiUrl(path: string): string {
  return new URL(path, new URL('/', window.location.href)).toString();
}

/** Where the GraphQL endpoint lives. */
export const GRAPHQL_URL = apiUrl('graphql');

/** Runs one GraphQL operation and returns its `data`, or throws an ApiError. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  const sent = authHeaders();
  try {
    res = await fetch(GRAPHQL_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...sent,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(`cannot reach ${GRAPHQL_URL}: ${String(e)}`, 'NETWORK');
  }
  let body: { data?: T; errors?: GraphQLErrorItem[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`${GRAPHQL_URL} answered ${res.status} without JSON`, 'BAD_RESPONSE');
  }
  if (body.errors && body.errors.length > 0) {
    const first = body.errors[0];
    if (res.status === 401 || res.status === 403) reportAuthFailure(res.status, first.extensions?.code, first.message, 'authorization' in sent);
    throw new ApiError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR');
  }
  if (!res.ok || body.data === undefined) {
    throw new ApiError(`${GRAPHQL_URL} answered ${res.status}`, 'BAD_RESPONSE');
  }
  return body.data;
}

export type SeverityLabel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export const SEVERITY_LABELS: SeverityLabel[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
export type TriageStatus =
  | 'NEW'
  | 'ACKNOWLEDGED'
  | 'IN_PROGRESS'
  | 'RESOLVED'
  | 'SUPPRESSED'
  | 'FALSE_POSITIVE';
export const TRIAGE_STATUSES: TriageStatus[] = [
  'NEW',
  'ACKNOWLEDGED',
  'IN_PROGRESS',
  'RESOLVED',
  'SUPPRESSED',
  'FALSE_POSITIVE',
];

/** The GraphQL `FindingFilter` input (only the fields the frontend sets). */
export interface FindingFilterInput {
  accountIds?: string[];
  regions?: string[];
  severityMin?: number;
  severityLabels?: SeverityLabel[];
  types?: string[];
  typePrefix?: string;
  resourceTypes?: string[];
  resourceKey?: string;
  updatedSince?: string;
  updatedBefore?: string;
  search?: string;
  /** Open findings past their SLA target (true) or the others (false). */
  overdue?: boolean;
}

export interface SeverityCounts {
  low: number;
  medium: number;
  high: number;
  critical: number;
}

export interface TypeStat {
  type: string;
  count: number;
  maxSeverity: number;
  accounts?: number;
  lastSeen: string;
}

export interface ResourceStat {
  resourceKey: string;
  resourceType: string;
  accountId: string;
  count: number;
  distinctTypes: number;
  maxSeverity: number;
}

export interface AccountStat {
  accountId: string;
  name: string;
  criticality: string;
  count: number;
}

export interface Summary {
  total: number;
  bySeverity: SeverityCounts;
  accountsAffected: number;
  resourcesAffected: number;
  attackSequences: number;
  findingGroups?: number | null;
  severityTrend: ({ date: string } & SeverityCounts)[];
  topFindingTypes: TypeStat[];
  newTypes: { type: string; accountId: string; firstSeen: string }[];
}

/** `Summary.sla`: SLA aging of the summary's findings. */
export interface SlaSummary {
  overdue: number;
  open: number;
  bySeverity: SeverityCounts;
  targetHours: SeverityCounts;
  asOf: string;
  oldestOpen: { id: string; type: string; accountId: string; severity: number; createdAt: string } | null;
}

/** One finding type of the hardening view. */
export interface HardeningItem {
  findingType: string;
  whatToFix: string;
  count: number;
  maxSeverity: SeverityLabel;
  accountCount: number;
  accounts: string[];
  resourceCount: number;
  resources: { resourceKey: string; resourceType: string; accountId: string; count: number }[];
  before: number | null;
  after: number | null;
}

/** One suppression suggestion (`suppressionSuggestions`): a noise pattern and its dry run. */
export interface SuppressionSuggestion {
  id: string;
  description: string;
  /** GuardDuty `findingCriteria`. */
  criteria: unknown;
  findingCount: number;
  bySeverity: SeverityCounts;
  accounts: string[];
  hiddenHighOrAbove: number;
  hiddenGroupMembers: number;
  safe: boolean;
  warning: string | null;
  noiseShare: number;
  sample: { id: string }[];
}

/** What a GuardDuty filter with some criteria would archive (`dryRunSuppression`). */
export interface SuppressionDryRun {
  findingCount: number;
  alreadyArchived: number;
  bySeverity: SeverityCounts;
  accounts: string[];
  byAccount: { accountId: string; findingCount: number; bySeverity: SeverityCounts }[];
  hiddenHighOrAbove: number;
  hiddenGroupMembers: number;
  hidden: { id: string; accountId: string; type: string; severity: number; reason: string }[];
  safe: boolean;
  warning: string | null;
  noiseShare: number;
  noiseRemoved: number;
  noiseTotal: number;
  scanned: number;
  sample: { id: string }[];
}

export type SuppressionExportFormat = 'GUARDDUTY' | 'TERRAFORM' | 'CLOUDFORMATION';
export const SUPPRESSION_EXPORT_FORMATS: SuppressionExportFormat[] = ['GUARDDUTY', 'TERRAFORM', 'CLOUDFORMATION'];

/** A suppression rule: gdlens's own (`GDLENS`) or synced from GuardDuty (`GUARDDUTY`). */
export interface SuppressionRule {
  id: string;
  name: string;
  description: string | null;
  origin: string;
  region: string | null;
  action: string;
  rank: number;
}

export type CoverageState = 'COVERED' | 'PARTIAL' | 'NOT_ENABLED';

export interface CoverageCell {
  region: string;
  state: CoverageState;
  detectorPresent: boolean;
  relationshipStatus: string | null;
  plansDisabled: string[];
  gaps: { kind: 'NO_DETECTOR' | 'NOT_MEMBER' | 'NOT_ENABLED' | 'PLAN_OFF'; plan: string | null }[];
  checkedAt: string | null;
  lastSyncAt: string | null;
}

export interface CoverageMatrix {
  regions: { region: string; checkedAt: string; lastSyncAt: string | null; errorCode: string | null; error: string | null }[];
  accounts: {
    accountId: string;
    name: string | null;
    criticality: string;
    administrator: boolean;
    gapCount: number;
    cells: CoverageCell[];
  }[];
  totals: {
    accounts: number;
    regions: number;
    cells: number;
    covered: number;
    partial: number;
    notEnabled: number;
    gapsByPlan: { plan: string; cells: number }[];
  };
}

export interface Account {
  id: string;
  name: string;
  criticality: string;
  owner?: string;
}

export interface ScoreFactor {
  name: string;
  contribution: number;
}

export interface FindingRow {
  id: string;
  accountId: string;
  region: string;
  type: string;
  title: string;
  severity: number;
  severityLabel: SeverityLabel;
  updatedAt: string;
  resourceKey?: string | null;
  score?: { value: number; factors: ScoreFactor[] } | null;
}
