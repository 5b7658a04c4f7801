//! Issue 17 in GraphQL: suppression-rule suggestions, dry runs over the whole history, and the
//! suppression rules (gdlens's own and those synced from GuardDuty) with their export as code.
//!
//! Dry runs read every latest finding's GuardDuty JSON from the store (a streaming scan, on the
//! blocking pool, within the request's CPU budget) and evaluate the criteria with
//! `gdlens-suppress`, the same evaluator the AWS fixture archives with. A scoped caller's scan
//! skips every finding outside its accounts, so its counts are its accounts' counts only, and
//! its suggestions name only its accounts.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Json, Object, SimpleObject, ID};
use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingFilter, Scope};
use gdlens_suppress::{
    CandidateRuns, DryRun, DryRunReport, ExportFormat, FilterAction, FindingCriteria, Miner,
    SuggestOptions, Suggestion, SuppressionRule,
};
use serde_json::Value;

use super::summary::SeverityCountsGql;
use super::types::FindingGql;
use super::{blocking, budget, caller, compile, filter_of, search_hits, state, FindingFilterInput};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::limits::RequestBudget;
use crate::ports::SuppressionRuleRecord;
use crate::snapshot::Snapshot;
use crate::state::{now_ms, port_error, AppState};
use crate::view::ScopeView;

/// Default and largest number of suggestions.
pub const DEFAULT_SUGGESTIONS: usize = 10;
/// Largest `limit` of `suppressionSuggestions`.
pub const MAX_SUGGESTIONS: usize = 50;
/// Findings between two CPU-budget checks of a scan.
const BUDGET_EVERY: u64 = 2_048;

fn invalid(e: impl std::fmt::Display, code: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidCriteria, format!("{code}: {e}"))
}

/// Parses a client's `findingCriteria` (INVALID_CRITERIA with the precise code otherwise).
pub(crate) fn parse_criteria(v: &Value) -> ApiResult<FindingCriteria> {
    FindingCriteria::parse(v).map_err(|e| invalid(&e, e.code()))
}

