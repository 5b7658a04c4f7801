//! The fixture's data (per region: detector, findings, members, Detective graph), its fault
//! rules and its request counters. Shared by every request behind one mutex: the fixture is
//! for tests and benchmarks, not for speed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::criteria::parse_time_ms;
use crate::error::AwsError;

/// One API operation the fixture serves (AWS operation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    ListDetectors,
    ListFindings,
    GetFindings,
    GetFindingsStatistics,
    ArchiveFindings,
    UnarchiveFindings,
    UpdateFindingsFeedback,
    CreateSampleFindings,
    ListMembers,
    ListGraphs,
    ListInvestigations,
    GetInvestigation,
    ListIndicators,
    CreateFilter,
    UpdateFilter,
    GetFilter,
    ListFilters,
    DeleteFilter,
    GetDetector,
    GetMemberDetectors,
}

impl Operation {
    /// The AWS operation name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListDetectors => "ListDetectors",
            Self::ListFindings => "ListFindings",
            Self::GetFindings => "GetFindings",
            Self::GetFindingsStatistics => "GetFindingsStatistics",
            Self::ArchiveFindings => "ArchiveFindings",
            Self::UnarchiveFindings => "UnarchiveFindings",
            Self::UpdateFindingsFeedback => "UpdateFindingsFeedback",
            Self::CreateSampleFindings => "CreateSampleFindings",
            Self::ListMembers => "ListMembers",
            Self::ListGraphs => "ListGraphs",
            Self::ListInvestigations => "ListInvestigations",
            Self::GetInvestigation => "GetInvestigation",
            Self::ListIndicators => "ListIndicators",
            Self::CreateFilter => "CreateFilter",
            Self::UpdateFilter => "UpdateFilter",
            Self::GetFilter => "GetFilter",
            Self::ListFilters => "ListFilters",
            Self::DeleteFilter => "DeleteFilter",
            Self::GetDetector => "GetDetector",
            Self::GetMemberDetectors => "GetMemberDetectors",
        }
    }

    /// Whether the operation belongs to Detective (its error codes differ).
    pub fn is_detective(self) -> bool {
        matches!(
            self,
            Self::ListGraphs
                | Self::ListInvestigations
                | Self::GetInvestigation
                | Self::ListIndicators
        )
    }
}

/// What a fault rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 `ThrottlingException` / `TooManyRequestsException`.
    Throttle,
    /// 500 `InternalServerErrorException`.
    ServerError,
    /// Reply after this extra delay.
    Latency(Duration),
    /// ListFindings: the returned `nextToken` points back into the page just served, so the
    /// next page overlaps it (the duplicate-producing behaviour seen in the field).
    RepeatNextToken,
}

/// A deterministic fault: fires on every `every`-th matching request (counting from 1), at most
/// `limit` times. `region`/`operation` of `None` match all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub region: Option<String>,
    pub operation: Option<Operation>,
    pub kind: FaultKind,
    pub every: u64,
    pub limit: Option<u64>,
}

impl FaultRule {
    /// A rule firing on every `every`-th request of any region and operation.
    pub fn new(kind: FaultKind, every: u64) -> Self {
        Self {
            region: None,
            operation: None,
            kind,
            every: every.max(1),
            limit: None,
        }
    }

    /// Restricts the rule to one region.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }

    /// Restricts the rule to one operation.
    pub fn operation(mut self, operation: Operation) -> Self {
        self.operation = Some(operation);
        self
    }

    /// Fires at most `limit` times.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// How a region answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionAccess {
    /// A detector with findings.
    Detector,
    /// GuardDuty is not enabled: ListDetectors returns no detector.
    NoDetector,
    /// Every call is answered with 403 `AccessDeniedException`.
    AccessDenied,
}

/// One finding as served: the JSON and its exact bytes (the bytes go out on the wire).
#[derive(Debug, Clone)]
pub(crate) struct StoredFinding {
    pub value: Value,
    pub raw: String,
}

