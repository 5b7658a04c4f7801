//! Finding groups as a caller sees them: built from the members in scope only.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use gdlens_domain::SeverityLabel;
use gdlens_groups::{FindingGroup, GroupSource};

use super::inputs::SeverityLabelGql;
use super::state;
use super::types::{dt, FindingGql, PageInfo, TacticGql};
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
    /// Wraps a group already restricted to the caller's scope.
    pub fn new(snapshot: &Arc<Snapshot>, group: Arc<FindingGroup>) -> Self {
        VisibleGroup {
            group,
            snapshot: snapshot.clone(),
        }
    }
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
    async fn accounts(&self) -> &[String] {
        &self.group.accounts
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
    /// Amazon Detective investigations on entities or findings of this group (in the caller's scope).
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
            .filter(|i| {
                let finding_ids: Vec<String> =
                    serde_json::from_str::<serde_json::Value>(&i.indicators_json)
                        .ok()
                        .map(|v| finding_ids_in(&v))
                        .unwrap_or_default();
                concerns(&self.group, &i.entity_arn, &finding_ids)
            })
            .map(|i| InvestigationGql {
                id: ID(i.id),
                entity_arn: i.entity_arn,
                status: i.status,
                severity: i.severity,
                state: i.state,
                created_at: dt(i.created_at),
                indicators: async_graphql::Json(
                    serde_json::from_str(&i.indicators_json).unwrap_or(serde_json::Value::Null),
                ),
            })
            .collect())
    }
}

/// Whether an investigation of `entity_arn` naming `finding_ids` concerns the (visible) group:
/// it names a member, or its entity is one of the group's entities.
fn concerns(group: &FindingGroup, entity_arn: &str, finding_ids: &[String]) -> bool {
    if finding_ids.iter().any(|f| group.finding_ids.contains(f)) {
        return true;
    }
    let wanted = gdlens_groups::detective::entities_of_arn(entity_arn);
    group
        .entities
        .iter()
        .any(|e| wanted.iter().any(|(k, v)| *k == e.kind && *v == e.value))
}

/// The account of an ARN (`arn:aws:iam::111111111111:role/x`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Finding ids named anywhere in Detective indicators (`findingId`/`id` keys of finding-shaped objects).
fn finding_ids_in(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if (k.eq_ignore_ascii_case("findingId") || k.eq_ignore_ascii_case("FindingId"))
                        && x.is_string()
                    {
                        out.push(x.as_str().unwrap_or_default().to_string());
                    } else {
                        walk(x, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
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
