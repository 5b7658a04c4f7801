//! GraphQL output types.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Account, Finding};

use super::inputs::{SeverityLabelGql, TriageStatusGql};
use super::loaders::{
    AuditKey, DetailKey, RawKey, StoreLoader, TicketsKey, TriageKey, VersionsKey,
};
use super::{caller, state};
use crate::error::ApiError;
use crate::snapshot::Snapshot;
use gdlens_scoring::Weights;

/// Epoch ms as a DateTime.
pub fn dt(ms: EpochMillis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// An AWS account.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Account")]
pub struct AccountGql {
    /// 12-digit id.
    pub id: ID,
    /// Name (empty when not configured).
    pub name: String,
    /// `critical`, `high`, `medium`, `low`, `unknown`.
    pub criticality: String,
    /// Owning team.
    pub owner: String,
}

impl AccountGql {
    /// From a domain account.
    pub fn from_account(a: &Account) -> Self {
        AccountGql {
            id: ID(a.id.clone()),
            name: a.name.clone(),
            criticality: a.criticality.as_str().to_string(),
            owner: a.owner.clone(),
        }
    }

    /// An account known only by id.
    pub fn unknown(id: &str) -> Self {
        AccountGql {
            id: ID(id.to_string()),
            name: String::new(),
            criticality: "unknown".into(),
            owner: String::new(),
        }
    }
}

/// An ATT&CK tactic.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Tactic")]
pub struct TacticGql {
    /// `TA0001`.
    pub id: String,
    /// `Initial Access`.
    pub name: String,
}

impl From<&gdlens_groups::Tactic> for TacticGql {
    fn from(t: &gdlens_groups::Tactic) -> Self {
        TacticGql {
            id: t.id.to_string(),
            name: t.name.to_string(),
        }
    }
}

/// One factor of a priority score.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ScoreFactor")]
pub struct FactorGql {
    /// Factor name.
    pub name: String,
    /// Points contributed.
    pub contribution: f64,
}

/// A priority score with its explanation.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Score")]
pub struct ScoreGql {
    /// 0–100.
    pub value: f64,
    /// Per-factor contributions.
    pub factors: Vec<FactorGql>,
}

/// A short reference to a finding group.
#[derive(Debug, Clone, SimpleObject)]
pub struct GroupRef {
    /// Group id.
    pub id: ID,
    /// Title.
    pub title: String,
}

/// One stored version of a finding.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "FindingVersion")]
pub struct VersionGql {
    /// `updatedAt` of the version.
    pub updated_at: DateTime<Utc>,
    /// `service.count` of the version.
    pub count: u64,
    /// Severity of the version.
    pub severity: f64,
}

/// Triage state.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Triage")]
pub struct TriageGql {
    /// Finding id.
    pub finding_id: ID,
    /// Status.
    pub status: TriageStatusGql,
    /// Assignee.
    pub assignee: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Version for `expectedVersion` (0 = never triaged).
    pub version: i64,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed it.
    pub updated_by: Option<String>,
}

impl TriageGql {
    /// From a stored record, or the untouched default.
    pub fn from_record(id: &str, r: Option<&crate::ports::TriageRecord>) -> Self {
        match r {
            Some(r) => TriageGql {
                finding_id: ID(id.to_string()),
                status: r.status.into(),
                assignee: r.assignee.clone(),
                note: r.note.clone(),
                version: r.version,
                updated_at: r.updated_at.map(dt),
                updated_by: r.updated_by.clone(),
            },
            None => TriageGql {
                finding_id: ID(id.to_string()),
                status: TriageStatusGql::New,
                assignee: None,
                note: None,
                version: 0,
                updated_at: None,
                updated_by: None,
            },
        }
    }
}

/// A link to a ticket.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "TicketLink")]
pub struct TicketLinkGql {
    /// Finding id.
    pub finding_id: ID,
    /// Ticket system.
    pub system: String,
    /// Ticket key.
    pub key: String,
    /// URL.
    pub url: Option<String>,
    /// When linked.
    pub created_at: DateTime<Utc>,
    /// Who linked it.
    pub created_by: String,
}

impl From<&crate::ports::TicketLinkRecord> for TicketLinkGql {
    fn from(r: &crate::ports::TicketLinkRecord) -> Self {
        TicketLinkGql {
            finding_id: ID(r.finding_id.clone()),
            system: r.system.clone(),
            key: r.key.clone(),
            url: r.url.clone(),
            created_at: dt(r.created_at),
            created_by: r.created_by.clone(),
        }
    }
}

/// An audit trail entry.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "AuditEntry")]
pub struct AuditGql {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Details (JSON text).
    pub detail: String,
}

/// A finding as the API shows it (latest version): the columns the index holds are answered from
/// the snapshot; the details it does not hold (ARN, description, resource) are read from the
/// store on demand, batched per request.
pub struct FindingGql {
    snapshot: Arc<Snapshot>,
    row: u32,
    /// Custom weights the list was ranked with, if any.
    weights: Option<Arc<Weights>>,
    /// Score under those weights, when the list computed it.
    score: Option<f64>,
}

impl FindingGql {
    /// The finding at `row` of `snapshot` (the caller checked its scope).
    pub fn new(
        snapshot: &Arc<Snapshot>,
        row: u32,
        weights: Option<Arc<Weights>>,
        score: Option<f64>,
    ) -> Self {
        FindingGql {
            snapshot: snapshot.clone(),
            row,
            weights,
            score,
        }
    }

    fn id_str(&self) -> &str {
        self.snapshot.index.id(self.row)
    }

    /// The stored finding (details the index does not keep).
    async fn detail(&self, ctx: &Context<'_>) -> async_graphql::Result<Arc<Finding>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        loader
            .load_one(DetailKey(self.id_str().to_string()))
            .await
            .map_err(load_err)?
            .ok_or_else(|| {
                ApiError::internal(format!("finding {} not in the store", self.id_str())).into()
            })
    }
}

impl FindingGql {
    /// The finding's attack sequence, if it is an attack-sequence finding.
    pub(crate) async fn sequence_of(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::sequence::AttackSequenceGql>> {
        if !self.snapshot.index.is_attack_sequence(self.row) {
            return Ok(None);
        }
        Ok(self.detail(ctx).await?.sequence.as_ref().map(Into::into))
    }
}

fn load_err(e: Arc<ApiError>) -> async_graphql::Error {
    (*e).clone().into()
}

/// A GuardDuty finding (latest version).
#[Object(name = "Finding")]
impl FindingGql {
    async fn id(&self) -> ID {
        ID(self.id_str().to_string())
    }
    async fn arn(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self.detail(ctx).await?.arn.clone())
    }
    async fn account_id(&self) -> &str {
        self.snapshot.index.account_id(self.row)
    }
    /// The account with name, owner, criticality.
    async fn account(&self) -> AccountGql {
        let id = self.snapshot.index.account_id(self.row);
        self.snapshot
            .accounts
            .get(id)
            .map(AccountGql::from_account)
            .unwrap_or_else(|| AccountGql::unknown(id))
    }
    async fn region(&self) -> &str {
        self.snapshot.index.region(self.row)
    }
    /// Finding type.
    #[graphql(name = "type")]
    async fn finding_type(&self) -> &str {
        self.snapshot.index.finding_type(self.row)
    }
    async fn severity(&self) -> f64 {
        self.snapshot.index.severity(self.row)
    }
    async fn severity_label(&self) -> SeverityLabelGql {
        self.snapshot.index.severity_label(self.row).into()
    }
    async fn title(&self) -> &str {
        self.snapshot.index.title(self.row)
    }
    async fn description(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self.detail(ctx).await?.description.clone())
    }
    /// `service.detection.sequence` of an attack-sequence finding (None for other findings).
    async fn attack_sequence(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::sequence::AttackSequenceGql>> {
        self.sequence_of(ctx).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        dt(self.snapshot.index.created_at(self.row))
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        dt(self.snapshot.index.updated_at(self.row))
    }
    async fn first_seen(&self) -> DateTime<Utc> {
        dt(self.snapshot.index.first_seen(self.row))
    }
    async fn last_seen(&self) -> DateTime<Utc> {
        dt(self.snapshot.index.last_seen(self.row))
    }
    async fn count(&self) -> u64 {
        self.snapshot.index.count(self.row)
    }
    async fn archived(&self) -> bool {
        self.snapshot.index.archived(self.row)
    }
    async fn sample(&self) -> bool {
        self.snapshot.index.sample(self.row)
    }
    async fn resource_type(&self) -> &str {
        self.snapshot.index.resource_type(self.row)
    }
    async fn resource_key(&self) -> Option<&str> {
        self.snapshot.index.resource_key(self.row)
    }
    /// ATT&CK tactics of the finding type.
    async fn tactics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TacticGql>> {
        let f = self.detail(ctx).await?;
        Ok(gdlens_groups::tactics_for(&f)
            .into_iter()
            .map(TacticGql::from)
            .collect())
    }
    /// Priority score with explanation (under the list's weights, else the defaults), in the
    /// caller's scope.
    async fn score(&self, ctx: &Context<'_>) -> async_graphql::Result<ScoreGql> {
        let view = state(ctx).scope_view(&self.snapshot, caller(ctx)).await?;
        if view.position(self.row).is_none() {
            return Ok(ScoreGql {
                value: 0.0,
                factors: Vec::new(),
            });
        }
        let weights = self.weights.as_deref().copied().unwrap_or_default();
        let value = self.score.unwrap_or_else(|| view.default_score(self.row));
        let features = view
            .feature_columns(&self.snapshot.index, &[self.row])
            .row(0);
        let factors = crate::priority::explain(&features, &weights)
            .into_iter()
            .map(|f| FactorGql {
                name: f.name,
                contribution: f.contribution,
            })
            .collect();
        Ok(ScoreGql { value, factors })
    }
    /// The finding group holding this finding, as the caller may see it.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<GroupRef>> {
        let view = state(ctx).scope_view(&self.snapshot, caller(ctx)).await?;
        Ok(view.group_of(self.row).map(|g| GroupRef {
            id: ID(g.id.clone()),
            title: g.title.clone(),
        }))
    }
    /// Every stored version, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<VersionGql>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let v = loader
            .load_one(VersionsKey(self.id_str().to_string()))
            .await
            .map_err(load_err)?;
        Ok(v.unwrap_or_default()
            .into_iter()
            .map(|v| VersionGql {
                updated_at: dt(v.updated_at),
                count: v.count,
                severity: v.severity,
            })
            .collect())
    }
    /// Triage state.
    async fn triage(&self, ctx: &Context<'_>) -> async_graphql::Result<TriageGql> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let t = loader
            .load_one(TriageKey(self.id_str().to_string()))
            .await
            .map_err(load_err)?;
        Ok(TriageGql::from_record(self.id_str(), t.as_ref()))
    }
    /// Ticket links.
    async fn ticket_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TicketLinkGql>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let t = loader
            .load_one(TicketsKey(self.id_str().to_string()))
            .await
            .map_err(load_err)?;
        Ok(t.unwrap_or_default()
            .iter()
            .map(TicketLinkGql::from)
            .collect())
    }
    /// Audit trail, oldest first.
    async fn audit(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AuditGql>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let t = loader
            .load_one(AuditKey(self.id_str().to_string()))
            .await
            .map_err(load_err)?;
        Ok(t.unwrap_or_default()
            .into_iter()
            .map(|a| AuditGql {
                at: dt(a.at),
                actor: a.actor,
                action: a.action,
                detail: a.detail,
            })
            .collect())
    }
    /// The original finding JSON, byte for byte.
    async fn raw(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let _ = caller(ctx);
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        loader
            .load_one(RawKey(self.id_str().to_string()))
            .await
            .map_err(load_err)
    }
}

/// An edge of the findings connection.
#[derive(SimpleObject)]
pub struct FindingEdge {
    /// Keyset cursor of this row.
    pub cursor: String,
    /// The finding.
    pub node: FindingGql,
}

/// Relay page info.
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    /// Whether more rows follow.
    pub has_next_page: bool,
    /// Cursor of the last row.
    pub end_cursor: Option<String>,
}

/// A page of findings.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct FindingConnection {
    /// Matching findings in the caller's scope.
    pub total_count: u64,
    /// Rows with cursors.
    pub edges: Vec<FindingEdge>,
    /// Page info.
    pub page_info: PageInfo,
}

#[ComplexObject]
impl FindingConnection {
    /// The findings of the page (same as `edges.node`).
    async fn nodes(&self) -> Vec<&FindingGql> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

/// Sync state of one region.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SyncStatus")]
pub struct SyncStatusGql {
    /// Region.
    pub region: String,
    /// Detector id.
    pub detector_id: Option<String>,
    /// Last success.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last error code.
    pub last_error_code: Option<String>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Findings synced.
    pub findings_synced: u64,
    /// Age of the data in seconds (now − last success).
    pub data_age_seconds: Option<i64>,
}