/// Streams every latest finding the caller may see: its GuardDuty JSON, its index row (if the
/// snapshot has it) and whether it is a member of a finding group the caller sees.
fn scan_visible(
    st: &AppState,
    snap: &Snapshot,
    view: &ScopeView,
    scope: &Scope,
    budget: &RequestBudget,
    mut f: impl FnMut(&Value, Option<u32>, bool),
) -> ApiResult<()> {
    let mut seen = 0u64;
    let mut stopped: Option<ApiError> = None;
    let mut unreadable = 0u64;
    st.store
        .scan_latest_raw(&mut |id, raw| {
            seen += 1;
            // `checked_rem` rather than `is_multiple_of`: the MSRV (1.85) predates it.
            if seen.checked_rem(BUDGET_EVERY) == Some(0) {
                if let Err(e) = budget.check() {
                    stopped = Some(e);
                    return false;
                }
            }
            let Ok(json) = serde_json::from_str::<Value>(raw) else {
                unreadable += 1;
                return true;
            };
            let account = json.get("accountId").and_then(Value::as_str).unwrap_or("");
            if !scope.allows(account) {
                return true;
            }
            let row = snap.index.row_id(id);
            let in_group = row.is_some_and(|r| view.group_of(r).is_some());
            f(&json, row, in_group);
            true
        })
        .map_err(port_error)?;
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "findings whose stored JSON does not parse were skipped"
        );
    }
    match stopped {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A dry run of `criteria` over everything the caller sees.
pub(crate) fn dry_run(
    st: &AppState,
    snap: &Snapshot,
    view: &ScopeView,
    scope: &Scope,
    budget: &RequestBudget,
    criteria: FindingCriteria,
) -> ApiResult<DryRunReport> {
    let mut run = DryRun::new(criteria);
    scan_visible(st, snap, view, scope, budget, |json, _, in_group| {
        run.observe(json, in_group);
    })?;
    Ok(run.finish())
}

/// Suggestions mined from the findings matching `filter`, each dry-run over everything the
/// caller sees. For a scoped caller every criteria is narrowed to the accounts it touches.
fn suggestions(
    st: &AppState,
    snap: &Snapshot,
    view: &ScopeView,
    scope: &Scope,
    budget: &RequestBudget,
    filter: &gdlens_index::CompiledFilter<'_>,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let mut miner = Miner::new();
    scan_visible(st, snap, view, scope, budget, |json, row, in_group| {
        if row.is_some_and(|r| filter.matches(r)) {
            miner.observe(json, in_group);
        }
    })?;
    budget.check()?;
    let mut runs = CandidateRuns::new(miner.candidates(&SuggestOptions::default()));
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    scan_visible(st, snap, view, scope, budget, |json, _, in_group| {
        runs.observe(json, in_group);
    })?;
    let mut out = runs.rank(limit);
    if let Scope::Accounts(_) = scope {
        out.retain_mut(|s| {
            let accounts: Vec<String> = s
                .dry_run
                .by_account
                .iter()
                .map(|a| a.account_id.clone())
                .collect();
            s.restrict_to_accounts(&accounts).is_ok()
        });
    }
    Ok(out)
}

/// Findings one account would lose.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SuppressionAccountCount")]
pub struct AccountCountGql {
    /// Account.
    pub account_id: String,
    /// Findings archived.
    pub finding_count: u64,
    /// By severity.
    pub by_severity: SeverityCountsGql,
}

/// A High/Critical finding or group member a rule would hide.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SuppressionHiddenFinding")]
pub struct HiddenFindingGql {
    /// Finding id.
    pub id: ID,
    /// Account.
    pub account_id: String,
    /// Finding type.
    #[graphql(name = "type")]
    pub finding_type: String,
    /// Severity.
    pub severity: f64,
    /// `HIGH_OR_ABOVE`, `GROUP_MEMBER` or `HIGH_OR_ABOVE_GROUP_MEMBER`.
    pub reason: String,
}

fn severity_counts(c: &gdlens_suppress::SeverityCounts) -> SeverityCountsGql {
    SeverityCountsGql {
        low: c.low,
        medium: c.medium,
        high: c.high,
        critical: c.critical,
    }
}

/// What a suppression rule would archive over the whole history the caller sees.
pub struct DryRunGql {
    report: Arc<DryRunReport>,
    snapshot: Arc<Snapshot>,
    scope: Arc<Scope>,
}

#[Object(name = "SuppressionDryRun")]
impl DryRunGql {
    /// Findings (latest versions) the criteria match.
    async fn finding_count(&self) -> u64 {
        self.report.finding_count
    }
    /// Of those, already archived.
    async fn already_archived(&self) -> u64 {
        self.report.already_archived
    }
    /// By severity.
    async fn by_severity(&self) -> SeverityCountsGql {
        severity_counts(&self.report.by_severity)
    }
    /// The accounts it touches, most findings first.
    async fn accounts(&self) -> Vec<String> {
        account_ids(&self.report)
    }
    /// Findings per account and severity, most findings first.
    async fn by_account(&self) -> Vec<AccountCountGql> {
        self.report
            .by_account
            .iter()
            .map(|a| AccountCountGql {
                account_id: a.account_id.clone(),
                finding_count: a.finding_count,
                by_severity: severity_counts(&a.by_severity),
            })
            .collect()
    }
    /// High or Critical findings it would hide (0 for a safe rule).
    async fn hidden_high_or_above(&self) -> u64 {
        self.report.hidden_high_or_above
    }
    /// Finding-group members it would hide (0 for a safe rule).
    async fn hidden_group_members(&self) -> u64 {
        self.report.hidden_group_members
    }
    /// The first hidden High/Critical findings and group members (at most 100).
    async fn hidden(&self) -> Vec<HiddenFindingGql> {
        self.report
            .hidden
            .iter()
            .map(|h| HiddenFindingGql {
                id: ID(h.finding.id.clone()),
                account_id: h.finding.account_id.clone(),
                finding_type: h.finding.finding_type.clone(),
                severity: h.finding.severity,
                reason: serde_json::to_value(h.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            })
            .collect()
    }
    /// Hides no High/Critical finding and no group member.
    async fn safe(&self) -> bool {
        self.report.is_safe()
    }
    /// A loud warning when it is not safe.
    async fn warning(&self) -> Option<String> {
        warning(&self.report)
    }
    /// Share of the current noise (Low/Medium, not archived) it removes, 0 to 1.
    async fn noise_share(&self) -> f64 {
        self.report.noise_share()
    }
    /// Current noise it removes.
    async fn noise_removed(&self) -> u64 {
        self.report.noise_removed
    }
    /// Current noise in total.
    async fn noise_total(&self) -> u64 {
        self.report.noise_total
    }
    /// Findings scanned (the caller's whole history).
    async fn scanned(&self) -> u64 {
        self.report.scanned
    }
    /// Matching findings, most recent first.
    async fn sample(&self, #[graphql(default = 5)] limit: i32) -> Vec<FindingGql> {
        sample(&self.report, &self.snapshot, &self.scope, limit)
    }
}

fn account_ids(r: &DryRunReport) -> Vec<String> {
    r.by_account.iter().map(|a| a.account_id.clone()).collect()
}

fn warning(r: &DryRunReport) -> Option<String> {
    if r.is_safe() {
        return None;
    }
    Some(format!(
        "NOT SAFE: this rule would hide {} High/Critical finding(s) and {} finding-group member(s)",
        r.hidden_high_or_above, r.hidden_group_members
    ))
}

fn sample(r: &DryRunReport, snap: &Arc<Snapshot>, scope: &Scope, limit: i32) -> Vec<FindingGql> {
    let limit = limit.clamp(0, gdlens_suppress::dry_run::SAMPLE_LIMIT as i32) as usize;
    r.sample
        .iter()
        .filter_map(|f| snap.index.row_id(&f.id))
        .filter(|row| scope.allows(snap.index.account_id(*row)))
        .take(limit)
        .map(|row| FindingGql::new(snap, row, None, None))
        .collect()
}

/// A suggested suppression rule with its dry run.
pub struct SuggestionGql {
    suggestion: Suggestion,
    dry_run: DryRunGql,
}

#[Object(name = "SuppressionSuggestion")]
impl SuggestionGql {
    /// Stable id (a hash of the criteria).
    async fn id(&self) -> ID {
        ID(self.suggestion.id.clone())
    }
    /// One line for people.
    async fn description(&self) -> &str {
        &self.suggestion.description
    }
    /// GuardDuty `findingCriteria`.
    async fn criteria(&self) -> Json<Value> {
        Json(self.suggestion.criteria.clone())
    }
    /// Findings it would archive over the whole history.
    async fn finding_count(&self) -> u64 {
        self.dry_run.report.finding_count
    }
    /// By severity.
    async fn by_severity(&self) -> SeverityCountsGql {
        severity_counts(&self.dry_run.report.by_severity)
    }
    /// The accounts it touches, most findings first.
    async fn accounts(&self) -> Vec<String> {
        account_ids(&self.dry_run.report)
    }
    /// High or Critical findings it would hide.
    async fn hidden_high_or_above(&self) -> u64 {
        self.dry_run.report.hidden_high_or_above
    }
    /// Finding-group members it would hide.
    async fn hidden_group_members(&self) -> u64 {
        self.dry_run.report.hidden_group_members
    }
    /// Hides no High/Critical finding and no group member.
    async fn safe(&self) -> bool {
        self.suggestion.safe
    }
    /// A loud warning when it is not safe.
    async fn warning(&self) -> Option<String> {
        warning(&self.dry_run.report)
    }
    /// Share of the current noise it removes, 0 to 1.
    async fn noise_share(&self) -> f64 {
        self.dry_run.report.noise_share()
    }
    /// First seen of the findings the pattern was built from.
    async fn first_seen(&self) -> chrono::DateTime<chrono::Utc> {
        datetime(self.suggestion.first_seen)
    }
    /// Last seen of those findings.
    async fn last_seen(&self) -> chrono::DateTime<chrono::Utc> {
        datetime(self.suggestion.last_seen)
    }
    /// Matching findings, most recent first.
    async fn sample(&self, #[graphql(default = 5)] limit: i32) -> Vec<FindingGql> {
        sample(
            &self.dry_run.report,
            &self.dry_run.snapshot,
            &self.dry_run.scope,
            limit,
        )
    }
    /// The full dry run.
    async fn dry_run(&self) -> &DryRunGql {
        &self.dry_run
    }
}

fn datetime(ms: EpochMillis) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Formats a rule exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SuppressionExportFormat {
    /// GuardDuty `CreateFilter` request (JSON).
    Guardduty,
    /// Terraform `aws_guardduty_filter`.
    Terraform,
    /// CloudFormation `AWS::GuardDuty::Filter` (JSON template).
    Cloudformation,
}

impl From<SuppressionExportFormat> for ExportFormat {
    fn from(f: SuppressionExportFormat) -> Self {
        match f {
            SuppressionExportFormat::Guardduty => ExportFormat::Guardduty,
            SuppressionExportFormat::Terraform => ExportFormat::Terraform,
            SuppressionExportFormat::Cloudformation => ExportFormat::Cloudformation,
        }
    }
}

/// The pure rule of a stored record (criteria re-validated).
pub(crate) fn rule_of(r: &SuppressionRuleRecord) -> ApiResult<SuppressionRule> {
    let criteria: Value = serde_json::from_str(&r.criteria).map_err(ApiError::internal)?;
    Ok(SuppressionRule {
        name: r.name.clone(),
        description: r.description.clone(),
        action: if r.action == "NOOP" {
            FilterAction::Noop
        } else {
            FilterAction::Archive
        },
        rank: r.rank,
        criteria: FindingCriteria::parse(&criteria).map_err(ApiError::internal)?,
    })
}

/// A suppression rule: gdlens's own (every configured region) or synced from a GuardDuty
/// detector (one region).
pub struct SuppressionRuleGql {
    record: SuppressionRuleRecord,
}

impl SuppressionRuleGql {
    pub(crate) fn new(record: SuppressionRuleRecord) -> Self {
        SuppressionRuleGql { record }
    }
}

#[Object(name = "SuppressionRule")]
impl SuppressionRuleGql {
    /// Local id.
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }
    /// Filter name.
    async fn name(&self) -> &str {
        &self.record.name
    }
    /// Description.
    async fn description(&self) -> Option<&str> {
        self.record.description.as_deref()
    }
    /// `GDLENS` (written here) or `GUARDDUTY` (synced).
    async fn origin(&self) -> String {
        self.record.origin.to_ascii_uppercase()
    }
    /// Region of a synced filter; null for a gdlens rule (meant for every configured region).
    async fn region(&self) -> Option<&str> {
        Some(self.record.region.as_str()).filter(|r| !r.is_empty())
    }
    /// Detector of a synced filter.
    async fn detector_id(&self) -> Option<&str> {
        self.record.detector_id.as_deref()
    }
    /// `ARCHIVE` or `NOOP`.
    async fn action(&self) -> &str {
        &self.record.action
    }
    /// Rank among the detector's filters.
    async fn rank(&self) -> u32 {
        self.record.rank
    }
    /// GuardDuty `findingCriteria`.
    async fn criteria(&self) -> ApiResult<Json<Value>> {
        serde_json::from_str(&self.record.criteria)
            .map(Json)
            .map_err(ApiError::internal)
    }
    /// When created.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        datetime(self.record.created_at)
    }
    /// Who created it.
    async fn created_by(&self) -> &str {
        &self.record.created_by
    }
    /// The rule as code: a GuardDuty `CreateFilter` request, Terraform or CloudFormation.
    /// `detectorId` fills the detector (otherwise a placeholder, variable or parameter).
    async fn export(
        &self,
        format: SuppressionExportFormat,
        detector_id: Option<String>,
    ) -> ApiResult<String> {
        let rule = rule_of(&self.record)?;
        Ok(gdlens_suppress::export(
            &rule,
            format.into(),
            detector_id
                .as_deref()
                .or(self.record.detector_id.as_deref()),
        ))
    }
    /// What it archives over the whole history the caller sees.
    async fn dry_run(&self, ctx: &Context<'_>) -> async_graphql::Result<DryRunGql> {
        let rule = rule_of(&self.record)?;
        Ok(run_dry_run(ctx, rule.criteria).await?)
    }
}

