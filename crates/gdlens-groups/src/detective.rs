//! Amazon Detective investigations → the finding groups they concern.
//!
//! Detective investigates one IAM user or role; its indicators name related findings, flagged
//! IPs and new user agents. A group is related when it holds one of those findings or involves
//! one of those entities (the investigated principal, an IP, a user agent).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::correlate::Correlator;
use crate::entity::EntityKind;
use crate::group::FindingGroup;

/// What gdlens keeps of one Detective investigation (filled by the AWS sync).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Investigation {
    /// Investigation id.
    pub investigation_id: String,
    /// The investigated entity (IAM user or role ARN).
    pub entity_arn: String,
    /// Finding ids from RELATED_FINDING indicators.
    pub finding_ids: Vec<String>,
    /// Addresses from FLAGGED_IP_ADDRESS / IMPOSSIBLE_TRAVEL indicators.
    pub ips: Vec<String>,
    /// User agents from NEW_USER_AGENT indicators.
    pub user_agents: Vec<String>,
    /// Detective finding-group ids from RELATED_FINDING_GROUP indicators (Detective has no API
    /// for groups: these are shown as links to the console).
    pub finding_group_ids: Vec<String>,
}

impl Investigation {
    /// What an investigation's `ListIndicators` reply (the `Indicators` array, PascalCase as
    /// Detective sends it) says about findings and entities: RELATED_FINDING →
    /// `RelatedFindingDetail.Arn` (reduced to the finding id) and its `IpAddress`,
    /// RELATED_FINDING_GROUP → `RelatedFindingGroupDetail.Id`, FLAGGED_IP_ADDRESS,
    /// IMPOSSIBLE_TRAVEL, NEW_GEOLOCATION and TTP_OBSERVED → addresses, NEW_USER_AGENT → the
    /// agent. Unknown indicator types are skipped, never an error. Lists are distinct, in order.
    pub fn from_indicators(investigation_id: &str, entity_arn: &str, indicators: &Value) -> Self {
        let mut inv = Investigation {
            investigation_id: investigation_id.to_string(),
            entity_arn: entity_arn.to_string(),
            ..Investigation::default()
        };
        let list = indicators
            .as_array()
            .or_else(|| indicators.get("Indicators").and_then(Value::as_array));
        let text = |v: &Value, path: &str| {
            v.pointer(path)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        for ind in list.into_iter().flatten() {
            let Some(d) = ind.get("IndicatorDetail") else {
                continue;
            };
            if let Some(arn) = text(d, "/RelatedFindingDetail/Arn") {
                push(&mut inv.finding_ids, finding_id_of_arn(&arn).to_string());
            }
            if let Some(id) = text(d, "/RelatedFindingGroupDetail/Id") {
                push(&mut inv.finding_group_ids, id);
            }
            for path in [
                "/RelatedFindingDetail/IpAddress",
                "/FlaggedIpAddressDetail/IpAddress",
                "/ImpossibleTravelDetail/StartingIpAddress",
                "/ImpossibleTravelDetail/EndingIpAddress",
                "/NewGeolocationDetail/IpAddress",
                "/TTPsObservedDetail/IpAddress",
            ] {
                if let Some(ip) = text(d, path) {
                    push(&mut inv.ips, ip);
                }
            }
            if let Some(ua) = text(d, "/NewUserAgentDetail/UserAgent") {
                push(&mut inv.user_agents, ua);
            }
        }
        inv
    }

    /// Whether the investigation concerns a group (as the caller sees it): it names one of the
    /// group's findings, its investigated principal is one of the group's entities, or one of
    /// its addresses or user agents is an entity of the group that links (a capped address such
    /// as a NAT egress says nothing about this group).
    pub fn concerns(&self, group: &FindingGroup) -> bool {
        if self
            .finding_ids
            .iter()
            .any(|f| group.finding_ids.contains(f))
        {
            return true;
        }
        let wanted = entities_of_arn(&self.entity_arn);
        group.entities.iter().any(|e| {
            wanted.iter().any(|(k, v)| *k == e.kind && *v == e.value)
                || (!e.capped
                    && match e.kind {
                        EntityKind::RemoteIp => self.ips.contains(&e.value),
                        EntityKind::UserAgent => self.user_agents.contains(&e.value),
                        _ => false,
                    })
        })
    }
}

fn push(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// A GuardDuty finding ARN (`…/finding/<id>`) reduced to the finding id; anything else as is.
pub fn finding_id_of_arn(arn: &str) -> &str {
    match arn.rfind("/finding/") {
        Some(p) => &arn[p + "/finding/".len()..],
        None => arn,
    }
}

/// The Amazon Detective console page of a finding group. Detective has no API for finding
/// groups; its console shows one at `#groups/<id>` in the region of the behavior graph.
pub fn detective_group_url(region: &str, group_id: &str) -> String {
    let region = if region.is_empty() {
        "us-east-1"
    } else {
        region
    };
    format!(
        "https://console.aws.amazon.com/detective/home?region={}#groups/{}",
        url_component(region),
        url_component(group_id)
    )
}

/// The Amazon Detective console profile of a GuardDuty finding (documented profile URL format:
/// `#findings/GuardDuty/<finding id>`).
pub fn detective_finding_url(region: &str, finding_id: &str) -> String {
    let region = if region.is_empty() {
        "us-east-1"
    } else {
        region
    };
    format!(
        "https://console.aws.amazon.com/detective/home?region={}#findings/GuardDuty/{}",
        url_component(region),
        url_component(finding_id)
    )
}

/// Percent-encodes everything but unreserved characters (ids come from outside).
fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Correlator {
    /// Ids of the active groups related to an investigation, sorted.
    pub fn related_to(&self, investigation: &Investigation) -> Vec<String> {
        self.related_groups_with(
            std::slice::from_ref(&investigation.entity_arn),
            &investigation.finding_ids,
            &investigation.ips,
            &investigation.user_agents,
        )
    }
}

/// The entity keys an AWS ARN corresponds to (IAM users and roles, assumed-role sessions,
/// instances, buckets, EKS clusters, Lambda functions). Unknown ARNs give none.
pub fn entities_of_arn(arn: &str) -> Vec<(EntityKind, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Vec::new();
    }
    let (service, region, account, resource) = (parts[2], parts[3], parts[4], parts[5]);
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let mut out = Vec::new();
    match service {
        "iam" => {
            if let Some(user) = resource.strip_prefix("user/") {
                out.push((EntityKind::IamUser, format!("{account}/{}", last(user))));
            } else if let Some(role) = resource.strip_prefix("role/") {
                out.push((EntityKind::Role, format!("{account}/{}", last(role))));
            }
        }
        "sts" => {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let mut it = rest.splitn(2, '/');
                let role = it.next().unwrap_or_default();
                out.push((EntityKind::Role, format!("{account}/{role}")));
                if let Some(session) = it.next().filter(|s| s.starts_with("i-")) {
                    out.push((EntityKind::Instance, session.to_string()));
                }
            }
        }
        "ec2" => {
            if let Some(id) = resource.strip_prefix("instance/") {
                out.push((EntityKind::Instance, id.to_string()));
            }
        }
        "s3" => {
            let bucket = resource.split('/').next().unwrap_or_default();
            if !bucket.is_empty() {
                out.push((EntityKind::Bucket, bucket.to_string()));
            }
        }
        "eks" => {
            if let Some(name) = resource.strip_prefix("cluster/") {
                out.push((EntityKind::EksCluster, format!("{account}/{region}/{name}")));
            }
        }
        "lambda" => {
            if let Some(name) = resource.strip_prefix("function:") {
                let name = name.split(':').next().unwrap_or(name);
                out.push((EntityKind::Lambda, format!("{account}/{region}/{name}")));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_give_findings_addresses_agents_and_groups() {
        let v = serde_json::json!([
            {"IndicatorType": "RELATED_FINDING", "IndicatorDetail": {"RelatedFindingDetail": {
                "Arn": "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f-1",
                "Type": "Recon:EC2/PortProbeUnprotectedPort", "IpAddress": "198.51.100.7"}}},
            {"IndicatorType": "RELATED_FINDING_GROUP", "IndicatorDetail": {
                "RelatedFindingGroupDetail": {"Id": "g-123"}}},
            {"IndicatorType": "FLAGGED_IP_ADDRESS", "IndicatorDetail": {
                "FlaggedIpAddressDetail": {"IpAddress": "203.0.113.9", "Reason": "AWS_THREAT_INTELLIGENCE"}}},
            {"IndicatorType": "NEW_USER_AGENT", "IndicatorDetail": {
                "NewUserAgentDetail": {"UserAgent": "curl/7.68.0", "IsNewForEntireAccount": true}}},
            {"IndicatorType": "SOMETHING_NEW", "IndicatorDetail": {"Whatever": {}}},
            {"IndicatorType": "RELATED_FINDING", "IndicatorDetail": {"RelatedFindingDetail": {
                "Arn": "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f-1"}}}
        ]);
        let inv = Investigation::from_indicators("i-1", "arn:aws:iam::111122223333:user/a", &v);
        assert_eq!(inv.finding_ids, ["f-1"]);
        assert_eq!(inv.finding_group_ids, ["g-123"]);
        assert_eq!(inv.ips, ["198.51.100.7", "203.0.113.9"]);
        assert_eq!(inv.user_agents, ["curl/7.68.0"]);
        // The wrapped reply and garbage.
        let wrapped = serde_json::json!({"Indicators": v});
        assert_eq!(
            Investigation::from_indicators("i-1", "", &wrapped).finding_ids,
            ["f-1"]
        );
        assert!(
            Investigation::from_indicators("i", "", &serde_json::json!("x"))
                .finding_ids
                .is_empty()
        );
    }

    #[test]
    fn console_urls_are_encoded() {
        assert_eq!(
            detective_group_url("eu-west-1", "abc/def"),
            "https://console.aws.amazon.com/detective/home?region=eu-west-1#groups/abc%2Fdef"
        );
        assert_eq!(
            detective_finding_url("", "f1"),
            "https://console.aws.amazon.com/detective/home?region=us-east-1#findings/GuardDuty/f1"
        );
    }

    #[test]
    fn arns_map_to_entity_keys() {
        assert_eq!(
            entities_of_arn("arn:aws:iam::111122223333:user/ops/alice"),
            [(EntityKind::IamUser, "111122223333/alice".to_string())]
        );
        assert_eq!(
            entities_of_arn("arn:aws:sts::111122223333:assumed-role/web/i-0abc"),
            [
                (EntityKind::Role, "111122223333/web".to_string()),
                (EntityKind::Instance, "i-0abc".to_string())
            ]
        );
        assert_eq!(
            entities_of_arn("arn:aws:iam::111122223333:role/ci"),
            [(EntityKind::Role, "111122223333/ci".to_string())]
        );
        assert_eq!(
            entities_of_arn("arn:aws:s3:::logs/x"),
            [(EntityKind::Bucket, "logs".to_string())]
        );
        assert_eq!(
            entities_of_arn("arn:aws:eks:us-east-1:111122223333:cluster/prod"),
            [(
                EntityKind::EksCluster,
                "111122223333/us-east-1/prod".to_string()
            )]
        );
        assert_eq!(
            entities_of_arn("arn:aws:lambda:us-east-1:111122223333:function:f:3"),
            [(EntityKind::Lambda, "111122223333/us-east-1/f".to_string())]
        );
        assert_eq!(
            entities_of_arn("arn:aws:ec2:us-east-1:111122223333:instance/i-1"),
            [(EntityKind::Instance, "i-1".to_string())]
        );
        assert!(entities_of_arn("not-an-arn").is_empty());
        assert!(entities_of_arn("arn:aws:sqs:us-east-1:1:q").is_empty());
    }
}
