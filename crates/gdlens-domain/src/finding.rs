//! The normalized finding: the fields gdlens filters, counts, ranks and correlates on.
//! The original JSON is kept beside it, byte for byte, by the importer and the store.

use serde::{Deserialize, Serialize};

use crate::finding_type::FindingType;
use crate::severity::SeverityLabel;
use crate::time::EpochMillis;

/// Whether the resource was the target of the activity or its actor (`service.resourceRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ResourceRole {
    Target,
    Actor,
}

/// One GuardDuty finding (one version of it), normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub id: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub schema_version: String,
    /// The full finding type, e.g. `Recon:EC2/PortProbeUnprotectedPort`.
    #[serde(rename = "type")]
    pub finding_type: String,
    /// Numeric severity as GuardDuty sent it (1.0–10.0).
    pub severity: f64,
    pub title: String,
    pub description: String,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    pub event_first_seen: Option<EpochMillis>,
    pub event_last_seen: Option<EpochMillis>,
    /// `service.count`: occurrences aggregated into this finding (≥ 1).
    pub count: u64,
    pub archived: bool,
    /// `service.additionalInfo.sample == true`.
    pub sample: bool,
    /// `resource.resourceType`, e.g. `Instance`, `AccessKey`, `S3Bucket`.
    pub resource_type: String,
    /// The affected resource's key as GuardDuty's statistics API defines it
    /// (instance id, access key id, bucket name, cluster name, function name, DB instance id, …).
    pub resource_key: Option<String>,
    pub resource_role: Option<ResourceRole>,
    pub detector_id: Option<String>,
    /// `service.featureName`, e.g. `RuntimeMonitoring`, `CloudTrail`.
    pub feature_name: Option<String>,
    pub resource: ResourceDetails,
    pub activity: Activity,
    pub associated_attack_sequence_arn: Option<String>,
    /// Present on `AttackSequence:*` findings (`service.detection.sequence`).
    pub sequence: Option<AttackSequence>,
}

impl Finding {
    /// Severity label by the numeric ranges.
    pub fn severity_label(&self) -> SeverityLabel {
        SeverityLabel::from_severity(self.severity)
    }

    /// The parsed parts of the finding type.
    pub fn type_parts(&self) -> FindingType<'_> {
        FindingType::parse(&self.finding_type)
    }

    /// Whether this is a GuardDuty attack sequence (Extended Threat Detection).
    pub fn is_attack_sequence(&self) -> bool {
        self.finding_type.starts_with("AttackSequence:")
    }

    /// First time the activity was seen: `eventFirstSeen`, else `createdAt`.
    pub fn first_seen(&self) -> EpochMillis {
        self.event_first_seen.unwrap_or(self.created_at)
    }

    /// Last time the activity was seen: `eventLastSeen`, else `updatedAt`.
    pub fn last_seen(&self) -> EpochMillis {
        self.event_last_seen.unwrap_or(self.updated_at)
    }
}

/// Identifiers of the affected resource, whatever its kind. Empty where not applicable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDetails {
    pub instance_id: Option<String>,
    /// `instanceDetails.iamInstanceProfile.arn`: links instance findings to credential findings.
    pub instance_profile_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub principal_id: Option<String>,
    pub user_name: Option<String>,
    /// `IAMUser`, `AssumedRole`, `Root`, `Federated`…
    pub user_type: Option<String>,
    pub buckets: Vec<String>,
    pub eks_cluster: Option<String>,
    pub ecs_cluster: Option<String>,
    pub kubernetes_namespace: Option<String>,
    pub kubernetes_workload: Option<String>,
    pub kubernetes_workload_uid: Option<String>,
    pub kubernetes_user: Option<String>,
    pub container_image: Option<String>,
    pub container_id: Option<String>,
    pub lambda_function: Option<String>,
    pub db_instance: Option<String>,
    pub db_user: Option<String>,
    pub public_ips: Vec<String>,
}

