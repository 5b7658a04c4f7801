//! What to fix for a finding type: one concise hardening step per threat family (the part of
//! the type a team can act on), with a fallback per threat purpose so that unknown and retired
//! types still get advice. The hardening view lists the most common types with this text.

use crate::finding_type::FindingType;

/// Hardening advice for `finding_type`: by family first, then by purpose, then a generic line.
pub fn what_to_fix(finding_type: &str) -> &'static str {
    let t = FindingType::parse(finding_type);
    by_family(t.family, t.resource_type_affected)
        .or_else(|| by_purpose(t.purpose))
        .unwrap_or(
            "Review the affected resource and account; confirm the activity is expected or \
             contain it, then close the gap that allowed it.",
        )
}

fn by_family(family: &str, resource: &str) -> Option<&'static str> {
    Some(match family {
        "SSHBruteForce" | "RDPBruteForce" | "WinRMBruteForce" => {
            "Close SSH/RDP/WinRM to the internet: restrict the security group's inbound rule to \
             known CIDRs or use Session Manager; require keys, disable password logins."
        }
        "PortProbeUnprotectedPort" | "PortProbeEMRUnprotectedPort" | "NetworkPortUnusual" => {
            "Remove the security group rule that exposes the probed port to 0.0.0.0/0; keep only \
             ports the service needs, behind a load balancer where possible."
        }
        "Portscan" | "PortSweep" => {
            "The instance scans others: isolate it, find the process, and restrict its outbound \
             security group rules."
        }
        "BucketBlockPublicAccessDisabled" | "AccountBlockPublicAccessDisabled" => {
            "Turn S3 Block Public Access back on at the account and bucket level; grant access \
             through bucket policies to named principals instead."
        }
        "BucketPublicAccessGranted"
        | "BucketAnonymousAccessGranted"
        | "AnonymousAccessGranted"
        | "SuccessfulAnonymousAccess" => {
            "Remove public and anonymous grants from the bucket policy and ACLs; enable Block \
             Public Access and disable ACLs (bucket owner enforced)."
        }
        "ServerAccessLoggingDisabled" | "CloudTrailLoggingDisabled" | "BedrockLoggingDisabled" => {
            "Re-enable the logging that was turned off and deny the disabling call with an SCP \
             for everyone but the security team."
        }
        "PasswordPolicyChange" => {
            "Restore a strong IAM password policy and alert on UpdateAccountPasswordPolicy."
        }
        "RootCredentialUsage" | "ShortTermRootCredentialUsage" => {
            "Stop using the root user: enable MFA on it, delete its access keys, and use IAM \
             Identity Center roles for daily work."
        }
        "InstanceCredentialExfiltration" | "ResourceCredentialExfiltration" => {
            "Require IMDSv2 (hop limit 1), rotate the role's sessions, and restrict the role's \
             use to your network with aws:SourceVpc / aws:SourceIp conditions."
        }
        "ConsoleLoginSuccess" | "TorIPCaller" | "MaliciousIPCaller" | "AnomalousBehavior" => {
            "Rotate the principal's credentials, enforce MFA, and scope its permissions to what \
             it uses (IAM Access Analyzer); block Tor and known-bad IPs with SCP conditions."
        }
        "CompromisedCredentials" => {
            "Revoke the credentials' sessions, rotate keys, and review what the principal did \
             (CloudTrail) before restoring least-privilege access."
        }
        "BitcoinTool" | "BitcoinDomainRequest" | "CryptoMinerExecuted" => {
            "Rebuild the instance or container from a clean image, patch how the miner got in, \
             and restrict outbound traffic to what the workload needs."
        }
        "C&CActivity"
        | "Spambot"
        | "DenialOfService"
        | "BlackholeTraffic"
        | "DropPoint"
        | "DGADomainRequest"
        | "MaliciousDomainRequest"
        | "PhishingDomainRequest"
        | "SuspiciousDomainRequest"
        | "DriveBySourceTraffic" => {
            "Treat the resource as compromised: isolate it, rebuild from a clean image, and \
             limit outbound traffic (egress rules, DNS Firewall)."
        }
        "DNSDataExfiltration"
        | "UnusualDNSResolver"
        | "UnusualDoHActivity"
        | "UnusualDoTActivity"
        | "MetadataDNSRebind"
        | "TrafficVolumeUnusual" => {
            "Force DNS through the VPC resolver with Route 53 DNS Firewall, block DoH/DoT egress, \
             and require IMDSv2."
        }
        "TorClient" | "TorRelay" => {
            "Remove Tor software from the instance and deny Tor traffic in egress rules."
        }
        "KaliLinux" | "ParrotLinux" | "PentooLinux" => {
            "Confirm the penetration test is authorised; otherwise revoke the credentials used \
             from the pentest distribution."
        }
        "ExposedDashboard" | "KubeflowDashboardExposed" => {
            "Put the dashboard behind authentication and a private endpoint; remove its public \
             load balancer or service of type LoadBalancer."
        }
        "AdminAccessToDefaultServiceAccount" | "ExecInKubeSystemPod" => {
            "Remove cluster-admin bindings from default service accounts and restrict exec into \
             pods with RBAC."
        }
        "PrivilegedContainer"
        | "ContainerWithSensitiveMount"
        | "ContainerMountsHostDirectory"
        | "DockerSocketAccessed"
        | "RuncContainerEscape"
        | "CGroupsReleaseAgentModified" => {
            "Forbid privileged containers and host mounts with Pod Security Admission \
             (restricted) or an admission policy; patch the container runtime."
        }
        "ElevationToRoot"
        | "UserfaultfdUsage"
        | "KernelModuleLoaded"
        | "ProcessInjection"
        | "PtraceAntiDebugging" => {
            "Patch the kernel and packages, run workloads as non-root with a read-only root \
             file system, and rebuild the affected host."
        }
        "MaliciousFile"
        | "MaliciousFileExecuted"
        | "SuspiciousFile"
        | "NewBinaryExecuted"
        | "NewLibraryLoaded"
        | "FilelessExecution"
        | "ReverseShell"
        | "SuspiciousCommand"
        | "SuspiciousShellCreated"
        | "SuspiciousTool" => {
            "Isolate and rebuild the workload from a clean image; keep images immutable and \
             scanned, and find the entry point (exposed service, stolen credentials)."
        }
        "CompromisedInstanceGroup" | "CompromisedCluster" | "CompromisedData" => {
            "Follow the attack sequence's signals: contain the resources it names, rotate the \
             credentials it used, and fix the first weakness in its chain."
        }
        _ => match resource {
            "S3" if family.contains("Public") => {
                "Turn S3 Block Public Access back on and remove public grants."
            }
            _ => return None,
        },
    })
}