/// Whether a scoped caller may see a rule: only rules limited (`accountId` equals) to its own
/// accounts; an org-wide rule's criteria may name other accounts' resources.
pub(crate) fn rule_visible(r: &SuppressionRuleRecord, scope: &Scope) -> bool {
    match scope {
        Scope::All => true,
        Scope::Accounts(_) => serde_json::from_str::<Value>(&r.criteria)
            .ok()
            .and_then(|c| c["criterion"]["accountId"]["equals"].as_array().cloned())
            .is_some_and(|ids| {
                !ids.is_empty()
                    && ids
                        .iter()
                        .all(|a| a.as_str().is_some_and(|a| scope.allows(a)))
            }),
    }
}

pub(crate) async fn run_dry_run(
    ctx: &Context<'_>,
    criteria: FindingCriteria,
) -> ApiResult<DryRunGql> {
    let st = state(ctx).clone();
    let c = caller(ctx);
    let snap = st.snapshot();
    let view = st.scope_view(&snap, c).await?;
    let scope = c.scope.clone();
    let (s2, snap2, scope2) = (st.clone(), snap.clone(), scope.clone());
    let report = blocking(budget(ctx), move |b| {
        dry_run(&s2, &snap2, &view, &scope2, b, criteria)
    })
    .await?;
    Ok(DryRunGql {
        report: Arc::new(report),
        snapshot: snap,
        scope,
    })
}