/// What happened: `service.action` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// `NETWORK_CONNECTION`, `PORT_PROBE`, `DNS_REQUEST`, `AWS_API_CALL`, `KUBERNETES_API_CALL`,
    /// `RDS_LOGIN_ATTEMPT`; `None` for runtime findings.
    pub action_type: Option<String>,
    /// Every remote IPv4/IPv6 address named in the action (deduplicated, in order).
    pub remote_ips: Vec<String>,
    /// ISO country codes of the remote IPs.
    pub remote_countries: Vec<String>,
    /// `organization.asnOrg` of the remote IPs.
    pub remote_orgs: Vec<String>,
    pub user_agent: Option<String>,
    /// `awsApiCallAction.api`.
    pub api: Option<String>,
    /// `awsApiCallAction.serviceName`.
    pub service_name: Option<String>,
    pub caller_type: Option<String>,
    /// `dnsRequestAction.domain`.
    pub domain: Option<String>,
    /// `remoteAccountDetails.accountId` for cross-account activity.
    pub remote_account_id: Option<String>,
    pub local_ports: Vec<u16>,
}

/// `service.detection.sequence` of an attack-sequence finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttackSequence {
    pub uid: Option<String>,
    pub description: Option<String>,
    pub signals: Vec<SequenceSignal>,
    pub actors: Vec<SequenceActor>,
    pub resources: Vec<SequenceResource>,
    pub endpoints: Vec<SequenceEndpoint>,
    pub indicators: Vec<SequenceIndicator>,
    /// `additionalSequenceTypes`: other sequence types the same activity matches.
    #[serde(default, rename = "additionalSequenceTypes")]
    pub additional_types: Vec<String>,
}

impl AttackSequence {
    /// Values of the `ATTACK_TACTIC` indicators (ATT&CK tactic names).
    pub fn tactic_names(&self) -> impl Iterator<Item = &str> {
        self.indicators
            .iter()
            .filter(|i| i.key == "ATTACK_TACTIC")
            .flat_map(|i| i.values.iter().map(String::as_str))
    }
}

/// One signal of a sequence; `signal_type == "FINDING"` means `name` is a finding type
/// and `uid` identifies the member finding (its id or ARN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SequenceSignal {
    pub uid: String,
    #[serde(rename = "type")]
    pub signal_type: String,
    pub name: String,
    pub description: Option<String>,
    pub severity: Option<f64>,
    pub count: Option<u64>,
    pub first_seen_at: Option<EpochMillis>,
    pub last_seen_at: Option<EpochMillis>,
    pub resource_uids: Vec<String>,
    pub actor_ids: Vec<String>,
    pub endpoint_ids: Vec<String>,
    /// `createdAt` / `updatedAt` (epoch seconds on the wire).
    #[serde(default)]
    pub created_at: Option<EpochMillis>,
    #[serde(default)]
    pub updated_at: Option<EpochMillis>,
    /// `signalIndicators`: the same open set of keys as the sequence's indicators.
    #[serde(default, rename = "signalIndicators")]
    pub indicators: Vec<SequenceIndicator>,
}

/// An actor of a sequence (a user / role session / process).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SequenceActor {
    pub id: String,
    pub user_name: Option<String>,
    pub user_uid: Option<String>,
    pub credential_uid: Option<String>,
    pub account_id: Option<String>,
    pub session_uid: Option<String>,
    /// `user.type` (AssumedRole, IAMUser, KubernetesUser, …; open set).
    #[serde(default)]
    pub user_type: Option<String>,
    /// `process.name` for runtime actors.
    #[serde(default)]
    pub process_name: Option<String>,
}

/// A resource of a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SequenceResource {
    pub uid: String,
    pub name: Option<String>,
    pub account_id: Option<String>,
    pub resource_type: Option<String>,
    pub region: Option<String>,
}

/// A network endpoint of a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SequenceEndpoint {
    pub id: String,
    pub ip: Option<String>,
    pub domain: Option<String>,
    pub country: Option<String>,
    /// `autonomousSystem.name`.
    #[serde(default)]
    pub autonomous_system: Option<String>,
}

/// A sequence indicator: `key` such as `ATTACK_TACTIC`, `ATTACK_TECHNIQUE`, `HIGH_RISK_API`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SequenceIndicator {
    pub key: String,
    pub values: Vec<String>,
    pub title: Option<String>,
}
