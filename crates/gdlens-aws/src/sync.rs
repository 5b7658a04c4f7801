//! Incremental sync: per region ListDetectors → ListMembers → coverage (GetDetector,
//! GetMemberDetectors; see `coverage.rs`) → ListFindings (`updatedAt` greater
//! than the watermark minus a lag, sorted by `updatedAt` ascending, pages of 50) → GetFindings
//! (50 at a time) → one store transaction per page with the new watermark.
//!
//! The raw finding JSON comes from the GetFindings response body (captured by an interceptor),
//! not from the SDK's typed structs, so the store keeps exactly what GuardDuty sent, including
//! fields newer than the SDK.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_guardduty::types::{Condition, FindingCriteria, OrderBy, SortCriteria};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use gdlens_domain::time::EpochMillis;
use gdlens_domain::Finding;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{AwsError, ErrorCode};
use crate::sink::{Committed, MemberAccount, RegionSyncStatus, SyncSink, SyncedFinding};
use crate::source::AwsSource;
use crate::transport::BodyCapture;

/// Called after each committed batch with its findings (the server updates its index here).
pub type CommitHook = Arc<dyn Fn(&[Finding]) + Send + Sync>;

/// How one region's run went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionReport {
    pub region: String,
    pub detector_id: Option<String>,
    /// Distinct findings fetched by GetFindings.
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Findings GuardDuty sent that could not be normalized (logged with their id).
    pub rejected: u64,
    /// ListFindings pages read.
    pub pages: u64,
    /// Ids a page repeated from an earlier page (repeated `nextToken`), skipped.
    pub repeated_ids: u64,
    pub members: u64,
    pub error: Option<AwsError>,
}

impl RegionReport {
    fn new(region: &str) -> Self {
        Self {
            region: region.to_string(),
            detector_id: None,
            fetched: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            pages: 0,
            repeated_ids: 0,
            members: 0,
            error: None,
        }
    }
}

/// The result of one sync over every region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub regions: Vec<RegionReport>,
    pub started_at: EpochMillis,
    pub finished_at: EpochMillis,
}

impl SyncReport {
    /// Regions that synced.
    pub fn succeeded(&self) -> impl Iterator<Item = &RegionReport> {
        self.regions.iter().filter(|r| r.error.is_none())
    }

    /// Regions that did not.
    pub fn failed(&self) -> impl Iterator<Item = &RegionReport> {
        self.regions.iter().filter(|r| r.error.is_some())
    }

    /// Findings fetched over all regions.
    pub fn fetched(&self) -> u64 {
        self.regions.iter().map(|r| r.fetched).sum()
    }

    /// A plain-text table, one line per region.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<16} {:<34} {:>8} {:>8} {:>8} {:>9} {:>8}  {}\n",
            "REGION",
            "DETECTOR",
            "FETCHED",
            "INSERTED",
            "UPDATED",
            "UNCHANGED",
            "REJECTED",
            "STATUS"
        );
        for r in &self.regions {
            let status = match &r.error {
                None => "ok".to_string(),
                Some(e) => format!("{}: {}", e.code.as_str(), e.message),
            };
            out.push_str(&format!(
                "{:<16} {:<34} {:>8} {:>8} {:>8} {:>9} {:>8}  {}\n",
                r.region,
                r.detector_id.as_deref().unwrap_or("-"),
                r.fetched,
                r.inserted,
                r.updated,
                r.unchanged,
                r.rejected,
                status
            ));
        }
        let secs = (self.finished_at - self.started_at) as f64 / 1000.0;
        out.push_str(&format!(
            "{} of {} regions synced, {} findings fetched in {secs:.1} s\n",
            self.succeeded().count(),
            self.regions.len(),
            self.fetched()
        ));
        out
    }
}

fn now_ms() -> EpochMillis {
    chrono::Utc::now().timestamp_millis()
}

/// Runs a blocking store call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    sink: &Arc<dyn SyncSink>,
    f: impl FnOnce(&dyn SyncSink) -> Result<T, crate::sink::SinkError> + Send + 'static,
) -> Result<T, AwsError> {
    let sink = sink.clone();
    match tokio::task::spawn_blocking(move || f(sink.as_ref())).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(code = %e.code, error = %e.message, "store write failed");
            Err(AwsError::new(
                ErrorCode::Store,
                format!("store: {}", e.code),
            ))
        }
        Err(e) => Err(AwsError::new(
            ErrorCode::Store,
            format!("store task failed: {e}"),
        )),
    }
}

