//! `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.

/// The parsed parts of a finding type. Unknown or malformed types still parse:
/// whatever part is missing is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingType<'a> {
    /// e.g. `UnauthorizedAccess`.
    pub purpose: &'a str,
    /// e.g. `EC2`, `IAMUser`, `S3`, `Kubernetes`, `Runtime`.
    pub resource_type_affected: &'a str,
    /// e.g. `SSHBruteForce`, `BitcoinTool`.
    pub family: &'a str,
    /// e.g. `B`, `OutsideAWS`, `Tor` (after the first `.`).
    pub mechanism: &'a str,
    /// e.g. `DNS` (after `!`).
    pub artifact: &'a str,
}

impl<'a> FindingType<'a> {
    /// Splits a finding type into its parts; never fails.
    pub fn parse(s: &'a str) -> Self {
        let (purpose, rest) = s.split_once(':').unwrap_or(("", s));
        let (resource_type_affected, rest) = rest.split_once('/').unwrap_or(("", rest));
        let (rest, artifact) = rest.split_once('!').unwrap_or((rest, ""));
        let (family, mechanism) = rest.split_once('.').unwrap_or((rest, ""));
        FindingType {
            purpose,
            resource_type_affected,
            family,
            mechanism,
            artifact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_type() {
        let t = FindingType::parse("CryptoCurrency:EC2/BitcoinTool.B!DNS");
        assert_eq!(t.purpose, "CryptoCurrency");
        assert_eq!(t.resource_type_affected, "EC2");
        assert_eq!(t.family, "BitcoinTool");
        assert_eq!(t.mechanism, "B");
        assert_eq!(t.artifact, "DNS");
    }

    #[test]
    fn parses_dotted_mechanism() {
        let t = FindingType::parse(
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        );
        assert_eq!(t.family, "InstanceCredentialExfiltration");
        assert_eq!(t.mechanism, "OutsideAWS");
        assert_eq!(t.artifact, "");
    }

    #[test]
    fn unknown_shapes_do_not_fail() {
        let t = FindingType::parse("SomethingNew");
        assert_eq!(t.family, "SomethingNew");
        assert_eq!(t.purpose, "");
        let t = FindingType::parse("");
        assert_eq!(t.family, "");
    }
}
