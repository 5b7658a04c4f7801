//! Entity extraction: the typed keys a finding can be linked through.
//!
//! Strong keys name one thing (an instance, an access key, a role session, a bucket…); medium
//! keys (an external IP, an unusual user agent) are shared by unrelated activity more often and
//! link only under tighter rules; weak keys (a role name, an image without a cluster) are
//! annotations that never link. Account and region are never keys on their own: they only
//! qualify names that are unique per account/region (clusters, functions, DB instances, users).

use std::net::IpAddr;

use gdlens_domain::Finding;
use serde::Serialize;

/// What an entity is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// EC2 instance id (also from `AROA…:i-…` role sessions).
    Instance,
    /// IAM access key id.
    AccessKey,
    /// `principalId` (user id or `role-id:session`).
    Principal,
    /// IAM user or root, `account/userName`.
    IamUser,
    /// Assumed role by name, `account/roleName` (annotation only: many sessions share a role).
    Role,
    /// S3 bucket name.
    Bucket,
    /// EKS cluster, `account/region/name`.
    EksCluster,
    /// ECS cluster, `account/region/name`.
    EcsCluster,
    /// Kubernetes workload uid, or `account/region/cluster/namespace/name` without a uid.
    Workload,
    /// Container image in a cluster, `image@account/region/cluster` (image alone: annotation).
    ContainerImage,
    /// Lambda function, `account/region/name`.
    Lambda,
    /// RDS DB instance, `account/region/id`.
    DbInstance,
    /// Attack sequence ARN (`associatedAttackSequenceArn`, or the sequence's own ARN).
    AttackSequence,
    /// External remote IP address.
    RemoteIp,
    /// A user agent that is not a stock AWS SDK/CLI/console agent.
    UserAgent,
}

/// How much a shared entity says about two findings being one story.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Names one resource or credential: links within the time window, across accounts too.
    Strong,
    /// Shared by unrelated activity more often: links within a tight window, few findings only.
    Medium,
    /// Never links; shown on the groups that touch it.
    Weak,
}

impl EntityKind {
    /// Stable snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instance => "instance",
            Self::AccessKey => "access_key",
            Self::Principal => "principal",
            Self::IamUser => "iam_user",
            Self::Role => "role",
            Self::Bucket => "bucket",
            Self::EksCluster => "eks_cluster",
            Self::EcsCluster => "ecs_cluster",
            Self::Workload => "workload",
            Self::ContainerImage => "container_image",
            Self::Lambda => "lambda",
            Self::DbInstance => "db_instance",
            Self::AttackSequence => "attack_sequence",
            Self::RemoteIp => "remote_ip",
            Self::UserAgent => "user_agent",
        }
    }

    /// All kinds, in declaration order (the index is the kind's code).
    pub const ALL: [EntityKind; 15] = [
        Self::Instance,
        Self::AccessKey,
        Self::Principal,
        Self::IamUser,
        Self::Role,
        Self::Bucket,
        Self::EksCluster,
        Self::EcsCluster,
        Self::Workload,
        Self::ContainerImage,
        Self::Lambda,
        Self::DbInstance,
        Self::AttackSequence,
        Self::RemoteIp,
        Self::UserAgent,
    ];

    /// The kind with code `code` (see [`EntityKind::ALL`]).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// This kind's code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Addresses that many unrelated findings name (public resolvers): never a medium key.
pub const KNOWN_BENIGN_IPS: [&str; 8] = [
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
];

/// Whether an address is outside private, loopback, link-local, CGNAT and unspecified ranges.
pub fn is_external_ip(ip: &str) -> bool {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
                || o[0] == 0)
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xFE00) == 0xFC00
                || (s[0] & 0xFFC0) == 0xFE80)
        }
        Err(_) => false,
    }
}

/// Whether a user agent is a stock AWS SDK, CLI, console or internal agent (or a stock
/// Kubernetes/browser agent): those are everywhere and must never link findings.
pub fn is_stock_user_agent(ua: &str) -> bool {
    let ua = ua.trim().to_ascii_lowercase();
    const PREFIXES: [&str; 16] = [
        "aws-sdk-",
        "aws-cli/",
        "boto3/",
        "botocore/",
        "aws-internal",
        "aws internal",
        "console.amazonaws.com",
        "signin.amazonaws.com",
        "[aws-",
        "apn/",
        "aws-console",
        "kubectl/",
        "kube-probe/",
        "kubelet/",
        "eks.amazonaws.com",
        "mozilla/",
    ];
    ua.is_empty() || PREFIXES.iter().any(|p| ua.starts_with(p)) || ua.ends_with(".amazonaws.com")
}

