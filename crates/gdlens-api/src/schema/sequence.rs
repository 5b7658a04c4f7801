//! `service.detection.sequence` of a GuardDuty attack-sequence finding, as GraphQL objects.
//! Signal types and indicator keys are open sets: they are strings, never enums, so a value
//! GuardDuty adds tomorrow passes through unchanged.

use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use gdlens_domain::{
    AttackSequence, SequenceActor, SequenceEndpoint, SequenceIndicator, SequenceResource,
    SequenceSignal,
};

use super::types::dt;

/// A GuardDuty attack sequence (Extended Threat Detection).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "AttackSequence")]
pub struct AttackSequenceGql {
    /// Sequence uid.
    pub uid: Option<String>,
    /// What GuardDuty says happened.
    pub description: Option<String>,
    /// Other attack-sequence types the same activity matches.
    pub additional_sequence_types: Vec<String>,
    /// Signals (findings and raw events) in the order GuardDuty lists them.
    pub signals: Vec<SequenceSignalGql>,
    /// Who acted.
    pub actors: Vec<SequenceActorGql>,
    /// What was acted on.
    pub resources: Vec<SequenceResourceGql>,
    /// Network endpoints involved.
    pub endpoints: Vec<SequenceEndpointGql>,
    /// Indicators (`key` is an open set: ATTACK_TACTIC, MALICIOUS_IP, VULNERABILITY, …).
    pub sequence_indicators: Vec<SequenceIndicatorGql>,
}

/// One signal of a sequence.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SequenceSignal")]
pub struct SequenceSignalGql {
    /// Signal uid (a finding ARN for FINDING signals).
    pub uid: String,
    /// FINDING, CLOUD_TRAIL, S3_DATA_EVENTS, EKS_AUDIT_LOGS, FLOW_LOGS, DNS_LOGS,
    /// RUNTIME_MONITORING, … (open set, kept as sent).
    #[graphql(name = "type")]
    pub signal_type: String,
    /// The finding type for FINDING signals, else the event or API name.
    pub name: String,
    /// The member finding's id for FINDING signals.
    pub finding_id: Option<ID>,
    /// Description.
    pub description: Option<String>,
    /// Severity.
    pub severity: Option<f64>,
    /// Occurrences.
    pub count: Option<u64>,
    /// First seen.
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Last seen.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    pub updated_at: Option<DateTime<Utc>>,
    /// Resources (`resources[].uid`).
    pub resource_uids: Vec<String>,
    /// Actors (`actors[].id`).
    pub actor_ids: Vec<String>,
    /// Endpoints (`endpoints[].id`).
    pub endpoint_ids: Vec<String>,
    /// The signal's own indicators.
    pub signal_indicators: Vec<SequenceIndicatorGql>,
}

/// An actor of a sequence: a user or role session, a Kubernetes user, a process.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SequenceActor")]
pub struct SequenceActorGql {
    /// Actor id (signals name it).
    pub id: String,
    /// User name.
    pub user_name: Option<String>,
    /// User uid (principal id).
    pub user_uid: Option<String>,
    /// User type (AssumedRole, IAMUser, KubernetesUser, …).
    pub user_type: Option<String>,
    /// Access key used.
    pub credential_uid: Option<String>,
    /// The user's account.
    pub account_id: Option<String>,
    /// Session uid.
    pub session_uid: Option<String>,
    /// Process name (runtime actors).
    pub process_name: Option<String>,
}

/// A resource of a sequence.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SequenceResource")]
pub struct SequenceResourceGql {
    /// Uid (ARN or id).
    pub uid: String,
    /// Name.
    pub name: Option<String>,
    /// Account.
    pub account_id: Option<String>,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Region.
    pub region: Option<String>,
}

/// A network endpoint of a sequence.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SequenceEndpoint")]
pub struct SequenceEndpointGql {
    /// Endpoint id (signals name it).
    pub id: String,
    /// Address.
    pub ip: Option<String>,
    /// Domain.
    pub domain: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Autonomous system name.
    pub autonomous_system: Option<String>,
}

/// An indicator: `key` (open set), a title and values.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SequenceIndicator")]
pub struct SequenceIndicatorGql {
    /// ATTACK_TACTIC, ATTACK_TECHNIQUE, MALICIOUS_IP, TOR_IP, HIGH_RISK_API, MALICIOUS_PACKAGE,
    /// VULNERABILITY, … (open set, kept as sent).
    pub key: String,
    /// Title.
    pub title: Option<String>,
    /// Values.
    pub values: Vec<String>,
}

impl From<&SequenceIndicator> for SequenceIndicatorGql {
    fn from(i: &SequenceIndicator) -> Self {
        SequenceIndicatorGql {
            key: i.key.clone(),
            title: i.title.clone(),
            values: i.values.clone(),
        }
    }
}

impl From<&SequenceSignal> for SequenceSignalGql {
    fn from(s: &SequenceSignal) -> Self {
        let finding_id = s
            .signal_type
            .eq_ignore_ascii_case("FINDING")
            .then(|| gdlens_groups::detective::finding_id_of_arn(&s.uid))
            .filter(|id| !id.is_empty())
            .map(|id| ID(id.to_string()));
        SequenceSignalGql {
            uid: s.uid.clone(),
            signal_type: s.signal_type.clone(),
            name: s.name.clone(),
            finding_id,
            description: s.description.clone(),
            severity: s.severity,
            count: s.count,
            first_seen_at: s.first_seen_at.map(dt),
            last_seen_at: s.last_seen_at.map(dt),
            created_at: s.created_at.map(dt),
            updated_at: s.updated_at.map(dt),
            resource_uids: s.resource_uids.clone(),
            actor_ids: s.actor_ids.clone(),
            endpoint_ids: s.endpoint_ids.clone(),
            signal_indicators: s.indicators.iter().map(Into::into).collect(),
        }
    }
}

impl From<&SequenceActor> for SequenceActorGql {
    fn from(a: &SequenceActor) -> Self {
        SequenceActorGql {
            id: a.id.clone(),
            user_name: a.user_name.clone(),
            user_uid: a.user_uid.clone(),
            user_type: a.user_type.clone(),
            credential_uid: a.credential_uid.clone(),
            account_id: a.account_id.clone(),
            session_uid: a.session_uid.clone(),
            process_name: a.process_name.clone(),
        }
    }
}

impl From<&SequenceResource> for SequenceResourceGql {
    fn from(r: &SequenceResource) -> Self {
        SequenceResourceGql {
            uid: r.uid.clone(),
            name: r.name.clone(),
            account_id: r.account_id.clone(),
            resource_type: r.resource_type.clone(),
            region: r.region.clone(),
        }
    }
}

impl From<&SequenceEndpoint> for SequenceEndpointGql {
    fn from(e: &SequenceEndpoint) -> Self {
        SequenceEndpointGql {
            id: e.id.clone(),
            ip: e.ip.clone(),
            domain: e.domain.clone(),
            country: e.country.clone(),
            autonomous_system: e.autonomous_system.clone(),
        }
    }
}

impl From<&AttackSequence> for AttackSequenceGql {
    fn from(s: &AttackSequence) -> Self {
        AttackSequenceGql {
            uid: s.uid.clone(),
            description: s.description.clone(),
            additional_sequence_types: s.additional_types.clone(),
            signals: s.signals.iter().map(Into::into).collect(),
            actors: s.actors.iter().map(Into::into).collect(),
            resources: s.resources.iter().map(Into::into).collect(),
            endpoints: s.endpoints.iter().map(Into::into).collect(),
            sequence_indicators: s.indicators.iter().map(Into::into).collect(),
        }
    }
}
