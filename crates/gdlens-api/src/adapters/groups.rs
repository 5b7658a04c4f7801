//! `gdlens_groups::Correlator` as the API's [`FindingGroups`].

use std::collections::HashMap;
use std::sync::Arc;

use gdlens_domain::Finding;
use gdlens_groups::{Correlator, FindingGroup, GroupSource, Tactic};

use crate::ports::{EntityView, FindingGroups, GroupView, TacticRef, TimelineView};

/// The correlation engine, with engine groups converted once per change.
pub struct CorrelatorAdapter {
    inner: Correlator,
    views: HashMap<String, Arc<GroupView>>,
    active: Vec<Arc<GroupView>>,
}

impl CorrelatorAdapter {
    /// Wraps a correlator.
    pub fn new(inner: Correlator) -> Self {
        let mut a = CorrelatorAdapter {
            inner,
            views: HashMap::new(),
            active: Vec::new(),
        };
        a.refresh();
        a
    }

    fn refresh(&mut self) {
        self.views.clear();
        self.active = self
            .inner
            .groups()
            .iter()
            .map(|g| Arc::new(view(g)))
            .collect();
        for v in &self.active {
            self.views.insert(v.id.clone(), v.clone());
        }
    }
}

fn tactic(t: &Tactic) -> TacticRef {
    TacticRef {
        id: t.id.to_string(),
        name: t.name.to_string(),
    }
}

fn view(g: &FindingGroup) -> GroupView {
    GroupView {
        id: g.id.clone(),
        title: g.title.clone(),
        severity: g.severity,
        score: g.score,
        first_seen: g.first_seen,
        last_seen: g.last_seen,
        tactics: g.tactics.iter().map(|t| tactic(t)).collect(),
        members: g.finding_ids.clone(),
        entities: g
            .entities
            .iter()
            .map(|e| EntityView {
                kind: e.kind.as_str().to_string(),
                value: e.value.clone(),
                finding_ids: e.finding_ids.clone(),
            })
            .collect(),
        timeline: g
            .timeline
            .iter()
            .map(|t| TimelineView {
                at: t.first_seen,
                finding_id: t.finding_id.clone(),
                tactic: t.tactic.map(tactic),
                label: t.finding_type.clone(),
            })
            .collect(),
        source: match g.source {
            GroupSource::Correlated => "correlation".to_string(),
            GroupSource::AttackSequence => "attack_sequence".to_string(),
        },
        parents: g.parents.clone(),
        children: g.children.clone(),
    }
}

impl FindingGroups for CorrelatorAdapter {
    fn add(&mut self, findings: &[Finding]) {
        self.inner.add(findings);
        self.refresh();
    }

    fn groups(&self) -> Vec<Arc<GroupView>> {
        self.active.clone()
    }

    fn group(&self, id: &str) -> Option<Arc<GroupView>> {
        if let Some(v) = self.views.get(id) {
            return Some(v.clone());
        }
        // Retired ids (merged away) still resolve, with their lineage.
        self.inner.group(id).map(|g| Arc::new(view(&g)))
    }

    fn group_of(&self, finding_id: &str) -> Option<Arc<GroupView>> {
        let g = self.inner.group_of(finding_id)?;
        self.views
            .get(&g.id)
            .cloned()
            .or_else(|| Some(Arc::new(view(&g))))
    }

    fn related_groups(&self, entity_arns: &[String], finding_ids: &[String]) -> Vec<String> {
        self.inner.related_groups(entity_arns, finding_ids)
    }

    fn tactics_for(&self, finding: &Finding) -> Vec<TacticRef> {
        gdlens_groups::tactics_for(finding)
            .into_iter()
            .map(tactic)
            .collect()
    }
}
