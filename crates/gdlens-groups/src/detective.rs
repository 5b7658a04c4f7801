//! Amazon Detective investigations → the finding groups they concern.
//!
//! Detective investigates one IAM user or role; its indicators name related findings, flagged
//! IPs and new user agents. A group is related when it holds one of those findings or involves
//! one of those entities (the investigated principal, an IP, a user agent).

use serde::{Deserialize, Serialize};

use crate::correlate::Correlator;
use crate::entity::EntityKind;

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
