//! MITRE ATT&CK (Enterprise) tactics and the mapping from GuardDuty finding types to them.
//!
//! Rules (from `correlation.md`): the type's purpose gives the default tactic, per-type
//! overrides refine it, the resource role decides for `Recon` and brute force, attack sequences
//! take the tactics named by their `ATTACK_TACTIC` indicators, and anything else is "Other"
//! (no tactic). Technique hints come from the CTID mapping embedded in this crate.

use std::sync::OnceLock;

use gdlens_domain::{Finding, FindingType, ResourceRole};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One ATT&CK Enterprise tactic: id, name, and its position in the kill chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tactic {
    /// ATT&CK id, e.g. `TA0001`. Ids are stable across ATT&CK versions; names are not.
    pub id: &'static str,
    /// Display name, e.g. `Initial Access`.
    pub name: &'static str,
    /// Kill-chain position, 0 = Reconnaissance … 14 = Impact.
    pub order: u8,
}

/// The kill chain, in order. TA0005 keeps its pre-v19 name "Defense Evasion" (ATT&CK v19 calls
/// it "Stealth"; [`tactic_by_name`] accepts both), and TA0112 "Defense Impairment" (new in v19)
/// sits right after it.
pub static TACTICS: [Tactic; 15] = [
    Tactic {
        id: "TA0043",
        name: "Reconnaissance",
        order: 0,
    },
    Tactic {
        id: "TA0042",
        name: "Resource Development",
        order: 1,
    },
    Tactic {
        id: "TA0001",
        name: "Initial Access",
        order: 2,
    },
    Tactic {
        id: "TA0002",
        name: "Execution",
        order: 3,
    },
    Tactic {
        id: "TA0003",
        name: "Persistence",
        order: 4,
    },
    Tactic {
        id: "TA0004",
        name: "Privilege Escalation",
        order: 5,
    },
    Tactic {
        id: "TA0005",
        name: "Defense Evasion",
        order: 6,
    },
    Tactic {
        id: "TA0112",
        name: "Defense Impairment",
        order: 7,
    },
    Tactic {
        id: "TA0006",
        name: "Credential Access",
        order: 8,
    },
    Tactic {
        id: "TA0007",
        name: "Discovery",
        order: 9,
    },
    Tactic {
        id: "TA0008",
        name: "Lateral Movement",
        order: 10,
    },
    Tactic {
        id: "TA0009",
        name: "Collection",
        order: 11,
    },
    Tactic {
        id: "TA0011",
        name: "Command and Control",
        order: 12,
    },
    Tactic {
        id: "TA0010",
        name: "Exfiltration",
        order: 13,
    },
    Tactic {
        id: "TA0040",
        name: "Impact",
        order: 14,
    },
];

const RECONNAISSANCE: &Tactic = &TACTICS[0];
const INITIAL_ACCESS: &Tactic = &TACTICS[2];
const EXECUTION: &Tactic = &TACTICS[3];
const PERSISTENCE: &Tactic = &TACTICS[4];
const PRIVILEGE_ESCALATION: &Tactic = &TACTICS[5];
const DEFENSE_EVASION: &Tactic = &TACTICS[6];
const CREDENTIAL_ACCESS: &Tactic = &TACTICS[8];
const DISCOVERY: &Tactic = &TACTICS[9];
const COMMAND_AND_CONTROL: &Tactic = &TACTICS[12];
const EXFILTRATION: &Tactic = &TACTICS[13];
const IMPACT: &Tactic = &TACTICS[14];

/// The tactic at kill-chain position `order` (0..15).
pub fn tactic_by_order(order: u8) -> Option<&'static Tactic> {
    TACTICS.get(order as usize)
}

/// Looks a tactic up by ATT&CK id (`TA0005`) or name, any casing and spacing
/// (`Defense Evasion`, `DEFENSE_EVASION`, `Stealth`, `CommandAndControl`).
pub fn tactic_by_name(name: &str) -> Option<&'static Tactic> {
    let folded: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if let Some(t) = TACTICS.iter().find(|t| t.id.eq_ignore_ascii_case(&folded)) {
        return Some(t);
    }
    match folded.as_str() {
        // ATT&CK v19 renamed TA0005.
        "stealth" => return Some(DEFENSE_EVASION),
        "commandcontrol" | "c2" | "cc" => return Some(COMMAND_AND_CONTROL),
        _ => {}
    }
    TACTICS.iter().find(|t| {
        t.name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .eq(folded.chars())
    })
}