#[derive(Deserialize)]
struct GetFindingsBody<'a> {
    #[serde(borrow)]
    findings: Vec<&'a RawValue>,
}

/// Splits a GetFindings body into normalized findings with their exact bytes. Findings that do
/// not normalize are counted and logged, never fatal.
pub fn parse_get_findings_body(
    body: &[u8],
    region: &str,
) -> Result<(Vec<SyncedFinding>, u64), AwsError> {
    let doc: GetFindingsBody = serde_json::from_slice(body).map_err(|e| {
        AwsError::new(
            ErrorCode::InvalidResponse,
            format!("GetFindings: reply is not the API shape ({e})"),
        )
    })?;
    let mut out = Vec::with_capacity(doc.findings.len());
    let mut rejected = 0;
    for raw in doc.findings {
        let value: serde_json::Value = match serde_json::from_str(raw.get()) {
            Ok(v) => v,
            Err(_) => {
                rejected += 1;
                continue;
            }
        };
        match gdlens_domain::normalize(&value) {
            Ok(finding) => out.push(SyncedFinding {
                finding,
                raw: raw.get().to_string(),
            }),
            Err(e) => {
                rejected += 1;
                let id = value.get("id").and_then(|v| v.as_str()).unwrap_or("?");
                tracing::warn!(region, finding_id = id, code = e.code(), error = %e, "finding from GuardDuty rejected");
            }
        }
    }
    Ok((out, rejected))
}

/// A 2xx GetFindings reply that the SDK's model could not read (a field whose shape is newer
/// than the SDK) still carries the findings, and its raw body is what gets stored anyway: one
/// odd finding must not stop a region for good. `Some(body)` for such a reply, `None` for any
/// other error.
fn body_of_unreadable_reply<E: std::error::Error>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    region: &str,
) -> Option<Option<bytes::Bytes>> {
    match err {
        SdkError::ServiceError(ctx) if ctx.raw().status().is_success() => {
            tracing::warn!(
                region,
                error = %DisplayErrorContext(ctx.err()),
                "GetFindings: the SDK could not read the reply; using the raw body"
            );
            Some(ctx.raw().body().bytes().map(bytes::Bytes::copy_from_slice))
        }
        _ => None,
    }
}