fn by_purpose(purpose: &str) -> Option<&'static str> {
    Some(match purpose {
        "Recon" | "Discovery" => {
            "Reduce what is exposed: close unused ports and restrict who may list and describe \
             resources."
        }
        "UnauthorizedAccess" | "InitialAccess" | "CredentialAccess" => {
            "Rotate the affected credentials, enforce MFA and least privilege, and close the \
             exposure that let the caller in."
        }
        "Policy" | "Stealth" | "DefenseEvasion" | "DefenseImpairment" => {
            "Restore the weakened setting and prevent the change with an SCP or Config rule."
        }
        "PrivilegeEscalation" | "Persistence" => {
            "Remove the permissions or grants that allowed the escalation and audit recently \
             created users, roles and keys."
        }
        "Backdoor" | "Trojan" | "CryptoCurrency" | "Execution" | "Impact" | "Exfiltration"
        | "Object" | "Behavior" => {
            "Treat the resource as compromised: isolate it, rebuild it from a clean image, and \
             restrict its outbound traffic."
        }
        "PenTest" => {
            "Confirm the penetration test is authorised; otherwise rotate the credentials."
        }
        "AttackSequence" => {
            "Contain every resource the sequence names and fix the first weakness in its chain."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_purposes_and_unknown_types_get_advice() {
        assert!(what_to_fix("UnauthorizedAccess:EC2/SSHBruteForce").contains("SSH"));
        assert!(what_to_fix("Policy:S3/BucketBlockPublicAccessDisabled").contains("Block Public"));
        assert!(what_to_fix("Policy:IAMUser/RootCredentialUsage").contains("root"));
        // A family not in the table falls back to its purpose, then to the generic line.
        assert!(what_to_fix("Recon:EC2/SomethingNew").contains("close unused ports"));
        assert!(what_to_fix("Brand:New/Thing").starts_with("Review"));
        assert!(what_to_fix("").starts_with("Review"));
    }

    #[test]
    fn every_catalog_type_gets_family_or_purpose_advice() {
        let tsv = include_str!("../../gdlens-groups/data/guardduty-finding-types.tsv");
        for line in tsv.lines().skip(1) {
            let t = line.split('\t').next().unwrap_or("");
            assert!(
                !what_to_fix(t).starts_with("Review"),
                "{t} has only generic advice"
            );
        }
    }
}
