//! Write-back: archive, unarchive and feedback, grouped per region and detector in batches of
//! 50 (the API's limit). After AWS accepts a batch, its findings are fetched again and committed
//! as new versions, so local state follows AWS and never runs ahead of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_guardduty::types::Feedback as SdkFeedback;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::sink::{BatchOutcome, SyncSink};
use crate::source::AwsSource;

/// A finding that came from AWS: enough to address it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingRef {
    pub id: String,
    pub region: String,
    /// `service.detectorId`; looked up with ListDetectors when absent.
    pub detector_id: Option<String>,
}

/// Feedback on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Feedback {
    Useful,
    NotUseful,
}

/// The write-back operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Archive,
    Unarchive,
    Feedback(Feedback),
}

/// A batch AWS refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedBatch {
    pub region: String,
    pub ids: Vec<String>,
    pub error: AwsError,
}

/// What a write-back did: ids AWS accepted, batches it refused, the local refresh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteBackReport {
    pub done: Vec<String>,
    pub failed: Vec<FailedBatch>,
    pub refreshed: BatchOutcome,
    /// Latest versions that changed locally (for the server's in-memory index).
    #[serde(skip)]
    pub changed: Vec<gdlens_domain::Finding>,
}

impl WriteBackReport {
    /// The first failure, for callers that treat any failure as an error.
    pub fn first_error(&self) -> Option<&AwsError> {
        self.failed.first().map(|f| &f.error)
    }
}

impl AwsSource {
    /// Archives findings in GuardDuty (administrator only), then refreshes them locally.
    pub async fn archive_findings(
        &self,
        sink: Option<Arc<dyn SyncSink>>,
        findings: &[FindingRef],
    ) -> WriteBackReport {
        self.write_back(sink, findings, Action::Archive, None).await
    }

    /// Unarchives findings in GuardDuty, then refreshes them locally.
    pub async fn unarchive_findings(
        &self,
        sink: Option<Arc<dyn SyncSink>>,
        findings: &[FindingRef],
    ) -> WriteBackReport {
        self.write_back(sink, findings, Action::Unarchive, None)
            .await
    }

    /// Sends USEFUL / NOT_USEFUL feedback, then refreshes the findings locally.
    pub async fn send_feedback(
        &self,
        sink: Option<Arc<dyn SyncSink>>,
        findings: &[FindingRef],
        feedback: Feedback,
        comment: Option<&str>,
    ) -> WriteBackReport {
        self.write_back(sink, findings, Action::Feedback(feedback), comment)
            .await
    }

    async fn write_back(
        &self,
        sink: Option<Arc<dyn SyncSink>>,
        findings: &[FindingRef],
        action: Action,
        comment: Option<&str>,
    ) -> WriteBackReport {
        let mut report = WriteBackReport::default();
        // Group per region, then per detector (looked up once per region when unknown).
        let mut by_region: BTreeMap<&str, Vec<&FindingRef>> = BTreeMap::new();
        for f in findings {
            by_region.entry(f.region.as_str()).or_default().push(f);
        }
        for (region, refs) in by_region {
            let mut by_detector: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut looked_up: Option<Result<String, AwsError>> = None;
            for f in refs {
                let detector = match &f.detector_id {
                    Some(d) => Ok(d.clone()),
                    None => {
                        if looked_up.is_none() {
                            looked_up = Some(self.detector_id(region).await);
                        }
                        looked_up
                            .clone()
                            .unwrap_or_else(|| unreachable!("set just above"))
                    }
                };
                match detector {
                    Ok(d) => by_detector.entry(d).or_default().push(f.id.clone()),
                    Err(error) => report.failed.push(FailedBatch {
                        region: region.to_string(),
                        ids: vec![f.id.clone()],
                        error,
                    }),
                }
            }
            let client = self.guardduty(region);
            for (detector, ids) in by_detector {
                for chunk in ids.chunks(50) {
                    let ids = chunk.to_vec();
                    let result = match action {
                        Action::Archive => self
                            .call("ArchiveFindings", region, || {
                                client
                                    .archive_findings()
                                    .detector_id(&detector)
                                    .set_finding_ids(Some(ids.clone()))
                                    .send()
                            })
                            .await
                            .map(drop),
                        Action::Unarchive => self
                            .call("UnarchiveFindings", region, || {
                                client
                                    .unarchive_findings()
                                    .detector_id(&detector)
                                    .set_finding_ids(Some(ids.clone()))
                                    .send()
                            })
                            .await
                            .map(drop),
                        Action::Feedback(feedback) => {
                            let sdk = match feedback {
                                Feedback::Useful => SdkFeedback::Useful,
                                Feedback::NotUseful => SdkFeedback::NotUseful,
                            };
                            self.call("UpdateFindingsFeedback", region, || {
                                client
                                    .update_findings_feedback()
                                    .detector_id(&detector)
                                    .set_finding_ids(Some(ids.clone()))
                                    .feedback(sdk.clone())
                                    .set_comments(comment.map(str::to_string))
                                    .send()
                            })
                            .await
                            .map(drop)
                        }
                    };
                    match result {
                        Ok(()) => {
                            report.done.extend(ids.iter().cloned());
                            if let Some(sink) = &sink {
                                if let Err(error) = self
                                    .refresh(
                                        region,
                                        &detector,
                                        &ids,
                                        sink,
                                        &mut report.refreshed,
                                        &mut report.changed,
                                    )
                                    .await
                                {
                                    tracing::warn!(
                                        region,
                                        code = error.code.as_str(),
                                        "refresh after write-back failed"
                                    );
                                }
                            }
                        }
                        Err(error) => report.failed.push(FailedBatch {
                            region: region.to_string(),
                            ids,
                            error,
                        }),
                    }
                }
            }
        }
        report
    }

    /// Fetches findings again and commits them (watermark unchanged).
    async fn refresh(
        &self,
        region: &str,
        detector: &str,
        ids: &[String],
        sink: &Arc<dyn SyncSink>,
        total: &mut BatchOutcome,
        changed: &mut Vec<gdlens_domain::Finding>,
    ) -> Result<(), AwsError> {
        let (findings, _) = self.get_findings(region, detector, ids).await?;
        let committed = self
            .commit(region, detector, sink, findings, None, None)
            .await?;
        total.inserted += committed.outcome.inserted;
        total.updated += committed.outcome.updated;
        total.unchanged += committed.outcome.unchanged;
        changed.extend(committed.changed);
        Ok(())
    }
}