/// Tactics as a bit set: bit `order` is set for each tactic. Cheap to store per finding.
pub type TacticSet = u16;

/// The tactics of a set, in kill-chain order.
pub fn tactics_in(set: TacticSet) -> Vec<&'static Tactic> {
    TACTICS
        .iter()
        .filter(|t| set & (1 << t.order) != 0)
        .collect()
}

/// The tactic set of a finding (see [`tactics_for`]).
pub fn tactic_set_for(finding: &Finding) -> TacticSet {
    if finding.is_attack_sequence() {
        let mut set = 0;
        if let Some(seq) = &finding.sequence {
            for name in seq.tactic_names() {
                if let Some(t) = tactic_by_name(name) {
                    set |= 1 << t.order;
                }
            }
        }
        return set;
    }
    tactic_for_type(&finding.finding_type, finding.resource_role).map_or(0, |t| 1 << t.order)
}

/// The ATT&CK tactics of a finding, in kill-chain order; empty means "Other" (posture findings
/// such as `Policy:*`, unknown purposes, attack sequences without `ATTACK_TACTIC` indicators).
pub fn tactics_for(finding: &Finding) -> Vec<&'static Tactic> {
    tactics_in(tactic_set_for(finding))
}

/// The tactic of a (non-sequence) finding type. `role` is `service.resourceRole`: it decides
/// between Reconnaissance and Discovery for `Recon:*`, and between Initial Access and
/// Credential Access for SSH/RDP brute force (a missing role counts as target).
pub fn tactic_for_type(finding_type: &str, role: Option<ResourceRole>) -> Option<&'static Tactic> {
    let t = FindingType::parse(finding_type);
    let actor = role == Some(ResourceRole::Actor);
    let on_compute = matches!(t.resource_type_affected, "EC2" | "Lambda" | "Runtime");
    // Per-type overrides first (correlation.md, second table). Matching on purpose + family
    // lets the Lambda/Runtime variants of an EC2 type follow it.
    let by_type = match (t.purpose, t.family) {
        ("Recon", "PortProbeUnprotectedPort" | "PortProbeEMRUnprotectedPort") => {
            Some(RECONNAISSANCE)
        }
        ("Recon", "Portscan") | ("Impact", "PortSweep") => Some(DISCOVERY),
        ("UnauthorizedAccess", "SSHBruteForce" | "RDPBruteForce") => Some(if actor {
            CREDENTIAL_ACCESS
        } else {
            INITIAL_ACCESS
        }),
        ("Impact", "WinRMBruteForce") => Some(CREDENTIAL_ACCESS),
        ("UnauthorizedAccess", "ConsoleLoginSuccess" | "ConsoleLogin") => Some(INITIAL_ACCESS),
        ("UnauthorizedAccess", "MaliciousIPCaller" | "TorIPCaller") if !on_compute => {
            Some(INITIAL_ACCESS)
        }
        (
            "UnauthorizedAccess",
            "InstanceCredentialExfiltration" | "ResourceCredentialExfiltration",
        ) => Some(CREDENTIAL_ACCESS),
        // An instance or function talking to Tor or a listed IP: its outbound channel.
        ("UnauthorizedAccess", "TorClient" | "TorRelay" | "MaliciousIPCaller") => {
            Some(COMMAND_AND_CONTROL)
        }
        ("Behavior", "NetworkPortUnusual") => Some(COMMAND_AND_CONTROL),
        ("Behavior", "TrafficVolumeUnusual") | ("Trojan", "DropPoint" | "DNSDataExfiltration") => {
            Some(EXFILTRATION)
        }
        ("Trojan", "DriveBySourceTraffic") => Some(INITIAL_ACCESS),
        ("Backdoor", "DenialOfService") => Some(IMPACT),
        ("UnauthorizedAccess", "MetadataDNSRebind") => Some(CREDENTIAL_ACCESS),
        _ => None,
    };
    if by_type.is_some() {
        return by_type;
    }
    // Purpose defaults (correlation.md, first table).
    match t.purpose {
        "Recon" => Some(if actor { DISCOVERY } else { RECONNAISSANCE }),
        "InitialAccess" => Some(INITIAL_ACCESS),
        "Execution" => Some(EXECUTION),
        "Persistence" => Some(PERSISTENCE),
        "PrivilegeEscalation" => Some(PRIVILEGE_ESCALATION),
        "CredentialAccess" => Some(CREDENTIAL_ACCESS),
        "Discovery" => Some(DISCOVERY),
        "Exfiltration" => Some(EXFILTRATION),
        "Impact" => Some(IMPACT),
        "DefenseEvasion" | "Stealth" | "DefenseImpairment" => Some(DEFENSE_EVASION),
        "PenTest" => Some(DISCOVERY),
        "Backdoor" | "Trojan" => Some(COMMAND_AND_CONTROL),
        "CryptoCurrency" => Some(IMPACT),
        // Unlisted UnauthorizedAccess types (e.g. `UnauthorizedAccess:S3/TorIPCaller`) are
        // access from somewhere they should not come from.
        "UnauthorizedAccess" => Some(INITIAL_ACCESS),
        // Behavior: per type only; Policy/Object: posture, not attacker behaviour;
        // AttackSequence: from its indicators (see `tactics_for`).
        _ => None,
    }
}