impl AwsSource {
    /// Syncs every configured region (or `regions`), `concurrency` at a time. Never fails as a
    /// whole: each region's outcome (and error) is in the report and recorded as sync status.
    pub async fn sync(
        &self,
        sink: Arc<dyn SyncSink>,
        regions: Option<&[String]>,
        on_commit: Option<CommitHook>,
    ) -> SyncReport {
        let started_at = now_ms();
        let regions: Vec<String> = regions
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| self.config().regions.clone());
        let semaphore = Arc::new(tokio::sync::Semaphore::new(
            self.config().concurrency.max(1),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, region) in regions.iter().enumerate() {
            let (source, sink, hook, semaphore, region) = (
                self.clone(),
                sink.clone(),
                on_commit.clone(),
                semaphore.clone(),
                region.clone(),
            );
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                (i, source.sync_region(&region, &sink, hook.as_ref()).await)
            });
        }
        let mut reports: Vec<Option<RegionReport>> = vec![None; regions.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, report)) => reports[i] = Some(report),
                Err(e) => tracing::error!(error = %e, "region sync task failed"),
            }
        }
        let regions = reports
            .into_iter()
            .zip(&regions)
            .map(|(r, name)| {
                r.unwrap_or_else(|| {
                    let mut r = RegionReport::new(name);
                    r.error = Some(AwsError::new(ErrorCode::Aws, "sync task failed"));
                    r
                })
            })
            .collect();
        SyncReport {
            regions,
            started_at,
            finished_at: now_ms(),
        }
    }

    /// Syncs one region and records its status.
    pub async fn sync_region(
        &self,
        region: &str,
        sink: &Arc<dyn SyncSink>,
        on_commit: Option<&CommitHook>,
    ) -> RegionReport {
        let mut report = RegionReport::new(region);
        let result = self
            .sync_region_inner(region, sink, on_commit, &mut report)
            .await;
        let finished = now_ms();
        if let Err(e) = &result {
            tracing::warn!(region, code = e.code.as_str(), error = %e, "region not synced");
            report.error = Some(e.clone());
        } else {
            tracing::info!(
                region,
                fetched = report.fetched,
                inserted = report.inserted,
                updated = report.updated,
                "region synced"
            );
        }
        let status = RegionSyncStatus {
            region: region.to_string(),
            detector_id: report.detector_id.clone(),
            attempted_at: finished,
            succeeded_at: result.is_ok().then_some(finished),
            error_code: report.error.as_ref().map(|e| e.code.as_str().to_string()),
            error_message: report.error.as_ref().map(|e| e.message.clone()),
            fetched: report.fetched,
        };
        if let Err(e) = blocking(sink, move |s| s.set_sync_status(&status)).await {
            report.error.get_or_insert(e);
        }
        report
    }

    /// The region's detector id (GuardDuty allows one per account per region).
    pub async fn detector_id(&self, region: &str) -> Result<String, AwsError> {
        let client = self.guardduty(region);
        let out = self
            .call("ListDetectors", region, || client.list_detectors().send())
            .await?;
        out.detector_ids().first().cloned().ok_or_else(|| {
            AwsError::new(
                ErrorCode::NoDetector,
                format!("GuardDuty is not enabled in {region}"),
            )
        })
    }

    /// Lists the region's members (ListMembers) and records them.
    async fn sync_members(
        &self,
        region: &str,
        detector: &str,
        sink: &Arc<dyn SyncSink>,
    ) -> Result<Vec<MemberAccount>, AwsError> {
        let client = self.guardduty(region);
        let mut members = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .call("ListMembers", region, || {
                    client
                        .list_members()
                        .detector_id(detector)
                        .max_results(50)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            members.extend(out.members().iter().filter_map(|m| {
                Some(MemberAccount {
                    account_id: m.account_id()?.to_string(),
                    email: m.email().map(str::to_string),
                    relationship_status: m.relationship_status().map(str::to_string),
                    administrator_id: m
                        .administrator_id()
                        .or(m.master_id())
                        .filter(|a| !a.is_empty())
                        .map(str::to_string),
                    region: region.to_string(),
                })
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() && Some(t) != token.as_deref() => {
                    token = Some(t.to_string())
                }
                _ => break,
            }
        }
        let recorded = members.clone();
        blocking(sink, move |s| s.record_members(&recorded)).await?;
        Ok(members)
    }

    async fn sync_region_inner(
        &self,
        region: &str,
        sink: &Arc<dyn SyncSink>,
        on_commit: Option<&CommitHook>,
        report: &mut RegionReport,
    ) -> Result<(), AwsError> {
        let started = now_ms();
        let detector = match self.detector_id(region).await {
            Ok(d) => d,
            Err(e) => {
                // No detector is itself a coverage gap: the whole region is unwatched.
                self.sync_coverage_failed(region, &e, sink).await;
                return Err(e);
            }
        };
        report.detector_id = Some(detector.clone());
        let members = self.sync_members(region, &detector, sink).await;
        match &members {
            Ok(m) => report.members = m.len() as u64,
            // Members and coverage are a nicety; the findings are what matters.
            Err(e) => tracing::warn!(region, code = e.code.as_str(), "ListMembers failed"),
        }
        self.sync_coverage(region, &detector, members, sink).await;
        let (owned_region, owned_detector) = (region.to_string(), detector.clone());
        let watermark =
            blocking(sink, move |s| s.watermark(&owned_region, &owned_detector)).await?;
        let lag_ms = (self.config().lag_seconds * 1000) as i64;
        let criteria = watermark.map(|w| {
            FindingCriteria::builder()
                .criterion(
                    "updatedAt",
                    Condition::builder().greater_than(w - lag_ms).build(),
                )
                .build()
        });
        let sort = SortCriteria::builder()
            .attribute_name("updatedAt")
            .order_by(OrderBy::Asc)
            .build();
        let client = self.guardduty(region);
        let mut seen: HashSet<String> = HashSet::new();
        let mut tokens: HashSet<String> = HashSet::new();
        let mut token: Option<String> = None;
        let mut high_water = watermark.unwrap_or(0);
        // The watermark as committed so far: a batch only carries one when it moves it, so a
        // re-sync that finds nothing new writes no watermark and leaves the store generation
        // (and every cache keyed on it) as it was.
        let mut committed_watermark = watermark;
        loop {
            let page = self
                .call("ListFindings", region, || {
                    client
                        .list_findings()
                        .detector_id(&detector)
                        .set_finding_criteria(criteria.clone())
                        .sort_criteria(sort.clone())
                        .max_results(50)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            report.pages += 1;
            let ids: Vec<String> = page
                .finding_ids()
                .iter()
                .filter(|id| !seen.contains(*id))
                .cloned()
                .collect();
            report.repeated_ids += (page.finding_ids().len() - ids.len()) as u64;
            if !ids.is_empty() {
                let (findings, rejected) = self.get_findings(region, &detector, &ids).await?;
                seen.extend(ids);
                report.fetched += findings.len() as u64;
                report.rejected += rejected;
                // Cap at the run's start: a finding updated during the run must not move the
                // watermark past findings not yet listed.
                let batch_max = findings
                    .iter()
                    .map(|f| f.finding.updated_at)
                    .max()
                    .unwrap_or(high_water);
                high_water = high_water.max(batch_max.min(started));
                let moved = (committed_watermark < Some(high_water)).then_some(high_water);
                let outcome = self
                    .commit(region, &detector, sink, findings, moved, on_commit)
                    .await?;
                committed_watermark = committed_watermark.max(moved);
                report.inserted += outcome.outcome.inserted;
                report.updated += outcome.outcome.updated;
                report.unchanged += outcome.outcome.unchanged;
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => {
                    if !tokens.insert(t.to_string()) {
                        tracing::warn!(
                            region,
                            "ListFindings repeated a nextToken; stopping this listing"
                        );
                        break;
                    }
                    token = Some(t.to_string());
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// GetFindings for ≤ 50 ids, returning findings with their exact bytes and the reject count.
    pub(crate) async fn get_findings(
        &self,
        region: &str,
        detector: &str,
        ids: &[String],
    ) -> Result<(Vec<SyncedFinding>, u64), AwsError> {
        let client = self.guardduty(region);
        let mut findings = Vec::new();
        let mut rejected = 0;
        for chunk in ids.chunks(50) {
            // (findings in the SDK's typed reply, when it could read one; the raw body)
            let (typed, body) = self
                .call("GetFindings", region, || {
                    let capture = BodyCapture::default();
                    let request = client
                        .get_findings()
                        .detector_id(detector)
                        .set_finding_ids(Some(chunk.to_vec()))
                        .customize()
                        .interceptor(capture.clone())
                        .send();
                    async move {
                        match request.await {
                            Ok(out) => Ok((Some(out.findings().len()), capture.take())),
                            Err(e) => match body_of_unreadable_reply(&e, region) {
                                Some(body) => Ok((None, body)),
                                None => Err(e),
                            },
                        }
                    }
                })
                .await?;
            let body = body.ok_or_else(|| {
                AwsError::new(
                    ErrorCode::InvalidResponse,
                    "GetFindings: reply body not captured",
                )
            })?;
            let (mut parsed, r) = parse_get_findings_body(&body, region)?;
            if typed.is_some_and(|n| parsed.len() as u64 + r != n as u64) {
                return Err(AwsError::new(
                    ErrorCode::InvalidResponse,
                    "GetFindings: raw and typed replies disagree",
                ));
            }
            rejected += r;
            findings.append(&mut parsed);
        }
        Ok((findings, rejected))
    }

    /// Commits one batch (and the watermark) on the blocking pool, then runs the hook with the
    /// findings whose latest version changed.
    pub(crate) async fn commit(
        &self,
        region: &str,
        detector: &str,
        sink: &Arc<dyn SyncSink>,
        findings: Vec<SyncedFinding>,
        watermark: Option<EpochMillis>,
        on_commit: Option<&CommitHook>,
    ) -> Result<Committed, AwsError> {
        let (owned_region, owned_detector) = (region.to_string(), detector.to_string());
        let committed = blocking(sink, move |s| {
            s.commit(&owned_region, &owned_detector, &findings, watermark)
        })
        .await?;
        if let Some(hook) = on_commit {
            if !committed.changed.is_empty() {
                hook(&committed.changed);
            }
        }
        Ok(committed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_are_kept_exactly_and_bad_findings_are_counted() {
        let body = br#"{"findings":[ {"id":"a1", "type":"Recon:EC2/PortProbeUnprotectedPort","accountId":"111122223333","severity":2,"updatedAt":"2024-01-01T00:00:00Z","futureField":{"x":[1,2]}},{"id":"b2"} ]}"#;
        let (ok, rejected) = parse_get_findings_body(body, "us-east-1").unwrap();
        assert_eq!(rejected, 1);
        assert_eq!(ok.len(), 1);
        assert_eq!(
            ok[0].raw,
            r#"{"id":"a1", "type":"Recon:EC2/PortProbeUnprotectedPort","accountId":"111122223333","severity":2,"updatedAt":"2024-01-01T00:00:00Z","futureField":{"x":[1,2]}}"#
        );
        assert_eq!(ok[0].finding.id, "a1");
        let err = parse_get_findings_body(b"<html>", "us-east-1").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidResponse);
    }
}