/// Whether a remote organization is Amazon's (the address is AWS-owned).
fn is_aws_org(org: &str) -> bool {
    let org = org.to_ascii_lowercase();
    org.starts_with("amazon") || org.contains("amazon.com") || org.contains("amazon technologies")
}

/// Strength of an entity of `kind` (image alone, role name: weak).
pub fn strength_of(kind: EntityKind, value: &str) -> Strength {
    match kind {
        EntityKind::RemoteIp | EntityKind::UserAgent => Strength::Medium,
        EntityKind::Role => Strength::Weak,
        EntityKind::ContainerImage if !value.contains('@') => Strength::Weak,
        _ => Strength::Strong,
    }
}

/// Placeholders GuardDuty sample findings use: never keys.
fn is_placeholder(value: &str) -> bool {
    value.starts_with("GeneratedFinding") || value == "i-99999999"
}

/// Calls `emit(kind, value)` for every entity of a finding. `extra_benign` lists addresses the
/// caller knows to be shared (its own NAT egress, say). Values may repeat; callers dedupe.
pub fn for_each_entity(
    f: &Finding,
    extra_benign: &[String],
    buf: &mut String,
    emit: &mut dyn FnMut(EntityKind, &str),
) {
    let r = &f.resource;
    let put = |kind: EntityKind, value: &str, emit: &mut dyn FnMut(EntityKind, &str)| {
        let value = value.trim();
        if !value.is_empty() && !is_placeholder(value) {
            emit(kind, value);
        }
    };
    let qualified = |buf: &mut String, parts: &[&str]| {
        buf.clear();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                buf.push('/');
            }
            buf.push_str(p);
        }
    };

    if let Some(id) = &r.instance_id {
        put(EntityKind::Instance, id, emit);
    }
    if let Some(key) = &r.access_key_id {
        put(EntityKind::AccessKey, key, emit);
    }
    if let Some(principal) = &r.principal_id {
        put(EntityKind::Principal, principal, emit);
        // Instance-profile credentials: the role session is named after the instance.
        if let Some((_, session)) = principal.split_once(':') {
            if session.starts_with("i-") {
                put(EntityKind::Instance, session, emit);
            }
        }
    }
    if let Some(user) = &r.user_name {
        match r.user_type.as_deref() {
            Some("AssumedRole") | Some("FederatedUser") => {
                qualified(buf, &[&f.account_id, user]);
                put(EntityKind::Role, buf, emit);
            }
            _ => {
                qualified(buf, &[&f.account_id, user]);
                put(EntityKind::IamUser, buf, emit);
            }
        }
    }
    for bucket in &r.buckets {
        put(EntityKind::Bucket, bucket, emit);
    }
    if let Some(cluster) = &r.eks_cluster {
        qualified(buf, &[&f.account_id, &f.region, cluster]);
        put(EntityKind::EksCluster, buf, emit);
    }
    if let Some(cluster) = &r.ecs_cluster {
        qualified(buf, &[&f.account_id, &f.region, cluster]);
        put(EntityKind::EcsCluster, buf, emit);
    }
    let cluster = r.eks_cluster.as_deref().or(r.ecs_cluster.as_deref());
    if let Some(uid) = &r.kubernetes_workload_uid {
        put(EntityKind::Workload, uid, emit);
    } else if let (Some(name), Some(cluster)) = (&r.kubernetes_workload, cluster) {
        let ns = r.kubernetes_namespace.as_deref().unwrap_or("default");
        qualified(buf, &[&f.account_id, &f.region, cluster, ns, name]);
        put(EntityKind::Workload, buf, emit);
    }
    if let Some(image) = &r.container_image {
        match cluster {
            Some(cluster) => {
                buf.clear();
                buf.push_str(image);
                buf.push('@');
                buf.push_str(&f.account_id);
                buf.push('/');
                buf.push_str(&f.region);
                buf.push('/');
                buf.push_str(cluster);
                put(EntityKind::ContainerImage, buf, emit);
            }
            None => put(EntityKind::ContainerImage, image, emit),
        }
    }
    if let Some(function) = &r.lambda_function {
        qualified(buf, &[&f.account_id, &f.region, function]);
        put(EntityKind::Lambda, buf, emit);
    }
    if let Some(db) = &r.db_instance {
        qualified(buf, &[&f.account_id, &f.region, db]);
        put(EntityKind::DbInstance, buf, emit);
    }
    if let Some(arn) = &f.associated_attack_sequence_arn {
        put(EntityKind::AttackSequence, arn, emit);
    }
    if let Some(seq) = &f.sequence {
        if !f.arn.is_empty() {
            put(EntityKind::AttackSequence, &f.arn, emit);
        }
        for res in &seq.resources {
            let uid = res.uid.as_str();
            let ty = res.resource_type.as_deref().unwrap_or_default();
            if let Some(bucket) = uid.strip_prefix("arn:aws:s3:::") {
                put(
                    EntityKind::Bucket,
                    bucket.split('/').next().unwrap_or_default(),
                    emit,
                );
            } else if ty.contains("S3") {
                put(EntityKind::Bucket, res.name.as_deref().unwrap_or(uid), emit);
            } else if let Some(i) = uid.rsplit('/').next().filter(|s| s.starts_with("i-")) {
                put(EntityKind::Instance, i, emit);
            }
        }
        for actor in &seq.actors {
            if let Some(key) = &actor.credential_uid {
                put(EntityKind::AccessKey, key, emit);
            }
            if let Some(session) = &actor.session_uid {
                put(EntityKind::Principal, session, emit);
            }
        }
        for endpoint in &seq.endpoints {
            if let Some(ip) = endpoint
                .ip
                .as_deref()
                .filter(|ip| linkable_ip(ip, extra_benign))
            {
                put(EntityKind::RemoteIp, ip, emit);
            }
        }
    }
    // An address whose organization is Amazon's is AWS-owned: skip it. The organization is
    // only attributable to the address when the finding names one address.
    let aws_owned =
        f.activity.remote_ips.len() == 1 && f.activity.remote_orgs.iter().any(|o| is_aws_org(o));
    if !aws_owned {
        for ip in &f.activity.remote_ips {
            if linkable_ip(ip, extra_benign) {
                put(EntityKind::RemoteIp, ip, emit);
            }
        }
    }
    if let Some(ua) = f
        .activity
        .user_agent
        .as_deref()
        .filter(|ua| !is_stock_user_agent(ua))
    {
        put(EntityKind::UserAgent, ua, emit);
    }
}

