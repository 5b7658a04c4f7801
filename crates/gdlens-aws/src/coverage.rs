//! Coverage through the delegated administrator: after ListMembers, GetMemberDetectors (50
//! accounts a call) for every member and GetDetector for the administrator's own detector,
//! giving one [`CoverageRow`] per account in the region. These calls never fail the findings
//! sync; their last error is kept with the region's coverage instead.

use std::sync::Arc;

use aws_sdk_guardduty::types;
use gdlens_domain::coverage::{CoverageFeature, CoverageRow, RegionCoverage};
use gdlens_domain::time::EpochMillis;

use crate::error::AwsError;
use crate::sink::{MemberAccount, SyncSink};
use crate::source::AwsSource;
use crate::sync::blocking;

/// GuardDuty's limit of account ids per GetMemberDetectors call.
const MEMBER_DETECTORS_CHUNK: usize = 50;

fn feature(name: &str, status: Option<&str>, additional: Vec<CoverageFeature>) -> CoverageFeature {
    CoverageFeature {
        name: name.to_string(),
        status: status.unwrap_or("UNKNOWN").to_string(),
        additional,
    }
}

/// A feature entry as GetDetector and GetMemberDetectors each type it (four SDK types, one shape).
trait SdkFeature {
    fn name_str(&self) -> Option<&str>;
    fn status_str(&self) -> Option<&str>;
}

macro_rules! sdk_feature {
    ($($t:ty),*) => {$(
        impl SdkFeature for $t {
            fn name_str(&self) -> Option<&str> {
                self.name().map(|n| n.as_str())
            }
            fn status_str(&self) -> Option<&str> {
                self.status().map(|s| s.as_str())
            }
        }
    )*};
}

sdk_feature!(
    types::DetectorFeatureConfigurationResult,
    types::DetectorAdditionalConfigurationResult,
    types::MemberFeaturesConfigurationResult,
    types::MemberAdditionalConfigurationResult
);

/// The named entries of a feature list with their named additional configurations.
fn features_of<F: SdkFeature, A: SdkFeature>(
    list: &[F],
    additional: impl Fn(&F) -> &[A],
) -> Vec<CoverageFeature> {
    list.iter()
        .filter_map(|f| {
            let additional = additional(f)
                .iter()
                .filter_map(|a| Some(feature(a.name_str()?, a.status_str(), Vec::new())))
                .collect();
            Some(feature(f.name_str()?, f.status_str(), additional))
        })
        .collect()
}

/// The first error wins: it is the one that explains the rest.
fn note(error: &mut Option<(String, AwsError)>, operation: &str, e: AwsError) {
    tracing::warn!(operation, code = e.code.as_str(), error = %e, "coverage call failed");
    error.get_or_insert((operation.to_string(), e));
}

impl AwsSource {
    /// Checks and records the coverage of a region whose detector is `detector`, given what
    /// ListMembers returned (or why it failed). Never fails: a failure is recorded as the
    /// region's coverage error.
    pub(crate) async fn sync_coverage(
        &self,
        region: &str,
        detector: &str,
        members: Result<Vec<MemberAccount>, AwsError>,
        sink: &Arc<dyn SyncSink>,
    ) {
        let checked_at = chrono::Utc::now().timestamp_millis();
        let mut error: Option<(String, AwsError)> = None;
        let members = members.unwrap_or_else(|e| {
            note(&mut error, "ListMembers", e);
            Vec::new()
        });
        let mut rows = Vec::new();
        match self
            .administrator_row(region, detector, &members, checked_at)
            .await
        {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => {}
            Err(e) => note(&mut error, "GetDetector", e),
        }
        match self
            .member_rows(region, detector, &members, checked_at)
            .await
        {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => {
                note(&mut error, "GetMemberDetectors", e);
                // Members are still listed, with what is known: their relationship status.
                rows.extend(members.iter().map(|m| member_row(m, None, checked_at)));
            }
        }
        self.record_coverage(
            RegionCoverage {
                region: region.to_string(),
                checked_at,
                error_code: error.as_ref().map(|(_, e)| e.code.as_str().to_string()),
                error_message: error.map(|(op, e)| format!("{op}: {}", e.message)),
                rows,
            },
            sink,
        )
        .await;
    }

