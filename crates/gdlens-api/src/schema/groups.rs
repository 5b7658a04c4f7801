//! Finding groups as a caller sees them: built from the members in scope only.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use gdlens_domain::SeverityLabel;
use gdlens_groups::{FindingGroup, GroupSource};

use gdlens_domain::TriageStatus;

use super::inputs::{SeverityLabelGql, TriageStatusGql};
use super::state;
use super::types::{dt, FindingGql, PageInfo, TacticGql};
use crate::ports::InvestigationRecord;
use crate::snapshot::Snapshot;

/// A finding group as the caller may see it: every field was computed over the caller's visible
/// members only (see `view::restrict`), so nothing here describes a hidden member.
#[derive(Debug, Clone)]
pub struct VisibleGroup {
    /// The (restricted) group.
    pub group: Arc<FindingGroup>,
    /// The snapshot it belongs to (member findings resolve against it).
    snapshot: Arc<Snapshot>,
}

impl VisibleGroup {
    /// The group's triage state over its visible members: the least advanced one (a group with
    /// one NEW member is NEW: something in it still needs a look); when every member is closed
    /// (resolved, suppressed, false positive), their common status, else RESOLVED.
    pub fn group_triage_status(&self) -> TriageStatus {
        group_triage(&self.snapshot, &self.group)
    }

    /// The latest `updatedAt` of the visible members: when the group last changed.
    pub fn changed_at(&self) -> gdlens_domain::time::EpochMillis {
        group_changed_at(&self.snapshot, &self.group)
    }

    /// Wraps a group already restricted to the caller's scope.
    pub fn new(snapshot: &Arc<Snapshot>, group: Arc<FindingGroup>) -> Self {
        VisibleGroup {
            group,
            snapshot: snapshot.clone(),
        }
    }
}

/// See [`VisibleGroup::group_triage_status`].
pub(crate) fn group_triage(snapshot: &Snapshot, group: &FindingGroup) -> TriageStatus {
    let states: Vec<TriageStatus> = group
        .finding_ids
        .iter()
        .filter_map(|id| snapshot.index.row_id(id))
        .map(|row| snapshot.index.triage(row))
        .collect();
    for open in [
        TriageStatus::New,
        TriageStatus::Acknowledged,
        TriageStatus::InProgress,
    ] {
        if states.contains(&open) {
            return open;
        }
    }
    match states.first() {
        Some(&first) if states.iter().all(|&s| s == first) => first,
        Some(_) => TriageStatus::Resolved,
        None => TriageStatus::New,
    }
}

/// See [`VisibleGroup::changed_at`].
pub(crate) fn group_changed_at(
    snapshot: &Snapshot,
    group: &FindingGroup,
) -> gdlens_domain::time::EpochMillis {
    group
        .finding_ids
        .iter()
        .filter_map(|id| snapshot.index.row_id(id))
        .map(|row| snapshot.index.updated_at(row))
        .max()
        .unwrap_or(group.last_seen)
}

/// An entity involved in a group.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "GroupEntity")]
pub struct EntityGql {
    /// Kind (`instance`, `access_key`, `ip`, …).
    pub kind: String,
    /// Value.
    pub value: String,
    /// Visible member findings involving it.
    pub finding_ids: Vec<ID>,
}

/// One timeline event.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "TimelineEvent")]
pub struct TimelineGql {
    /// When.
    pub at: DateTime<Utc>,
    /// Finding.
    pub finding_id: ID,
    /// Tactic.
    pub tactic: Option<TacticGql>,
    /// Label.
    pub label: String,
}

/// A graph node: a finding or an entity.
#[derive(Debug, Clone, SimpleObject)]
pub struct GraphNode {
    /// `finding:<id>` or `entity:<kind>:<value>`.
    pub id: String,
    /// `finding` or the entity kind.
    pub kind: String,
    /// Display label.
    pub label: String,
}

/// A graph edge: a finding involves an entity.
#[derive(Debug, Clone, SimpleObject)]
pub struct GraphEdge {
    /// Finding node id.
    pub source: String,
    /// Entity node id.
    pub target: String,
}

/// The group's graph for the frontend to draw.
#[derive(Debug, Clone, SimpleObject)]
pub struct GroupGraph {
    /// Nodes.
    pub nodes: Vec<GraphNode>,
    /// Edges.
    pub edges: Vec<GraphEdge>,
}

