//! Suppression rules as code: a GuardDuty `CreateFilter` request, a Terraform
//! `aws_guardduty_filter` resource, or a CloudFormation `AWS::GuardDuty::Filter` template.
//! Matching is the same criteria the dry run evaluated; only the spelling changes.

use gdlens_domain::time::format_iso;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::criteria::{is_time_attribute, FindingCriteria, Operator};

/// What a GuardDuty filter does with matching findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilterAction {
    /// Archive them (a suppression rule).
    Archive,
    /// Keep them (a saved filter).
    Noop,
}

impl FilterAction {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Archive => "ARCHIVE",
            Self::Noop => "NOOP",
        }
    }
}

/// A suppression rule: a named GuardDuty filter.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionRule {
    /// Filter name (3–64 characters: letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Optional description (at most 512 characters).
    pub description: Option<String>,
    /// ARCHIVE for a suppression rule.
    pub action: FilterAction,
    /// Order among the detector's filters (1–100).
    pub rank: u32,
    /// The criteria.
    pub criteria: FindingCriteria,
}

/// Why a rule cannot be exported or stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// A name GuardDuty would refuse.
    #[error("filter name `{0}` must be 3 to 64 letters, digits, `-`, `_` or `.`")]
    BadName(String),
    /// A description longer than GuardDuty allows.
    #[error("description is {0} characters, at most 512")]
    DescriptionTooLong(usize),
    /// A rank outside 1–100.
    #[error("rank {0} is outside 1..=100")]
    BadRank(u32),
}

impl RuleError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadName(_) => "RULE_BAD_NAME",
            Self::DescriptionTooLong(_) => "RULE_DESCRIPTION_TOO_LONG",
            Self::BadRank(_) => "RULE_BAD_RANK",
        }
    }
}

impl SuppressionRule {
    /// Checks name, description and rank against GuardDuty's constraints.
    pub fn validate(&self) -> Result<(), RuleError> {
        let n = &self.name;
        if n.len() < 3
            || n.len() > 64
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(RuleError::BadName(n.clone()));
        }
        if let Some(d) = &self.description {
            let len = d.chars().count();
            if len > 512 {
                return Err(RuleError::DescriptionTooLong(len));
            }
        }
        if !(1..=100).contains(&self.rank) {
            return Err(RuleError::BadRank(self.rank));
        }
        Ok(())
    }
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// GuardDuty `CreateFilter` request body (JSON).
    Guardduty,
    /// Terraform `aws_guardduty_filter` (HCL).
    Terraform,
    /// CloudFormation `AWS::GuardDuty::Filter` template (JSON).
    Cloudformation,
}

impl ExportFormat {
    /// Parses `guardduty`, `terraform`, `cloudformation` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "guardduty" => Some(Self::Guardduty),
            "terraform" => Some(Self::Terraform),
            "cloudformation" => Some(Self::Cloudformation),
            _ => None,
        }
    }
}

