//! Finding groups as a caller sees them: only members in scope (and matching the filter) count.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use gdlens_domain::SeverityLabel;

use super::inputs::SeverityLabelGql;
use super::state;
use super::types::{dt, FindingGql, PageInfo, TacticGql};
use crate::ports::GroupView;
use crate::state::AppState;

/// A group restricted to the members a caller may see.
#[derive(Debug, Clone)]
pub struct VisibleGroup {
    /// The engine's group.
    pub group: Arc<GroupView>,
    /// Visible member ids.
    pub members: Vec<String>,
    /// Accounts of visible members.
    pub accounts: Vec<String>,
    /// Regions of visible members.
    pub regions: Vec<String>,
    /// Highest visible member severity (the group's own when all members are visible).
    pub severity: f64,
    /// First seen over visible members.
    pub first_seen: i64,
    /// Last seen over visible members.
    pub last_seen: i64,
}

/// Restricts a group to `visible` finding ids; `None` when no member is visible.
pub fn restrict(
    state: &AppState,
    group: &Arc<GroupView>,
    visible: &dyn Fn(&str) -> bool,
) -> Option<VisibleGroup> {
    let members: Vec<String> = group
        .members
        .iter()
        .filter(|id| visible(id))
        .cloned()
        .collect();
    if members.is_empty() {
        return None;
    }
    let findings = state.findings.read().unwrap_or_else(|e| e.into_inner());
    let mut accounts = BTreeSet::new();
    let mut regions = BTreeSet::new();
    let (mut sev, mut first, mut last) = (0.0f64, i64::MAX, i64::MIN);
    for id in &members {
        if let Some(f) = findings.get(id) {
            accounts.insert(f.account_id.clone());
            regions.insert(f.region.clone());
            sev = sev.max(f.severity);
            first = first.min(f.first_seen());
            last = last.max(f.last_seen());
        }
    }
    let all_visible = members.len() == group.members.len();
    Some(VisibleGroup {
        group: group.clone(),
        accounts: accounts.into_iter().collect(),
        regions: regions.into_iter().collect(),
        severity: if all_visible { group.severity } else { sev },
        first_seen: if all_visible || first == i64::MAX {
            group.first_seen
        } else {
            first
        },
        last_seen: if all_visible || last == i64::MIN {
            group.last_seen
        } else {
            last
        },
        members,
    })
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
        self.severity
    }
    async fn severity_label(&self) -> SeverityLabelGql {
        SeverityLabel::from_severity(self.severity).into()
    }
    /// Priority score 0–100.
    async fn score(&self) -> f64 {
        self.group.score
    }
    async fn first_seen(&self) -> DateTime<Utc> {
        dt(self.first_seen)
    }
    async fn last_seen(&self) -> DateTime<Utc> {
        dt(self.last_seen)
    }
    async fn accounts(&self) -> &[String] {
        &self.accounts
    }
    async fn regions(&self) -> &[String] {
        &self.regions
    }
    /// Tactics in kill-chain order.
    async fn tactics(&self) -> Vec<TacticGql> {
        self.group.tactics.iter().map(TacticGql::from).collect()
    }
    /// Visible members.
    async fn finding_count(&self) -> u64 {
        self.members.len() as u64
    }
    /// Visible member findings.
    async fn findings(&self, ctx: &Context<'_>) -> Vec<FindingGql> {
        let st = state(ctx);
        let index = st.index.read().unwrap_or_else(|e| e.into_inner());
        let map = st.findings.read().unwrap_or_else(|e| e.into_inner());
        self.members
            .iter()
            .filter_map(|id| map.get(id))
            .map(|f| FindingGql {
                finding: f.clone(),
                row: index.row_id(&f.id),
                weights: None,
                score: None,
            })
            .collect()
    }
    /// Entities touching visible members.
    async fn entities(&self) -> Vec<EntityGql> {
        let visible: HashSet<&str> = self.members.iter().map(String::as_str).collect();
        self.group
            .entities
            .iter()
            .filter_map(|e| {
                let ids: Vec<ID> = e
                    .finding_ids
                    .iter()
                    .filter(|id| visible.contains(id.as_str()))
                    .map(|id| ID(id.clone()))
                    .collect();
                (!ids.is_empty()).then(|| EntityGql {
                    kind: e.kind.clone(),
                    value: e.value.clone(),
                    finding_ids: ids,
                })
            })
            .collect()
    }
    /// Visible members over time.
    async fn timeline(&self) -> Vec<TimelineGql> {
        let visible: HashSet<&str> = self.members.iter().map(String::as_str).collect();
        self.group
            .timeline
            .iter()
            .filter(|t| visible.contains(t.finding_id.as_str()))
            .map(|t| TimelineGql {
                at: dt(t.at),
                finding_id: ID(t.finding_id.clone()),
                tactic: t.tactic.as_ref().map(TacticGql::from),
                label: t.label.clone(),
            })
            .collect()
    }
    /// Findings and entities as a graph.
    async fn graph(&self) -> GroupGraph {
        let visible: HashSet<&str> = self.members.iter().map(String::as_str).collect();
        let mut nodes: Vec<GraphNode> = self
            .members
            .iter()
            .map(|id| GraphNode {
                id: format!("finding:{id}"),
                kind: "finding".into(),
                label: id.clone(),
            })
            .collect();
        let mut edges = Vec::new();
        for e in &self.group.entities {
            let node_id = format!("entity:{}:{}", e.kind, e.value);
            let mut any = false;
            for id in e
                .finding_ids
                .iter()
                .filter(|id| visible.contains(id.as_str()))
            {
                any = true;
                edges.push(GraphEdge {
                    source: format!("finding:{id}"),
                    target: node_id.clone(),
                });
            }
            if any {
                nodes.push(GraphNode {
                    id: node_id,
                    kind: e.kind.clone(),
                    label: e.value.clone(),
                });
            }
        }
        GroupGraph { nodes, edges }
    }
    /// `correlation` or `attack_sequence`.
    async fn source(&self) -> &str {
        &self.group.source
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
        let groups = st.groups.read().unwrap_or_else(|e| e.into_inner());
        Ok(all
            .into_iter()
            .filter(|i| arn_account(&i.entity_arn).is_none_or(|a| scope.allows(a)))
            .filter(|i| {
                let finding_ids: Vec<String> =
                    serde_json::from_str::<serde_json::Value>(&i.indicators_json)
                        .ok()
                        .map(|v| finding_ids_in(&v))
                        .unwrap_or_default();
                groups
                    .related_groups(std::slice::from_ref(&i.entity_arn), &finding_ids)
                    .contains(&self.group.id)
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