fn linkable_ip(ip: &str, extra_benign: &[String]) -> bool {
    is_external_ip(ip) && !KNOWN_BENIGN_IPS.contains(&ip) && !extra_benign.iter().any(|b| b == ip)
}

/// Every entity of a finding as `(kind, value)`, deduplicated, sorted.
pub fn entities_of(f: &Finding, extra_benign: &[String]) -> Vec<(EntityKind, String)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for_each_entity(f, extra_benign, &mut buf, &mut |k, v| {
        out.push((k, v.to_string()))
    });
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ips() {
        for ip in ["203.0.113.7", "198.51.100.1", "45.33.32.156", "2001:db8::1"] {
            assert!(is_external_ip(ip), "{ip}");
        }
        for ip in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "fd00::1",
            "fe80::1",
            "::1",
            "nonsense",
            "",
        ] {
            assert!(!is_external_ip(ip), "{ip}");
        }
    }

    #[test]
    fn stock_user_agents() {
        for ua in [
            "aws-sdk-go/1.44.0 (go1.20; linux; amd64)",
            "aws-cli/2.15.0 Python/3.11",
            "Boto3/1.34.0 md/Botocore#1.34.0",
            "console.amazonaws.com",
            "AWS Internal",
            "signin.amazonaws.com",
            "cloudtrail.amazonaws.com",
            "",
        ] {
            assert!(is_stock_user_agent(ua), "{ua}");
        }
        for ua in [
            "python-requests/2.31.0",
            "curl/8.4.0",
            "Go-http-client/1.1",
            "[pacu/1.5]",
        ] {
            assert!(!is_stock_user_agent(ua), "{ua}");
        }
    }

    #[test]
    fn strengths() {
        assert_eq!(strength_of(EntityKind::Instance, "i-1"), Strength::Strong);
        assert_eq!(
            strength_of(EntityKind::RemoteIp, "203.0.113.1"),
            Strength::Medium
        );
        assert_eq!(
            strength_of(EntityKind::UserAgent, "curl/8"),
            Strength::Medium
        );
        assert_eq!(strength_of(EntityKind::Role, "1/r"), Strength::Weak);
        assert_eq!(
            strength_of(EntityKind::ContainerImage, "nginx:latest"),
            Strength::Weak
        );
        assert_eq!(
            strength_of(EntityKind::ContainerImage, "nginx@1/r/c"),
            Strength::Strong
        );
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::from_code(k.code()), Some(k));
        }
    }
}