/// A Detective investigation: the GetInvestigation shape plus its indicators.
#[derive(Debug, Clone)]
pub(crate) struct StoredInvestigation {
    pub summary: Value,
    pub indicators: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct RegionData {
    pub access: RegionAccess,
    pub detector_id: String,
    pub findings: BTreeMap<String, StoredFinding>,
    pub feedback: BTreeMap<String, String>,
    pub members: Vec<Value>,
    /// The administrator's own detector features (GetDetector `features`).
    pub detector_features: Vec<Value>,
    /// Per member account id: its detector's features (GetMemberDetectors `features`). A member
    /// without an entry has no detector configuration to report (unprocessed).
    pub member_features: BTreeMap<String, Vec<Value>>,
    pub graph_arn: Option<String>,
    pub investigations: Vec<StoredInvestigation>,
    /// Cached ListFindings results per (criteria, sort) key; cleared on every change.
    pub listing_cache: HashMap<String, Arc<Vec<String>>>,
    /// Filters (suppression rules) by name: archive new findings at birth.
    pub filters: BTreeMap<String, crate::filters::StoredFilter>,
}

impl RegionData {
    fn new(region: &str, access: RegionAccess, detector_id: Option<String>) -> Self {
        Self {
            access,
            detector_id: detector_id.unwrap_or_else(|| derived_detector_id(region)),
            findings: BTreeMap::new(),
            feedback: BTreeMap::new(),
            members: Vec::new(),
            detector_features: default_features("ENABLED"),
            member_features: BTreeMap::new(),
            graph_arn: None,
            investigations: Vec::new(),
            listing_cache: HashMap::new(),
            filters: BTreeMap::new(),
        }
    }

    pub(crate) fn put(&mut self, mut value: Value) {
        // A new finding meets the filters first, as in GuardDuty (existing ones are untouched).
        let id_known = value
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| self.findings.contains_key(id));
        if !id_known && crate::filters::archives(&self.filters, &value) {
            if let Some(service) = value
                .as_object_mut()
                .map(|o| {
                    o.entry("service")
                        .or_insert_with(|| Value::Object(Default::default()))
                })
                .and_then(Value::as_object_mut)
            {
                service.insert("archived".into(), Value::Bool(true));
            }
        }
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let raw = value.to_string();
        self.findings.insert(id, StoredFinding { value, raw });
        self.listing_cache.clear();
    }

    /// Applies `change`, then moves `updatedAt` forward (at least 1 s past the old value and to
    /// now), as GuardDuty does when a finding changes.
    pub(crate) fn update(&mut self, id: &str, change: impl FnOnce(&mut Value)) -> bool {
        let Some(stored) = self.findings.get_mut(id) else {
            return false;
        };
        let old = stored
            .value
            .get("updatedAt")
            .and_then(Value::as_str)
            .and_then(parse_time_ms);
        change(&mut stored.value);
        let now = chrono::Utc::now().timestamp_millis();
        let next = old.map_or(now, |old| now.max(old + 1000));
        let iso = chrono::DateTime::from_timestamp_millis(next)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if let Some(obj) = stored.value.as_object_mut() {
            obj.insert("updatedAt".into(), Value::String(iso));
        }
        stored.raw = stored.value.to_string();
        self.listing_cache.clear();
        true
    }
}

/// The protection plans GuardDuty reports per detector, all with one status (what a detector
/// enabled with every plan on looks like).
pub fn default_features(status: &str) -> Vec<Value> {
    [
        "CLOUD_TRAIL",
        "DNS_LOGS",
        "FLOW_LOGS",
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION",
        "RDS_LOGIN_EVENTS",
        "LAMBDA_NETWORK_LOGS",
        "RUNTIME_MONITORING",
    ]
    .iter()
    .map(|name| {
        let mut f = serde_json::json!({ "name": name, "status": status });
        if *name == "RUNTIME_MONITORING" {
            f["additionalConfiguration"] = serde_json::json!([
                { "name": "EKS_ADDON_MANAGEMENT", "status": status },
                { "name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": status },
                { "name": "EC2_AGENT_MANAGEMENT", "status": status }
            ]);
        }
        f
    })
    .collect()
}

