//! `gdlens_store::Store` as the API's [`FindingStore`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Finding, TriageStatus};
use gdlens_store::{NewFinding, Store, StoreError};

use crate::ports::{
    AuditRecord, ChangeFeed, ChangeKind, ChangeRecord, FindingStore, IngestRecord,
    InvestigationRecord, PortError, SuppressionRuleRecord, SyncStatusRecord, TicketLinkRecord,
    TriageChange, TriageRecord, VersionRecord,
};

/// The embedded SQLite store behind the API's port. Shared (`Arc`), so the AWS sync can commit to
/// the same store and then call [`crate::AppState::on_committed`].
pub struct StoreAdapter(pub Arc<Store>);

impl StoreAdapter {
    /// Wraps a store.
    pub fn new(store: Store) -> Self {
        StoreAdapter(Arc::new(store))
    }
}

fn err(e: StoreError) -> PortError {
    match e {
        StoreError::StaleVersion {
            finding_id,
            expected,
            actual,
        } => PortError::Stale {
            finding_id,
            expected,
            actual,
        },
        StoreError::UnknownFinding(id) => PortError::UnknownFinding(id),
        StoreError::Unavailable(detail) => PortError::Unavailable(detail),
        other => PortError::Internal(format!("{} ({})", other, other.code())),
    }
}

impl FindingStore for StoreAdapter {
    fn scan_latest(&self, f: &mut dyn FnMut(Finding)) -> Result<(), PortError> {
        self.0.scan_latest(f).map_err(err)
    }

    fn scan_latest_with_raw(
        &self,
        f: &mut dyn FnMut(Finding, &str) -> bool,
    ) -> Result<(), PortError> {
        self.0.scan_latest_with_raw(f).map_err(err)
    }

    fn scan_latest_raw(&self, f: &mut dyn FnMut(&str, &str) -> bool) -> Result<(), PortError> {
        self.0.scan_latest_raw(f).map_err(err)
    }

    fn suppression_rules(&self) -> Result<Vec<SuppressionRuleRecord>, PortError> {
        self.0.suppression_rules().map_err(err)
    }

    fn put_suppression_rule(
        &self,
        rule: &SuppressionRuleRecord,
        actor: &str,
        at: EpochMillis,
    ) -> Result<SuppressionRuleRecord, PortError> {
        let new = gdlens_store::NewSuppressionRule {
            name: rule.name.clone(),
            description: rule.description.clone(),
            origin: rule.origin.clone(),
            region: rule.region.clone(),
            detector_id: rule.detector_id.clone(),
            action: rule.action.clone(),
            rank: rule.rank,
            criteria: rule.criteria.clone(),
        };
        self.0.put_suppression_rule(&new, actor, at).map_err(err)
    }

    fn delete_suppression_rule(&self, id: i64) -> Result<bool, PortError> {
        self.0.delete_suppression_rule(id).map_err(err)
    }

    fn findings(&self, ids: &[String]) -> Result<HashMap<String, Finding>, PortError> {
        Ok(self
            .0
            .latest_by_id(ids)
            .map_err(err)?
            .into_iter()
            .map(|f| (f.id.clone(), f))
            .collect())
    }

    fn generation(&self) -> Result<u64, PortError> {
        self.0.generation().map_err(err)
    }

    fn all_triage(&self) -> Result<Vec<(String, TriageStatus)>, PortError> {
        self.0.all_triage().map_err(err)
    }

    fn investigations(&self) -> Result<Vec<InvestigationRecord>, PortError> {
        Ok(self
            .0
            .investigations()
            .map_err(err)?
            .into_iter()
            .map(|i| InvestigationRecord {
                region: i
                    .graph_arn
                    .split(':')
                    .nth(3)
                    .unwrap_or_default()
                    .to_string(),
                related_finding_ids: i.related_finding_ids,
                related_finding_group_ids: i.related_finding_group_ids,
                id: i.investigation_id,
                entity_arn: i.entity_arn,
                status: i.status,
                severity: i.severity,
                state: i.state,
                created_at: i.created_at,
                indicators_json: i.indicators_json,
            })
            .collect())
    }

    fn finding_count(&self) -> Result<u64, PortError> {
        self.0.count().map_err(err)
    }

    fn upsert(&self, batch: &[IngestRecord]) -> Result<Vec<Finding>, PortError> {
        let batch: Vec<NewFinding> = batch
            .iter()
            .map(|r| NewFinding {
                finding: r.finding.clone(),
                raw: r.raw.clone(),
                source: r.source.clone(),
            })
            .collect();
        Ok(self.0.upsert_batch(&batch).map_err(err)?.changed)
    }

    fn raw(&self, ids: &[String]) -> Result<HashMap<String, String>, PortError> {
        Ok(self.0.latest_raw(ids).map_err(err)?.into_iter().collect())
    }