/// The embedded CTID mapping (GuardDuty type → ATT&CK technique ids).
static CTID_TSV: &str = include_str!("../data/attack-techniques-ctid.tsv");

fn technique_table() -> &'static FxHashMap<&'static str, Vec<&'static str>> {
    static TABLE: OnceLock<FxHashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CTID_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("type\t") && !l.trim().is_empty())
            .filter_map(|l| l.split_once('\t'))
            .map(|(ty, techniques)| {
                (
                    ty.trim(),
                    techniques
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            })
            .collect()
    })
}

/// ATT&CK technique hints for a finding type (CTID mappings; broad in places). Looks up the exact
/// type, then the type without its `!artifact`, then without its `.mechanism` (so
/// `…/InstanceCredentialExfiltration.OutsideAWS` gets the hints of
/// `…/InstanceCredentialExfiltration`). Empty when unknown.
pub fn techniques_for(finding_type: &str) -> &'static [&'static str] {
    let table = technique_table();
    let mut candidate = finding_type;
    loop {
        if let Some(t) = table.get(candidate) {
            return t;
        }
        if let Some((head, _)) = candidate.rsplit_once('!') {
            candidate = head;
            continue;
        }
        // Strip a `.mechanism`, only within the part after `/`.
        match candidate.rsplit_once('.') {
            Some((head, _)) if head.contains('/') => candidate = head,
            _ => return &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_domain::{AttackSequence, SequenceIndicator};

    fn name(ty: &str, role: Option<ResourceRole>) -> Option<&'static str> {
        tactic_for_type(ty, role).map(|t| t.name)
    }

    #[test]
    fn kill_chain_is_ordered_and_complete() {
        for (i, t) in TACTICS.iter().enumerate() {
            assert_eq!(t.order as usize, i);
            assert_eq!(tactic_by_order(t.order), Some(t));
            assert_eq!(tactic_by_name(t.name), Some(t));
            assert_eq!(tactic_by_name(t.id), Some(t));
        }
        assert_eq!(tactic_by_name("Stealth").map(|t| t.id), Some("TA0005"));
        assert_eq!(
            tactic_by_name("DEFENSE_IMPAIRMENT").map(|t| t.id),
            Some("TA0112")
        );
        assert_eq!(
            tactic_by_name("CommandAndControl").map(|t| t.id),
            Some("TA0011")
        );
        assert_eq!(
            tactic_by_name("ta0010").map(|t| t.name),
            Some("Exfiltration")
        );
        assert_eq!(tactic_by_name("Sorcery"), None);
    }

    #[test]
    fn recon_depends_on_the_resource_role() {
        let target = Some(ResourceRole::Target);
        let actor = Some(ResourceRole::Actor);
        assert_eq!(
            name("Recon:IAMUser/MaliciousIPCaller", target),
            Some("Reconnaissance")
        );
        assert_eq!(
            name("Recon:IAMUser/MaliciousIPCaller", None),
            Some("Reconnaissance")
        );
        assert_eq!(name("Recon:IAMUser/TorIPCaller", actor), Some("Discovery"));
    }

    #[test]
    fn per_type_overrides() {
        let t = Some(ResourceRole::Target);
        let a = Some(ResourceRole::Actor);
        let cases: &[(&str, Option<ResourceRole>, &str)] = &[
            ("Recon:EC2/PortProbeUnprotectedPort", t, "Reconnaissance"),
            ("Recon:EC2/PortProbeUnprotectedPort", a, "Reconnaissance"),
            ("Recon:EC2/PortProbeEMRUnprotectedPort", t, "Reconnaissance"),
            ("Recon:EC2/Portscan", a, "Discovery"),
            ("Recon:EC2/Portscan", t, "Discovery"),
            ("Impact:EC2/PortSweep", a, "Discovery"),
            ("UnauthorizedAccess:EC2/SSHBruteForce", t, "Initial Access"),
            (
                "UnauthorizedAccess:EC2/SSHBruteForce",
                None,
                "Initial Access",
            ),
            (
                "UnauthorizedAccess:EC2/SSHBruteForce",
                a,
                "Credential Access",
            ),
            ("UnauthorizedAccess:EC2/RDPBruteForce", t, "Initial Access"),
            (
                "UnauthorizedAccess:EC2/RDPBruteForce",
                a,
                "Credential Access",
            ),
            ("Impact:EC2/WinRMBruteForce", t, "Credential Access"),
            (
                "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B",
                t,
                "Initial Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
                t,
                "Initial Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
                t,
                "Initial Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/TorIPCaller",
                t,
                "Initial Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                t,
                "Credential Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
                t,
                "Credential Access",
            ),
            (
                "UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.OutsideAWS",
                t,
                "Credential Access",
            ),
            ("UnauthorizedAccess:EC2/TorClient", a, "Command and Control"),
            ("UnauthorizedAccess:EC2/TorRelay", a, "Command and Control"),
            (
                "UnauthorizedAccess:Runtime/TorClient",
                a,
                "Command and Control",
            ),
            (
                "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
                a,
                "Command and Control",
            ),
            ("Behavior:EC2/NetworkPortUnusual", a, "Command and Control"),
            ("Behavior:EC2/TrafficVolumeUnusual", a, "Exfiltration"),
            ("Trojan:EC2/DropPoint", a, "Exfiltration"),
            ("Trojan:EC2/DropPoint!DNS", a, "Exfiltration"),
            ("Trojan:EC2/DNSDataExfiltration", a, "Exfiltration"),
            ("Trojan:EC2/DriveBySourceTraffic!DNS", a, "Initial Access"),
            ("Backdoor:EC2/DenialOfService.Tcp", a, "Impact"),
            ("Backdoor:EC2/DenialOfService.UnusualProtocol", a, "Impact"),
            (
                "UnauthorizedAccess:EC2/MetadataDNSRebind",
                a,
                "Credential Access",
            ),
            (
                "UnauthorizedAccess:Runtime/MetadataDNSRebind",
                a,
                "Credential Access",
            ),
        ];
        for (ty, role, want) in cases {
            assert_eq!(name(ty, *role), Some(*want), "{ty} {role:?}");
        }
    }

    #[test]
    fn purpose_defaults() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "InitialAccess:IAMUser/AnomalousBehavior",
                Some("Initial Access"),
            ),
            ("Execution:Runtime/ReverseShell", Some("Execution")),
            ("Persistence:IAMUser/AnomalousBehavior", Some("Persistence")),
            (
                "PrivilegeEscalation:Runtime/RuncContainerEscape",
                Some("Privilege Escalation"),
            ),
            (
                "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess",
                Some("Credential Access"),
            ),
            ("Discovery:S3/TorIPCaller", Some("Discovery")),
            ("Exfiltration:S3/AnomalousBehavior", Some("Exfiltration")),
            ("Impact:S3/AnomalousBehavior.Delete", Some("Impact")),
            (
                "DefenseEvasion:Runtime/FilelessExecution",
                Some("Defense Evasion"),
            ),
            (
                "Stealth:IAMUser/CloudTrailLoggingDisabled",
                Some("Defense Evasion"),
            ),
            (
                "DefenseImpairment:IAMUser/Something",
                Some("Defense Evasion"),
            ),
            ("PenTest:IAMUser/KaliLinux", Some("Discovery")),
            (
                "Backdoor:EC2/C&CActivity.B!DNS",
                Some("Command and Control"),
            ),
            ("Backdoor:EC2/Spambot", Some("Command and Control")),
            ("Trojan:EC2/BlackholeTraffic", Some("Command and Control")),
            ("CryptoCurrency:EC2/BitcoinTool.B!DNS", Some("Impact")),
            ("UnauthorizedAccess:S3/TorIPCaller", Some("Initial Access")),
            ("Behavior:EC2/SomethingNew", None),
            ("Policy:S3/BucketPublicAccessGranted", None),
            ("Policy:IAMUser/RootCredentialUsage", None),
            ("Object:S3/MaliciousFile", None),
            ("S3Object:S3/MaliciousFile", None),
            ("AttackSequence:IAM/CompromisedCredentials", None),
            ("TotallyUnknown", None),
            ("", None),
        ];
        for (ty, want) in cases {
            assert_eq!(name(ty, None), *want, "{ty}");
        }
    }

    #[test]
    fn every_current_type_maps_or_is_deliberately_other() {
        let tsv = include_str!("../data/guardduty-finding-types.tsv");
        let mut other = Vec::new();
        for line in tsv.lines().skip(1) {
            let ty = line.split('\t').next().unwrap_or_default();
            if tactic_for_type(ty, None).is_none() {
                other.push(ty);
            }
        }
        // Only posture (Policy, Object, S3Object) and attack sequences (their indicators decide).
        for ty in &other {
            let purpose = ty.split(':').next().unwrap_or_default();
            assert!(
                matches!(purpose, "Policy" | "Object" | "S3Object" | "AttackSequence"),
                "{ty} has no tactic"
            );
        }
    }

    #[test]
    fn attack_sequence_tactics_come_from_indicators_in_kill_chain_order() {
        let f = Finding {
            finding_type: "AttackSequence:IAM/CompromisedCredentials".into(),
            sequence: Some(AttackSequence {
                indicators: vec![
                    SequenceIndicator {
                        key: "ATTACK_TACTIC".into(),
                        values: vec!["Exfiltration".into(), "Discovery".into(), "Stealth".into()],
                        title: None,
                    },
                    SequenceIndicator {
                        key: "ATTACK_TECHNIQUE".into(),
                        values: vec!["Impact".into()],
                        title: None,
                    },
                    SequenceIndicator {
                        key: "ATTACK_TACTIC".into(),
                        values: vec!["Gibberish".into()],
                        title: None,
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let names: Vec<_> = tactics_for(&f).iter().map(|t| t.name).collect();
        assert_eq!(names, ["Defense Evasion", "Discovery", "Exfiltration"]);
        let bare = Finding {
            sequence: None,
            ..f
        };
        assert!(tactics_for(&bare).is_empty());
    }

    #[test]
    fn tactics_for_plain_finding_uses_type_and_role() {
        let f = Finding {
            finding_type: "UnauthorizedAccess:EC2/SSHBruteForce".into(),
            resource_role: Some(ResourceRole::Actor),
            ..Default::default()
        };
        assert_eq!(
            tactics_for(&f).iter().map(|t| t.id).collect::<Vec<_>>(),
            ["TA0006"]
        );
        let f = Finding {
            finding_type: "Policy:S3/BucketPublicAccessGranted".into(),
            ..Default::default()
        };
        assert!(tactics_for(&f).is_empty());
    }

    #[test]
    fn technique_hints_from_ctid() {
        assert_eq!(
            techniques_for("CryptoCurrency:EC2/BitcoinTool.B!DNS"),
            ["T1496"]
        );
        assert_eq!(
            techniques_for("UnauthorizedAccess:EC2/SSHBruteForce"),
            ["T1110"]
        );
        // Falls back from the mechanism to the family entry.
        assert_eq!(
            techniques_for("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"),
            ["T1078", "T1552.005"]
        );
        // Falls back from `!artifact`.
        assert_eq!(
            techniques_for("Trojan:EC2/DGADomainRequest.B!DNS"),
            ["T1568", "T1568.002"]
        );
        assert!(techniques_for("Impact:EC2/MaliciousDomainRequest.Custom").is_empty());
        assert!(techniques_for("Nope").is_empty());
        assert!(techniques_for("").is_empty());
        assert_eq!(technique_table().len(), 73);
    }
}