/// The rule as code in `format`. `detector_id` fills the detector (otherwise a placeholder:
/// `<DETECTOR_ID>`, a Terraform variable, a CloudFormation parameter).
pub fn export(rule: &SuppressionRule, format: ExportFormat, detector_id: Option<&str>) -> String {
    match format {
        ExportFormat::Guardduty => {
            let mut body = Map::new();
            body.insert(
                "detectorId".into(),
                json!(detector_id.unwrap_or("<DETECTOR_ID>")),
            );
            body.insert("name".into(), json!(rule.name));
            if let Some(d) = &rule.description {
                body.insert("description".into(), json!(d));
            }
            body.insert("action".into(), json!(rule.action.as_str()));
            body.insert("rank".into(), json!(rule.rank));
            body.insert("findingCriteria".into(), rule.criteria.to_json());
            pretty(&Value::Object(body))
        }
        ExportFormat::Terraform => terraform(rule, detector_id),
        ExportFormat::Cloudformation => cloudformation(rule, detector_id),
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn hcl_string(s: &str) -> String {
    // JSON string escaping is valid HCL; `${` and `%{` start templates in HCL, so escape them.
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

fn hcl_list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| hcl_string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// Terraform wants times as RFC 3339 and other comparisons as numbers in strings.
fn comparison_text(attribute: &str, x: f64) -> String {
    if is_time_attribute(attribute) {
        format_iso(x as i64)
    } else if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn terraform(rule: &SuppressionRule, detector_id: Option<&str>) -> String {
    let label: String = rule
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let detector = match detector_id {
        Some(d) => hcl_string(d),
        None => "var.guardduty_detector_id".to_string(),
    };
    let mut out = String::new();
    if detector_id.is_none() {
        out.push_str("variable \"guardduty_detector_id\" {\n  type = string\n}\n\n");
    }
    out.push_str(&format!(
        "resource \"aws_guardduty_filter\" \"{label}\" {{\n"
    ));
    out.push_str(&format!("  name        = {}\n", hcl_string(&rule.name)));
    if let Some(d) = &rule.description {
        out.push_str(&format!("  description = {}\n", hcl_string(d)));
    }
    out.push_str(&format!("  action      = \"{}\"\n", rule.action.as_str()));
    out.push_str(&format!("  detector_id = {detector}\n"));
    out.push_str(&format!("  rank        = {}\n\n", rule.rank));
    out.push_str("  finding_criteria {\n");
    let mut conditions: Vec<_> = rule.criteria.conditions().iter().collect();
    conditions.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    for c in conditions {
        out.push_str("    criterion {\n");
        out.push_str(&format!("      field = {}\n", hcl_string(&c.attribute)));
        for op in &c.operators {
            let (name, value) = match op {
                Operator::Equals(v) => ("equals", hcl_list(v)),
                Operator::NotEquals(v) => ("not_equals", hcl_list(v)),
                Operator::Matches(v) => ("matches", hcl_list(v)),
                Operator::NotMatches(v) => ("not_matches", hcl_list(v)),
                Operator::GreaterThan(x) => (
                    "greater_than",
                    hcl_string(&comparison_text(&c.attribute, *x)),
                ),
                Operator::GreaterThanOrEqual(x) => (
                    "greater_than_or_equal",
                    hcl_string(&comparison_text(&c.attribute, *x)),
                ),
                Operator::LessThan(x) => {
                    ("less_than", hcl_string(&comparison_text(&c.attribute, *x)))
                }
                Operator::LessThanOrEqual(x) => (
                    "less_than_or_equal",
                    hcl_string(&comparison_text(&c.attribute, *x)),
                ),
            };
            out.push_str(&format!("      {name} = {value}\n"));
        }
        out.push_str("    }\n");
    }
    out.push_str("  }\n}\n");
    out
}

fn cloudformation(rule: &SuppressionRule, detector_id: Option<&str>) -> String {
    let mut criterion = Map::new();
    for c in rule.criteria.conditions() {
        let mut cond = Map::new();
        for op in &c.operators {
            let (name, value) = match op {
                Operator::Equals(v) => ("Equals", json!(v)),
                Operator::NotEquals(v) => ("NotEquals", json!(v)),
                Operator::Matches(v) => ("Matches", json!(v)),
                Operator::NotMatches(v) => ("NotMatches", json!(v)),
                Operator::GreaterThan(x) => ("GreaterThan", json!(x)),
                Operator::GreaterThanOrEqual(x) => ("GreaterThanOrEqual", json!(x)),
                Operator::LessThan(x) => ("LessThan", json!(x)),
                Operator::LessThanOrEqual(x) => ("LessThanOrEqual", json!(x)),
            };
            cond.insert(name.into(), value);
        }
        criterion.insert(c.attribute.clone(), Value::Object(cond));
    }
    let mut props = Map::new();
    props.insert("Name".into(), json!(rule.name));
    if let Some(d) = &rule.description {
        props.insert("Description".into(), json!(d));
    }
    props.insert("Action".into(), json!(rule.action.as_str()));
    props.insert("Rank".into(), json!(rule.rank));
    props.insert(
        "DetectorId".into(),
        match detector_id {
            Some(d) => json!(d),
            None => json!({"Ref": "DetectorId"}),
        },
    );
    props.insert(
        "FindingCriteria".into(),
        json!({ "Criterion": Value::Object(criterion) }),
    );
    let logical: String = rule
        .name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    if detector_id.is_none() {
        template.insert(
            "Parameters".into(),
            json!({"DetectorId": {"Type": "String", "Description": "GuardDuty detector id"}}),
        );
    }
    template.insert(
        "Resources".into(),
        json!({ format!("Filter{logical}"): {"Type": "AWS::GuardDuty::Filter", "Properties": Value::Object(props)} }),
    );
    pretty(&Value::Object(template))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SuppressionRule {
        SuppressionRule {
            name: "dev-port-probes".into(),
            description: Some("Port probes on dev instances".into()),
            action: FilterAction::Archive,
            rank: 1,
            criteria: FindingCriteria::parse(&json!({"criterion": {
                "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
                "severity": {"lessThan": 7},
                "updatedAt": {"greaterThanOrEqual": 1_704_067_200_000_i64},
                "resource.instanceDetails.tags.value": {"equals": ["dev"]}}}))
            .unwrap(),
        }
    }

    #[test]
    fn guardduty_request_round_trips_to_the_same_criteria() {
        let text = export(&rule(), ExportFormat::Guardduty, Some("d1"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["action"], "ARCHIVE");
        assert_eq!(v["rank"], 1);
        assert_eq!(v["detectorId"], "d1");
        let back = FindingCriteria::parse(&v["findingCriteria"]).unwrap();
        assert_eq!(back, rule().criteria);
    }

    #[test]
    fn terraform_has_one_criterion_block_per_attribute() {
        let text = export(&rule(), ExportFormat::Terraform, None);
        assert!(text.contains("resource \"aws_guardduty_filter\" \"dev_port_probes\""));
        assert!(text.contains("detector_id = var.guardduty_detector_id"));
        assert_eq!(text.matches("criterion {").count(), 4);
        assert!(text.contains("less_than = \"7\""));
        assert!(text.contains("greater_than_or_equal = \"2024-01-01T00:00:00.000Z\""));
        assert!(text.contains("equals = [\"dev\"]"));
    }

    #[test]
    fn terraform_strings_cannot_open_templates() {
        assert_eq!(hcl_string("a${b}"), "\"a$${b}\"");
    }

    #[test]
    fn cloudformation_template() {
        let text = export(&rule(), ExportFormat::Cloudformation, None);
        let v: Value = serde_json::from_str(&text).unwrap();
        let p = &v["Resources"]["Filterdevportprobes"]["Properties"];
        assert_eq!(
            v["Resources"]["Filterdevportprobes"]["Type"],
            "AWS::GuardDuty::Filter"
        );
        assert_eq!(p["Action"], "ARCHIVE");
        assert_eq!(p["DetectorId"], json!({"Ref": "DetectorId"}));
        assert_eq!(
            p["FindingCriteria"]["Criterion"]["severity"]["LessThan"],
            json!(7.0)
        );
    }

    #[test]
    fn rule_validation_codes() {
        let mut r = rule();
        r.name = "a b".into();
        assert_eq!(r.validate().unwrap_err().code(), "RULE_BAD_NAME");
        r.name = "ok-name".into();
        r.rank = 0;
        assert_eq!(r.validate().unwrap_err().code(), "RULE_BAD_RANK");
        r.rank = 100;
        assert!(r.validate().is_ok());
    }
}