    /// Records a region whose detector could not be found (no detector, access denied): no rows,
    /// the error says why.
    pub(crate) async fn sync_coverage_failed(
        &self,
        region: &str,
        error: &AwsError,
        sink: &Arc<dyn SyncSink>,
    ) {
        self.record_coverage(
            RegionCoverage {
                region: region.to_string(),
                checked_at: chrono::Utc::now().timestamp_millis(),
                error_code: Some(error.code.as_str().to_string()),
                error_message: Some(format!("ListDetectors: {}", error.message)),
                rows: Vec::new(),
            },
            sink,
        )
        .await;
    }

    async fn record_coverage(&self, coverage: RegionCoverage, sink: &Arc<dyn SyncSink>) {
        let region = coverage.region.clone();
        if let Err(e) = blocking(sink, move |s| s.replace_coverage(&coverage)).await {
            tracing::warn!(region, code = e.code.as_str(), "coverage not recorded");
        }
    }

    /// The administrator's own detector (GetDetector). Its account id comes from the members'
    /// `administratorId`; with no member naming it, there is no row.
    async fn administrator_row(
        &self,
        region: &str,
        detector: &str,
        members: &[MemberAccount],
        checked_at: EpochMillis,
    ) -> Result<Option<CoverageRow>, AwsError> {
        let client = self.guardduty(region);
        let out = self
            .call("GetDetector", region, || {
                client.get_detector().detector_id(detector).send()
            })
            .await?;
        let Some(account_id) = members.iter().find_map(|m| m.administrator_id.clone()) else {
            tracing::debug!(region, "administrator account unknown (no members); no row");
            return Ok(None);
        };
        let features = features_of(out.features(), |f| f.additional_configuration());
        Ok(Some(CoverageRow {
            region: region.to_string(),
            account_id,
            administrator: true,
            relationship_status: None,
            detector_present: out
                .status()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("ENABLED")),
            features,
            checked_at,
        }))
    }

    /// Every member's detector features (GetMemberDetectors, 50 at a time). Accounts GuardDuty
    /// leaves unprocessed have no detector to report.
    async fn member_rows(
        &self,
        region: &str,
        detector: &str,
        members: &[MemberAccount],
        checked_at: EpochMillis,
    ) -> Result<Vec<CoverageRow>, AwsError> {
        let client = self.guardduty(region);
        let mut features = std::collections::HashMap::new();
        let ids: Vec<String> = members.iter().map(|m| m.account_id.clone()).collect();
        for chunk in ids.chunks(MEMBER_DETECTORS_CHUNK) {
            let out = self
                .call("GetMemberDetectors", region, || {
                    client
                        .get_member_detectors()
                        .detector_id(detector)
                        .set_account_ids(Some(chunk.to_vec()))
                        .send()
                })
                .await?;
            for m in out.member_data_source_configurations() {
                let Some(account) = m.account_id() else {
                    continue;
                };
                let list = features_of(m.features(), |f| f.additional_configuration());
                features.insert(account.to_string(), list);
            }
        }
        Ok(members
            .iter()
            .map(|m| member_row(m, features.remove(&m.account_id), checked_at))
            .collect())
    }
}

/// A member's row: `features` `None` when GuardDuty reported no detector for it (unprocessed)
/// or could not be asked.
fn member_row(
    m: &MemberAccount,
    features: Option<Vec<CoverageFeature>>,
    checked_at: EpochMillis,
) -> CoverageRow {
    CoverageRow {
        region: m.region.clone(),
        account_id: m.account_id.clone(),
        administrator: false,
        relationship_status: m.relationship_status.clone(),
        detector_present: features.is_some(),
        features: features.unwrap_or_default(),
        checked_at,
    }
}