/// A finding group (correlated attack story), restricted to the caller's scope.
#[Object(name = "FindingGroup")]
impl VisibleGroup {
    async fn id(&self) -> ID {
        ID(self.group.id.clone())
    }
    async fn title(&self) -> &str {
        &self.group.title
    }
    async fn severity(&self) -> f64 {
        self.group.severity
    }
    async fn severity_label(&self) -> SeverityLabelGql {
        SeverityLabel::from_severity(self.group.severity).into()
    }
    /// Priority score 0–100.
    async fn score(&self) -> f64 {
        self.group.score
    }
    async fn first_seen(&self) -> DateTime<Utc> {
        dt(self.group.first_seen)
    }
    async fn last_seen(&self) -> DateTime<Utc> {
        dt(self.group.last_seen)
    }
    /// Accounts of the visible members, sorted.
    async fn accounts(&self) -> &[String] {
        &self.group.accounts
    }
    /// Triage state of the group: the least advanced state of its visible members (NEW while
    /// any member is NEW). `setTriage(groupId:)` changes every visible member at once.
    async fn triage_status(&self) -> TriageStatusGql {
        self.group_triage_status().into()
    }
    /// When the group last changed: the latest `updatedAt` of its visible members.
    async fn updated_at(&self) -> DateTime<Utc> {
        dt(self.changed_at())
    }
    async fn regions(&self) -> &[String] {
        &self.group.regions
    }
    /// Tactics in kill-chain order.
    async fn tactics(&self) -> Vec<TacticGql> {
        self.group
            .tactics
            .iter()
            .map(|t| TacticGql::from(*t))
            .collect()
    }
    /// Visible members.
    async fn finding_count(&self) -> u64 {
        self.group.finding_ids.len() as u64
    }
    /// Visible member findings.
    #[graphql(complexity = "crate::schema::GROUP_FINDINGS_COST * child_complexity")]
    async fn findings(&self) -> Vec<FindingGql> {
        let snap = &self.snapshot;
        self.group
            .finding_ids
            .iter()
            .filter_map(|id| snap.index.row_id(id))
            .map(|row| FindingGql::new(snap, row, None, None))
            .collect()
    }
    /// Entities touching visible members.
    async fn entities(&self) -> Vec<EntityGql> {
        self.group
            .entities
            .iter()
            .map(|e| EntityGql {
                kind: e.kind.as_str().to_string(),
                value: e.value.clone(),
                finding_ids: e.finding_ids.iter().map(|id| ID(id.clone())).collect(),
            })
            .collect()
    }
    /// Visible members over time.
    async fn timeline(&self) -> Vec<TimelineGql> {
        self.group
            .timeline
            .iter()
            .map(|t| TimelineGql {
                at: dt(t.first_seen),
                finding_id: ID(t.finding_id.clone()),
                tactic: t.tactic.map(TacticGql::from),
                label: t.finding_type.clone(),
            })
            .collect()
    }
    /// Findings and entities as a graph.
    async fn graph(&self) -> GroupGraph {
        let mut nodes: Vec<GraphNode> = self
            .group
            .finding_ids
            .iter()
            .map(|id| GraphNode {
                id: format!("finding:{id}"),
                kind: "finding".into(),
                label: id.clone(),
            })
            .collect();
        let mut edges = Vec::new();
        for e in &self.group.entities {
            let node_id = format!("entity:{}:{}", e.kind.as_str(), e.value);
            for id in &e.finding_ids {
                edges.push(GraphEdge {
                    source: format!("finding:{id}"),
                    target: node_id.clone(),
                });
            }
            nodes.push(GraphNode {
                id: node_id,
                kind: e.kind.as_str().to_string(),
                label: e.value.clone(),
            });
        }
        GroupGraph { nodes, edges }
    }
    /// The GuardDuty attack sequence behind an `attack_sequence` group (its signals, actors,
    /// resources, endpoints and indicators); None for correlated groups or when the sequence
    /// finding is not visible to the caller.
    async fn attack_sequence(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::sequence::AttackSequenceGql>> {
        if self.group.source != GroupSource::AttackSequence {
            return Ok(None);
        }
        let Some(m) = self
            .group
            .members
            .iter()
            .find(|m| m.finding_type.starts_with("AttackSequence:"))
        else {
            return Ok(None);
        };
        let Some(row) = self.snapshot.index.row_id(&m.id) else {
            return Ok(None);
        };
        FindingGql::new(&self.snapshot, row, None, None)
            .sequence_of(ctx)
            .await
    }
    /// `correlation` or `attack_sequence`.
    async fn source(&self) -> &str {
        match self.group.source {
            GroupSource::Correlated => "correlation",
            GroupSource::AttackSequence => "attack_sequence",
        }
    }
    /// Groups merged into this one.
    async fn parents(&self) -> Vec<ID> {
        self.group.parents.iter().cloned().map(ID).collect()
    }
    /// Groups this one was merged into.
    async fn children(&self) -> Vec<ID> {
        self.group.children.iter().cloned().map(ID).collect()
    }
    /// Amazon Detective investigations that concern this group (in the caller's scope): they
    /// name one of its findings (RELATED_FINDING), investigate one of its principals, or flag
    /// one of its addresses or user agents.
    async fn investigations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<InvestigationGql>> {
        let st = state(ctx);
        let scope = &super::caller(ctx).scope;
        let all = st.with_store(|s| s.investigations()).await?;
        Ok(all
            .into_iter()
            .filter(|i| arn_account(&i.entity_arn).is_none_or(|a| scope.allows(a)))
            .filter_map(|i| {
                let link = investigation_link(&i);
                link.concerns(&self.group).then(|| InvestigationGql {
                    // Only the group's own (visible) findings: ids elsewhere may be out of scope.
                    related_finding_ids: link
                        .finding_ids
                        .iter()
                        .filter(|f| self.group.finding_ids.contains(f))
                        .cloned()
                        .map(ID)
                        .collect(),
                    detective_finding_groups: link
                        .finding_group_ids
                        .iter()
                        .map(|g| DetectiveFindingGroupGql {
                            id: ID(g.clone()),
                            console_url: gdlens_groups::detective_group_url(&i.region, g),
                        })
                        .collect(),
                    id: ID(i.id),
                    entity_arn: i.entity_arn,
                    status: i.status,
                    severity: i.severity,
                    state: i.state,
                    created_at: dt(i.created_at),
                    indicators: async_graphql::Json(visible_indicators(
                        serde_json::from_str(&i.indicators_json).unwrap_or(serde_json::Value::Null),
                        scope,
                    )),
                })
            })
            .collect())
    }
}

/// What links a stored investigation to groups: the finding ids the sync kept (from
/// `RelatedFindingDetail.Arn`) plus what its raw indicators name (addresses, user agents,
/// finding-group ids; finding ids too, for investigations stored before the ids were kept).
fn investigation_link(i: &InvestigationRecord) -> gdlens_groups::Investigation {
    let indicators: serde_json::Value =
        serde_json::from_str(&i.indicators_json).unwrap_or(serde_json::Value::Null);
    let mut link = gdlens_groups::Investigation::from_indicators(&i.id, &i.entity_arn, &indicators);
    for f in &i.related_finding_ids {
        if !link.finding_ids.contains(f) {
            link.finding_ids.push(f.clone());
        }
    }
    for g in &i.related_finding_group_ids {
        if !link.finding_group_ids.contains(g) {
            link.finding_group_ids.push(g.clone());
        }
    }
    link
}

/// The indicators a caller may see: a RELATED_FINDING indicator naming a finding of an account
/// outside the caller's scope is left out (its ARN names that account and the finding).
fn visible_indicators(v: serde_json::Value, scope: &gdlens_domain::Scope) -> serde_json::Value {
    match v {
        serde_json::Value::Array(list) => serde_json::Value::Array(
            list.into_iter()
                .filter(|ind| {
                    ind.pointer("/IndicatorDetail/RelatedFindingDetail/Arn")
                        .and_then(serde_json::Value::as_str)
                        .and_then(arn_account)
                        .is_none_or(|a| scope.allows(a))
                })
                .collect(),
        ),
        other => other,
    }
}

/// The account of an ARN (`arn:aws:iam::111111111111:role/x`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// A Detective finding group an investigation names. Detective has no API for finding groups:
/// this is its id and the console page that shows it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "DetectiveFindingGroup")]
pub struct DetectiveFindingGroupGql {
    /// Detective's finding-group id.
    pub id: ID,
    /// The Amazon Detective console page of the group (region of the behavior graph).
    pub console_url: String,
}

/// An Amazon Detective investigation.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Investigation")]
pub struct InvestigationGql {
    /// Investigation id.
    pub id: ID,
    /// Investigated entity (user or role ARN).
    pub entity_arn: String,
    /// `RUNNING`, `SUCCESSFUL`, `FAILED`.
    pub status: String,
    /// `INFORMATIONAL` … `CRITICAL`.
    pub severity: String,
    /// `ACTIVE` / `ARCHIVED`.
    pub state: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// Indicators as returned by ListIndicators.
    pub indicators: async_graphql::Json<serde_json::Value>,
    /// This group's findings that the investigation names (RELATED_FINDING indicators).
    pub related_finding_ids: Vec<ID>,
    /// Detective finding groups the investigation names, with their console pages.
    pub detective_finding_groups: Vec<DetectiveFindingGroupGql>,
}

/// An edge of the finding-groups connection.
#[derive(SimpleObject)]
pub struct FindingGroupEdge {
    /// Cursor.
    pub cursor: String,
    /// Group.
    pub node: VisibleGroup,
}

/// A page of finding groups (highest score first, ties by id).
#[derive(SimpleObject)]
pub struct FindingGroupConnection {
    /// Visible groups matching the filter.
    pub total_count: u64,
    /// Rows.
    pub edges: Vec<FindingGroupEdge>,
    /// Groups of the page.
    pub nodes: Vec<VisibleGroup>,
    /// Page info.
    pub page_info: PageInfo,
}