pub(crate) async fn run_suggestions(
    ctx: &Context<'_>,
    filter: Option<FindingFilterInput>,
    limit: Option<i32>,
) -> ApiResult<Vec<SuggestionGql>> {
    let limit = match limit {
        None => DEFAULT_SUGGESTIONS,
        Some(n) if n < 0 => return Err(ApiError::bad_input("limit", "must not be negative")),
        Some(n) if n as usize > MAX_SUGGESTIONS => {
            return Err(ApiError::bad_input(
                "limit",
                format!("at most {MAX_SUGGESTIONS}"),
            ))
        }
        Some(n) => n as usize,
    };
    let st = state(ctx).clone();
    let c: &Caller = caller(ctx);
    let snap = st.snapshot();
    let f: FindingFilter = filter_of(&filter)?;
    let view = st.scope_view(&snap, c).await?;
    let b = budget(ctx);
    let hits = search_hits(&st, &snap, c, &f, b.clone()).await?;
    let scope = c.scope.clone();
    let (s2, snap2, scope2) = (st.clone(), snap.clone(), scope.clone());
    let list = blocking(b, move |b| {
        let compiled = compile(&snap2, &f, &scope2, hits.as_ref());
        suggestions(&s2, &snap2, &view, &scope2, b, &compiled, limit)
    })
    .await?;
    Ok(list
        .into_iter()
        .map(|s| SuggestionGql {
            dry_run: DryRunGql {
                report: Arc::new(s.dry_run.clone()),
                snapshot: snap.clone(),
                scope: scope.clone(),
            },
            suggestion: s,
        })
        .collect())
}

