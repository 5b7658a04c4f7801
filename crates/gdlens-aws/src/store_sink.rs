//! [`SyncSink`] for the embedded store: findings and watermark in one transaction
//! (`Store::upsert_batch_with_watermark`), sync status, coverage, Detective investigations.

use gdlens_domain::time::EpochMillis;
use gdlens_store::{NewFinding, Store, StoreError, SyncStatus, Watermark};

use crate::sink::{
    BatchOutcome, Committed, Investigation, RegionSyncStatus, SinkError, SyncSink, SyncedFinding,
};

fn sink_error(e: StoreError) -> SinkError {
    SinkError {
        code: e.code().to_string(),
        message: e.to_string(),
    }
}

/// The region named in a Detective graph ARN (`arn:aws:detective:<region>:<account>:graph:<id>`).
fn graph_region(graph_arn: &str) -> &str {
    graph_arn.split(':').nth(3).unwrap_or_default()
}

/// GuardDuty finding ids of finding ARNs (`…:detector/<d>/finding/<id>`; a bare id stays as is),
/// distinct, in first-seen order.
fn related_ids(arns: &[String]) -> Vec<String> {
    distinct(
        arns.iter()
            .map(|a| match a.rfind("/finding/") {
                Some(p) => a[p + "/finding/".len()..].to_string(),
                None => a.clone(),
            })
            .filter(|id| !id.is_empty())
            .collect(),
    )
}

fn distinct(mut list: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    list.retain(|x| seen.insert(x.clone()));
    list
}

impl SyncSink for Store {
    fn watermark(&self, region: &str, detector_id: &str) -> Result<Option<EpochMillis>, SinkError> {
        Store::watermark(self, region, detector_id).map_err(sink_error)
    }

    fn commit(
        &self,
        region: &str,
        detector_id: &str,
        findings: &[SyncedFinding],
        watermark: Option<EpochMillis>,
    ) -> Result<Committed, SinkError> {
        let source = format!("aws:{region}");
        let batch: Vec<NewFinding> = findings
            .iter()
            .map(|f| NewFinding {
                finding: f.finding.clone(),
                raw: f.raw.clone(),
                source: source.clone(),
            })
            .collect();
        let watermark = watermark.map(|updated_at_ms| Watermark {
            region: region.to_string(),
            detector_id: detector_id.to_string(),
            updated_at_ms,
        });
        let report = self
            .upsert_batch_with_watermark(&batch, watermark.as_ref())
            .map_err(sink_error)?;
        Ok(Committed {
            outcome: BatchOutcome {
                inserted: report.inserted,
                updated: report.updated,
                unchanged: report.unchanged,
            },
            changed: report.changed,
        })
    }

    fn set_sync_status(&self, status: &RegionSyncStatus) -> Result<(), SinkError> {
        let previous = self
            .sync_statuses()
            .map_err(sink_error)?
            .into_iter()
            .find(|s| s.region == status.region && s.detector_id == status.detector_id);
        let previous_success = previous.as_ref().and_then(|p| p.last_success_at);
        let synced = previous.as_ref().map_or(0, |p| p.findings_synced) + status.fetched;
        Store::set_sync_status(
            self,
            &SyncStatus {
                region: status.region.clone(),
                detector_id: status.detector_id.clone(),
                last_attempt_at: Some(status.attempted_at),
                // A failed run keeps the last success: the data's age still counts from it.
                last_success_at: status.succeeded_at.or(previous_success),
                last_error_code: status.error_code.clone(),
                last_error_message: status.error_message.clone(),
                findings_synced: synced,
            },
        )
        .map_err(sink_error)
    }

    fn replace_coverage(
        &self,
        coverage: &gdlens_domain::coverage::RegionCoverage,
    ) -> Result<(), SinkError> {
        Store::replace_coverage(self, coverage).map_err(sink_error)
    }

    fn replace_investigations(
        &self,
        regions: &[String],
        investigations: &[Investigation],
    ) -> Result<(), SinkError> {
        // The store replaces the whole set: keep other regions' investigations as they are.
        let mut all: Vec<gdlens_store::Investigation> = self
            .investigations()
            .map_err(sink_error)?
            .into_iter()
            .filter(|i| !regions.iter().any(|r| r == graph_region(&i.graph_arn)))
            .collect();
        all.extend(investigations.iter().map(|i| gdlens_store::Investigation {
            graph_arn: i.graph_arn.clone(),
            investigation_id: i.investigation_id.clone(),
            entity_arn: i.entity_arn.clone().unwrap_or_default(),
            entity_type: i.entity_type.clone().unwrap_or_default(),
            status: i.status.clone().unwrap_or_default(),
            severity: i.severity.clone().unwrap_or_default(),
            state: i.state.clone().unwrap_or_default(),
            created_at: i.created_at.unwrap_or(0),
            scope_start: i.scope_start,
            scope_end: i.scope_end,
            indicators_json: serde_json::Value::Array(i.indicators.clone()).to_string(),
            // The link to our findings: RelatedFindingDetail.Arn reduced to the finding id.
            related_finding_ids: related_ids(&i.related_finding_arns),
            related_finding_group_ids: distinct(i.related_finding_group_ids.clone()),
        }));
        Store::replace_investigations(self, &all).map_err(sink_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_finding_arns_become_finding_ids() {
        assert_eq!(
            related_ids(&[
                "arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/abc".into(),
                "abc".into(),
                "def".into(),
                String::new(),
            ]),
            ["abc", "def"]
        );
    }

    #[test]
    fn graph_region_reads_the_arn() {
        assert_eq!(
            graph_region("arn:aws:detective:eu-west-1:111122223333:graph:abc"),
            "eu-west-1"
        );
        assert_eq!(graph_region("nonsense"), "");
    }
}