    fn versions(&self, ids: &[String]) -> Result<HashMap<String, Vec<VersionRecord>>, PortError> {
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            let v = self.0.versions(id).map_err(err)?;
            out.insert(
                id.clone(),
                v.into_iter()
                    .map(|v| VersionRecord {
                        updated_at: v.updated_at,
                        count: v.count,
                        severity: v.severity,
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    fn triage(&self, ids: &[String]) -> Result<HashMap<String, TriageRecord>, PortError> {
        Ok(self
            .0
            .triage(ids)
            .map_err(err)?
            .into_iter()
            .map(|t| {
                (
                    t.finding_id.clone(),
                    TriageRecord {
                        finding_id: t.finding_id,
                        status: t.status,
                        assignee: t.assignee,
                        note: t.note,
                        version: t.version,
                        updated_at: Some(t.updated_at),
                        updated_by: Some(t.updated_by),
                    },
                )
            })
            .collect())
    }

    fn set_triage(&self, change: &TriageChange) -> Result<Vec<TriageRecord>, PortError> {
        let c = gdlens_store::TriageChange {
            status: change.status,
            assignee: change.assignee.clone(),
            note: change.note.clone(),
        };
        Ok(self
            .0
            .set_triage(
                &change.finding_ids,
                &c,
                change.expected_version,
                &change.actor,
            )
            .map_err(err)?
            .into_iter()
            .map(|t| TriageRecord {
                finding_id: t.finding_id,
                status: t.status,
                assignee: t.assignee,
                note: t.note,
                version: t.version,
                updated_at: Some(t.updated_at),
                updated_by: Some(t.updated_by),
            })
            .collect())
    }

    fn link_ticket(
        &self,
        ids: &[String],
        system: &str,
        key: &str,
        url: Option<&str>,
        actor: &str,
        _at: EpochMillis,
    ) -> Result<Vec<TicketLinkRecord>, PortError> {
        Ok(self
            .0
            .link_ticket(ids, system, key, url, actor)
            .map_err(err)?
            .into_iter()
            .map(link)
            .collect())
    }

    fn ticket_links(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<TicketLinkRecord>>, PortError> {
        let mut out: HashMap<String, Vec<TicketLinkRecord>> = HashMap::new();
        for l in self.0.ticket_links(ids).map_err(err)? {
            out.entry(l.finding_id.clone()).or_default().push(link(l));
        }
        Ok(out)
    }

    fn audit(&self, ids: &[String]) -> Result<HashMap<String, Vec<AuditRecord>>, PortError> {
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            let list = self.0.audit(id).map_err(err)?;
            out.insert(
                id.clone(),
                list.into_iter()
                    .map(|a| AuditRecord {
                        finding_id: a.finding_id,
                        at: a.at,
                        actor: a.actor,
                        action: a.action,
                        detail: a.detail.to_string(),
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    fn append_audit(
        &self,
        ids: &[String],
        actor: &str,
        action: &str,
        detail: &str,
        _at: EpochMillis,
    ) -> Result<(), PortError> {
        let detail: serde_json::Value =
            serde_json::from_str(detail).unwrap_or(serde_json::Value::String(detail.into()));
        self.0
            .append_audit(ids, actor, action, &detail)
            .map_err(err)
    }

    fn sync_status(&self) -> Result<Vec<SyncStatusRecord>, PortError> {
        Ok(self
            .0
            .sync_statuses()
            .map_err(err)?
            .into_iter()
            .map(|s| SyncStatusRecord {
                region: s.region,
                detector_id: s.detector_id,
                last_success_at: s.last_success_at,
                last_error_code: s.last_error_code,
                last_error: s.last_error_message,
                findings_synced: s.findings_synced,
            })
            .collect())
    }

    fn size_bytes(&self) -> Option<u64> {
        self.0.size_bytes()
    }

    fn coverage(&self) -> Result<Vec<gdlens_domain::coverage::RegionCoverage>, PortError> {
        self.0.coverage().map_err(err)
    }

    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        self.0.is_shared().then(|| {
            Arc::new(StoreFeed {
                store: self.0.clone(),
                listener: Mutex::new(None),
            }) as Arc<dyn ChangeFeed>
        })
    }
}

/// The PostgreSQL change feed as the API's [`ChangeFeed`]: `change_log` rows, woken by
/// `LISTEN gdlens_changes` on a connection of its own (reopened after a failure).
struct StoreFeed {
    store: Arc<Store>,
    listener: Mutex<Option<gdlens_store::ChangeListener>>,
}

impl ChangeFeed for StoreFeed {
    fn head(&self) -> Result<u64, PortError> {
        self.store.generation().map_err(err)
    }

    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<ChangeRecord>, PortError> {
        let entries = self
            .store
            .changes_since(after, limit)
            .map_err(err)?
            .unwrap_or_default();
        Ok(entries
            .into_iter()
            .map(|e| ChangeRecord {
                generation: e.generation,
                kind: match e.kind {
                    gdlens_store::ChangeKind::Findings => ChangeKind::Findings,
                    gdlens_store::ChangeKind::Triage => ChangeKind::Triage,
                    gdlens_store::ChangeKind::Other => ChangeKind::Other,
                },
                ids: e.ids,
                own: e.own,
            })
            .collect())
    }

    fn wait(&self, timeout: Duration) -> Result<(), PortError> {
        let mut slot = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            match self.store.listen().map_err(err)? {
                Some(l) => *slot = Some(l),
                // The embedded store announces nothing: just wait.
                None => {
                    std::thread::sleep(timeout);
                    return Ok(());
                }
            }
        }
        let listener = slot.as_mut().expect("set above");
        match listener.wait(timeout) {
            Ok(_) => Ok(()),
            Err(e) => {
                *slot = None;
                Err(err(e))
            }
        }
    }
}

fn link(l: gdlens_store::TicketLink) -> TicketLinkRecord {
    TicketLinkRecord {
        finding_id: l.finding_id,
        system: l.system,
        key: l.key,
        url: l.url,
        created_at: l.created_at,
        created_by: l.created_by,
    }
}