/// A stable 32-hex-digit detector id derived from the region name.
fn derived_detector_id(region: &str) -> String {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in region.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032x}")
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub per_operation: BTreeMap<(String, Operation), u64>,
    pub arrivals: Vec<Instant>,
    pub rule_hits: Vec<u64>,
    pub rule_fired: Vec<u64>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub regions: BTreeMap<String, RegionData>,
    pub default_region: String,
    pub faults: Vec<FaultRule>,
    pub latency: Duration,
    pub counters: Counters,
}

/// What a fault check decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Admission {
    pub delay: Duration,
    pub error: Option<AwsError>,
    pub repeat_next_token: bool,
}

/// The shared state of a running fixture. Cheap to clone; tests keep one to inspect and mutate.
#[derive(Debug, Clone)]
pub struct FixtureState {
    pub(crate) inner: Arc<Mutex<Inner>>,
}

impl FixtureState {
    /// Starts a builder.
    pub fn builder() -> FixtureBuilder {
        FixtureBuilder::default()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock only happens in a failing test; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts the request, decides faults and the reply delay.
    pub(crate) fn admit(&self, region: &str, op: Operation) -> Admission {
        let mut inner = self.lock();
        let inner = &mut *inner;
        *inner
            .counters
            .per_operation
            .entry((region.to_string(), op))
            .or_default() += 1;
        inner.counters.arrivals.push(Instant::now());
        let mut admission = Admission {
            delay: inner.latency,
            ..Admission::default()
        };
        if inner.counters.rule_hits.len() < inner.faults.len() {
            inner.counters.rule_hits.resize(inner.faults.len(), 0);
            inner.counters.rule_fired.resize(inner.faults.len(), 0);
        }
        for (i, rule) in inner.faults.iter().enumerate() {
            if rule.region.as_deref().is_some_and(|r| r != region)
                || rule.operation.is_some_and(|o| o != op)
            {
                continue;
            }
            if rule.kind == FaultKind::RepeatNextToken && op != Operation::ListFindings {
                continue;
            }
            inner.counters.rule_hits[i] += 1;
            let hit = inner.counters.rule_hits[i];
            let fired = inner.counters.rule_fired[i];
            // `checked_rem` rather than `is_multiple_of`: the workspace's MSRV (1.85) predates it.
            let due = hit.checked_rem(rule.every) == Some(0);
            if !due || rule.limit.is_some_and(|l| fired >= l) {
                continue;
            }
            match rule.kind {
                FaultKind::Throttle if admission.error.is_none() => {
                    admission.error = Some(AwsError::throttled(op.is_detective()));
                }
                FaultKind::ServerError if admission.error.is_none() => {
                    admission.error = Some(AwsError::internal(op.is_detective()));
                }
                FaultKind::Latency(d) => admission.delay += d,
                FaultKind::RepeatNextToken => admission.repeat_next_token = true,
                _ => continue,
            }
            inner.counters.rule_fired[i] += 1;
        }
        admission
    }

    /// Requests received for `op` across all regions (including faulted ones).
    pub fn request_count(&self, op: Operation) -> u64 {
        self.lock()
            .counters
            .per_operation
            .iter()
            .filter(|((_, o), _)| *o == op)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests received for `op` in `region`.
    pub fn request_count_in(&self, region: &str, op: Operation) -> u64 {
        self.lock()
            .counters
            .per_operation
            .get(&(region.to_string(), op))
            .copied()
            .unwrap_or(0)
    }

    /// Every request received.
    pub fn total_requests(&self) -> u64 {
        self.lock().counters.arrivals.len() as u64
    }

    /// The largest number of requests that arrived within any window of length `window`
    /// (half-open): the observed peak request rate.
    pub fn max_requests_in_window(&self, window: Duration) -> usize {
        let inner = self.lock();
        let arrivals = &inner.counters.arrivals;
        let mut best = 0;
        let mut start = 0;
        for end in 0..arrivals.len() {
            while arrivals[end].duration_since(arrivals[start]) >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    /// Clears the request counters (not the data).
    pub fn reset_counters(&self) {
        let mut inner = self.lock();
        inner.counters = Counters::default();
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        self.lock().faults.push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        let mut inner = self.lock();
        inner.faults.clear();
        inner.counters.rule_hits.clear();
        inner.counters.rule_fired.clear();
    }

    /// Sets the delay added to every reply.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// The detector id of a region (also for regions answering "no detector").
    pub fn detector_id(&self, region: &str) -> Option<String> {
        self.lock()
            .regions
            .get(region)
            .map(|r| r.detector_id.clone())
    }

    /// A finding as currently served.
    pub fn finding(&self, region: &str, id: &str) -> Option<Value> {
        self.lock()
            .regions
            .get(region)?
            .findings
            .get(id)
            .map(|f| f.value.clone())
    }

    /// The exact bytes served for a finding.
    pub fn finding_raw(&self, region: &str, id: &str) -> Option<String> {
        self.lock()
            .regions
            .get(region)?
            .findings
            .get(id)
            .map(|f| f.raw.clone())
    }

    /// How many findings a region holds.
    pub fn finding_count(&self, region: &str) -> usize {
        self.lock()
            .regions
            .get(region)
            .map_or(0, |r| r.findings.len())
    }

    /// Feedback last sent for a finding (`USEFUL` / `NOT_USEFUL`).
    pub fn feedback(&self, region: &str, id: &str) -> Option<String> {
        self.lock().regions.get(region)?.feedback.get(id).cloned()
    }

    /// Adds or replaces a finding in a region (exact JSON as given).
    pub fn put_finding(&self, region: &str, finding: Value) {
        let mut inner = self.lock();
        let data = inner
            .regions
            .entry(region.to_string())
            .or_insert_with(|| RegionData::new(region, RegionAccess::Detector, None));
        data.put(finding);
    }

    /// Changes a finding and moves its `updatedAt` forward. Returns false for an unknown id.
    pub fn update_finding(&self, region: &str, id: &str, change: impl FnOnce(&mut Value)) -> bool {
        let mut inner = self.lock();
        inner
            .regions
            .get_mut(region)
            .is_some_and(|r| r.update(id, change))
    }

    /// Changes how a region answers.
    pub fn set_access(&self, region: &str, access: RegionAccess) {
        let mut inner = self.lock();
        if let Some(r) = inner.regions.get_mut(region) {
            r.access = access;
        }
    }

    /// Regions the fixture knows.
    pub fn regions(&self) -> Vec<String> {
        self.lock().regions.keys().cloned().collect()
    }
}

/// Builds a [`FixtureState`].
#[derive(Debug, Default)]
pub struct FixtureBuilder {
    regions: BTreeMap<String, RegionData>,
    faults: Vec<FaultRule>,
    latency: Duration,
    default_region: Option<String>,
}

impl FixtureBuilder {
    fn entry(
        &mut self,
        region: &str,
        access: RegionAccess,
        detector: Option<&str>,
    ) -> &mut RegionData {
        let data = self
            .regions
            .entry(region.to_string())
            .or_insert_with(|| RegionData::new(region, access, detector.map(str::to_string)));
        data.access = access;
        if let Some(d) = detector {
            data.detector_id = d.to_string();
        }
        data
    }

    /// A region with a detector (`None`: an id derived from the region) serving `findings`.
    pub fn region(mut self, region: &str, detector: Option<&str>, findings: Vec<Value>) -> Self {
        let data = self.entry(region, RegionAccess::Detector, detector);
        for f in findings {
            data.put(f);
        }
        self
    }

    /// A region with a detector serving findings given as exact JSON text (kept byte for byte).
    pub fn region_raw(
        mut self,
        region: &str,
        detector: Option<&str>,
        findings: Vec<String>,
    ) -> Self {
        let data = self.entry(region, RegionAccess::Detector, detector);
        for raw in findings {
            if let Ok(value) = serde_json::from_str::<Value>(&raw) {
                let id = value
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                data.findings.insert(id, StoredFinding { value, raw });
            }
        }
        self
    }

    /// A region where GuardDuty is not enabled.
    pub fn no_detector(mut self, region: &str) -> Self {
        self.entry(region, RegionAccess::NoDetector, None);
        self
    }

    /// A region answering every call with 403 AccessDenied.
    pub fn access_denied(mut self, region: &str) -> Self {
        self.entry(region, RegionAccess::AccessDenied, None);
        self
    }

    /// Member accounts of a region's detector (ListMembers `Member` objects).
    pub fn members(mut self, region: &str, members: Vec<Value>) -> Self {
        self.entry_existing(region).members = members;
        self
    }

    /// The administrator's own detector features in a region (GetDetector `features`: objects
    /// `{name, status, additionalConfiguration}`). Default: every plan enabled.
    pub fn detector_features(mut self, region: &str, features: Vec<Value>) -> Self {
        self.entry_existing(region).detector_features = features;
        self
    }

    /// A member's detector features in a region (GetMemberDetectors `features`). Members listed
    /// by [`Self::members`] without features are reported as unprocessed.
    pub fn member_features(mut self, region: &str, account_id: &str, features: Vec<Value>) -> Self {
        self.entry_existing(region)
            .member_features
            .insert(account_id.to_string(), features);
        self
    }

    /// A Detective behavior graph in a region with its investigations (GetInvestigation shape,
    /// each with an `Indicators` list of ListIndicators `Indicator` objects).
    pub fn detective(mut self, region: &str, graph_arn: &str, investigations: Vec<Value>) -> Self {
        let data = self.entry_existing(region);
        data.graph_arn = Some(graph_arn.to_string());
        data.investigations = investigations
            .into_iter()
            .map(|mut v| {
                let indicators = v
                    .as_object_mut()
                    .and_then(|o| o.remove("Indicators"))
                    .and_then(|i| i.as_array().cloned())
                    .unwrap_or_default();
                StoredInvestigation {
                    summary: v,
                    indicators,
                }
            })
            .collect();
        self
    }

    fn entry_existing(&mut self, region: &str) -> &mut RegionData {
        self.regions
            .entry(region.to_string())
            .or_insert_with(|| RegionData::new(region, RegionAccess::Detector, None))
    }

    /// A fault rule.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Delay added to every reply.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The region assumed when a request names none (no SigV4 scope, no regional Host).
    pub fn default_region(mut self, region: &str) -> Self {
        self.default_region = Some(region.to_string());
        self
    }

    /// Finishes the state.
    pub fn build(self) -> FixtureState {
        let default_region = self
            .default_region
            .or_else(|| self.regions.keys().next().cloned())
            .unwrap_or_else(|| "us-east-1".into());
        FixtureState {
            inner: Arc::new(Mutex::new(Inner {
                regions: self.regions,
                default_region,
                faults: self.faults,
                latency: self.latency,
                counters: Counters::default(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_rule_fires_deterministically_up_to_its_limit() {
        let state = FixtureState::builder()
            .region("us-east-1", None, vec![])
            .fault(
                FaultRule::new(FaultKind::Throttle, 2)
                    .operation(Operation::ListFindings)
                    .limit(2),
            )
            .build();
        let outcomes: Vec<bool> = (0..8)
            .map(|_| {
                state
                    .admit("us-east-1", Operation::ListFindings)
                    .error
                    .is_some()
            })
            .collect();
        assert_eq!(
            outcomes,
            [false, true, false, true, false, false, false, false]
        );
        assert!(state
            .admit("us-east-1", Operation::GetFindings)
            .error
            .is_none());
        assert_eq!(state.request_count(Operation::ListFindings), 8);
    }

    #[test]
    fn detector_ids_are_stable_hex() {
        let a = derived_detector_id("us-east-1");
        assert_eq!(a.len(), 32);
        assert_eq!(a, derived_detector_id("us-east-1"));
        assert_ne!(a, derived_detector_id("eu-west-1"));
    }
}
