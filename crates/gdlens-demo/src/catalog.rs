//! The finding-type catalog (GuardDuty's published list, embedded) and how each type is generated.

use std::sync::OnceLock;

const TYPES_TSV: &str = include_str!("../data/guardduty-finding-types.tsv");

/// A default severity as the GuardDuty documentation states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultSeverity {
    Low,
    Medium,
    High,
    Critical,
    /// "Varies (by threat)" / "Variable": picked per finding.
    Varies,
}

/// How a type's findings look on the wire (resource kind, action, feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// VPC flow logs on an instance: NETWORK_CONNECTION or PORT_PROBE.
    InstanceFlow,
    /// DNS logs on an instance: DNS_REQUEST.
    InstanceDns,
    /// CloudTrail management events on an access key: AWS_API_CALL.
    AccessKeyApi,
    /// CloudTrail data events for S3 on a bucket: AWS_API_CALL.
    S3Api,
    /// EKS audit logs: KUBERNETES_API_CALL.
    EksAudit,
    /// Runtime monitoring: empty action, runtimeDetails.
    Runtime,
    /// Lambda network activity: NETWORK_CONNECTION.
    LambdaFlow,
    /// RDS login activity: RDS_LOGIN_ATTEMPT.
    RdsLogin,
    /// Malware protection scans (EBS, backup, S3 objects): no action.
    Malware,
    /// Extended Threat Detection sequences: only planted by stories.
    AttackSequence,
}

/// One finding type of the catalog.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// Full finding type, e.g. `Recon:EC2/PortProbeUnprotectedPort`.
    pub name: &'static str,
    /// Resource types as listed (`Instance|EKSCluster|…`).
    pub resource_types: &'static str,
    pub severity: DefaultSeverity,
    pub data_source: &'static str,
    pub shape: Shape,
}

/// Every type of the embedded catalog, in file order.
pub fn types() -> &'static [TypeInfo] {
    static TYPES: OnceLock<Vec<TypeInfo>> = OnceLock::new();
    TYPES.get_or_init(|| TYPES_TSV.lines().skip(1).filter_map(parse_line).collect())
}

/// The catalog entry of a type name.
pub fn type_info(name: &str) -> Option<&'static TypeInfo> {
    types().iter().find(|t| t.name == name)
}

fn parse_line(line: &'static str) -> Option<TypeInfo> {
    let mut cols = line.split('\t');
    let name = cols.next()?.trim();
    let resource_types = cols.next()?.trim();
    let severity = cols.next()?.trim();
    let data_source = cols.next()?.trim();
    if name.is_empty() {
        return None;
    }
    let severity = match severity.trim_end_matches('*') {
        "Low" => DefaultSeverity::Low,
        "Medium" => DefaultSeverity::Medium,
        "High" => DefaultSeverity::High,
        "Critical" => DefaultSeverity::Critical,
        _ => DefaultSeverity::Varies,
    };
    let shape = shape_of(name, resource_types, data_source);
    Some(TypeInfo {
        name,
        resource_types,
        severity,
        data_source,
        shape,
    })
}

fn shape_of(name: &str, resource_types: &str, data_source: &str) -> Shape {
    let ds = data_source.to_ascii_lowercase();
    if resource_types == "AttackSequence" {
        Shape::AttackSequence
    } else if ds.contains("runtime") {
        Shape::Runtime
    } else if ds.contains("malware") {
        Shape::Malware
    } else if ds.contains("lambda") {
        Shape::LambdaFlow
    } else if ds.contains("rds") {
        Shape::RdsLogin
    } else if ds.contains("eks") || ds.contains("kubernetes") {
        Shape::EksAudit
    } else if ds.contains("dns") {
        Shape::InstanceDns
    } else if ds.contains("flow") {
        Shape::InstanceFlow
    } else if resource_types.starts_with("S3")
        || (name.contains(":S3/") && resource_types.contains("S3"))
    {
        Shape::S3Api
    } else {
        Shape::AccessKeyApi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_every_listed_type_with_a_shape() {
        let t = types();
        assert!(t.len() >= 190, "only {} types", t.len());
        let probe = type_info("Recon:EC2/PortProbeUnprotectedPort").unwrap();
        assert_eq!(probe.shape, Shape::InstanceFlow);
        assert_eq!(probe.severity, DefaultSeverity::Low);
        assert_eq!(
            type_info("CryptoCurrency:EC2/BitcoinTool.B!DNS")
                .unwrap()
                .shape,
            Shape::InstanceDns
        );
        assert_eq!(
            type_info("Discovery:IAMUser/AnomalousBehavior")
                .unwrap()
                .shape,
            Shape::AccessKeyApi
        );
        assert_eq!(
            type_info("Exfiltration:S3/AnomalousBehavior")
                .unwrap()
                .shape,
            Shape::S3Api
        );
        assert_eq!(
            type_info("Execution:Kubernetes/ExecInKubeSystemPod")
                .unwrap()
                .shape,
            Shape::EksAudit
        );
        assert_eq!(
            type_info("CryptoCurrency:Runtime/BitcoinTool.B")
                .unwrap()
                .shape,
            Shape::Runtime
        );
        assert_eq!(
            type_info("AttackSequence:IAM/CompromisedCredentials")
                .unwrap()
                .severity,
            DefaultSeverity::Critical
        );
        assert_eq!(
            type_info("Execution:EC2/MaliciousFile").unwrap().severity,
            DefaultSeverity::Varies
        );
    }
}