pub(crate) async fn list_rules(ctx: &Context<'_>) -> ApiResult<Vec<SuppressionRuleGql>> {
    let st = state(ctx);
    let scope = caller(ctx).scope.clone();
    let rules = st.with_store(|s| s.suppression_rules()).await?;
    Ok(rules
        .into_iter()
        .filter(|r| rule_visible(r, &scope))
        .map(SuppressionRuleGql::new)
        .collect())
}

/// A new suppression rule.
#[derive(Debug, Clone, InputObject)]
pub struct SuppressionRuleInput {
    /// Filter name (3–64 letters, digits, `-`, `_`, `.`); an existing gdlens rule of that name
    /// is replaced.
    pub name: String,
    /// Description (at most 512 characters).
    pub description: Option<String>,
    /// GuardDuty `findingCriteria`.
    pub criteria: Json<Value>,
    /// Rank among the detector's filters (1–100).
    #[graphql(default = 1)]
    pub rank: u32,
}

/// Validates and stores a gdlens rule (the caller's role and scope were checked).
pub(crate) async fn create_rule(
    st: &Arc<AppState>,
    caller: &Caller,
    input: SuppressionRuleInput,
) -> ApiResult<SuppressionRuleGql> {
    let rule = SuppressionRule {
        name: input.name,
        description: input.description,
        action: FilterAction::Archive,
        rank: input.rank,
        criteria: parse_criteria(&input.criteria.0)?,
    };
    rule.validate().map_err(|e| invalid(&e, e.code()))?;
    let existing = st.with_store(|s| s.suppression_rules()).await?;
    let ours = existing
        .iter()
        .filter(|r| r.origin == gdlens_store::ORIGIN_GDLENS && r.name != rule.name)
        .count();
    if ours >= gdlens_suppress::MAX_FILTERS_PER_REGION {
        return Err(invalid(
            format!(
                "GuardDuty allows {} filters per region",
                gdlens_suppress::MAX_FILTERS_PER_REGION
            ),
            "RULE_LIMIT_EXCEEDED",
        ));
    }
    let record = SuppressionRuleRecord {
        id: 0,
        name: rule.name.clone(),
        description: rule.description.clone(),
        origin: gdlens_store::ORIGIN_GDLENS.into(),
        region: String::new(),
        detector_id: None,
        action: rule.action.as_str().into(),
        rank: rule.rank,
        criteria: rule.criteria.to_json().to_string(),
        created_at: 0,
        created_by: caller.name.clone(),
        updated_at: 0,
    };
    let actor = caller.name.clone();
    let stored = st
        .with_store(move |s| s.put_suppression_rule(&record, &actor, now_ms()))
        .await?;
    tracing::info!(target: "audit", actor = %caller.name, rule = %stored.name, id = stored.id,
                   "suppression rule saved");
    Ok(SuppressionRuleGql::new(stored))
}

/// Deletes a gdlens rule by id (synced rules are GuardDuty's: change them there).
pub(crate) async fn delete_rule(st: &Arc<AppState>, caller: &Caller, id: ID) -> ApiResult<bool> {
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("unknown suppression rule {}", id.0),
        )
    };
    let n: i64 = id.0.parse().map_err(|_| not_found())?;
    let rules = st.with_store(|s| s.suppression_rules()).await?;
    let rule = rules.iter().find(|r| r.id == n).ok_or_else(not_found)?;
    if rule.origin != gdlens_store::ORIGIN_GDLENS {
        return Err(ApiError::bad_input(
            "id",
            "a rule synced from GuardDuty is deleted in GuardDuty, not here",
        ));
    }
    let deleted = st.with_store(move |s| s.delete_suppression_rule(n)).await?;
    tracing::info!(target: "audit", actor = %caller.name, id = n, "suppression rule deleted");
    Ok(deleted)
}
