//! One finding before it is written: the fields the generator varies, rendered to the
//! GetFindings wire shape (camelCase) by [`Draft::render`].

use gdlens_domain::time::format_iso;
use rand::Rng;

use crate::catalog::DefaultSeverity;
use crate::entities::hex;
use crate::json::Json;

/// A finding being generated (one version of it).
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: String,
    pub account: String,
    pub region: &'static str,
    pub detector_id: String,
    pub finding_type: &'static str,
    pub severity: f64,
    pub title: String,
    pub description: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: u64,
    pub archived: bool,
    pub sample: bool,
    pub resource_role: &'static str,
    pub feature_name: &'static str,
    pub resource_type: &'static str,
    /// Members of `resource` after `resourceType` (the per-kind sub-objects).
    pub resource: Vec<(&'static str, Json)>,
    /// `service.action` (an empty object for runtime and malware findings).
    pub action: Json,
    pub runtime_details: Option<Json>,
    pub ebs_scan: Option<Json>,
    /// Raw keys of `service.additionalInfo` (the `value` string and `type` are added on render).
    pub additional_info: Vec<(&'static str, Json)>,
    pub detection: Option<Json>,
    pub associated_sequence_arn: Option<String>,
}

impl Draft {
    /// The finding ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:guardduty:{}:{}:detector/{}/finding/{}",
            self.region, self.account, self.detector_id, self.id
        )
    }

    /// The GetFindings wire object.
    pub fn render(&self) -> Json {
        let mut info_raw = self.additional_info.clone();
        if self.sample {
            info_raw.push(("sample", true.into()));
        }
        let value = Json::Obj(info_raw.clone()).to_json_string();
        let mut info = info_raw;
        info.push(("value", value.into()));
        info.push(("type", "default".into()));

        let mut service = vec![
            ("action", self.action.clone()),
            ("additionalInfo", Json::Obj(info)),
            ("archived", self.archived.into()),
            ("count", self.count.into()),
        ];
        if let Some(d) = &self.detection {
            service.push(("detection", d.clone()));
        }
        service.push(("detectorId", self.detector_id.as_str().into()));
        if let Some(e) = &self.ebs_scan {
            service.push(("ebsVolumeScanDetails", e.clone()));
        }
        service.push(("eventFirstSeen", format_iso(self.first_seen_ms).into()));
        service.push(("eventLastSeen", format_iso(self.last_seen_ms).into()));
        service.push(("featureName", self.feature_name.into()));
        service.push(("resourceRole", self.resource_role.into()));
        if let Some(r) = &self.runtime_details {
            service.push(("runtimeDetails", r.clone()));
        }
        service.push(("serviceName", "guardduty".into()));

        let mut resource = Vec::with_capacity(self.resource.len() + 1);
        resource.extend(self.resource.iter().cloned());
        resource.push(("resourceType", self.resource_type.into()));

        let mut f = vec![
            ("accountId", self.account.as_str().into()),
            ("arn", self.arn().into()),
        ];
        if let Some(a) = &self.associated_sequence_arn {
            f.push(("associatedAttackSequenceArn", a.as_str().into()));
        }
        f.extend([
            ("createdAt", format_iso(self.created_ms).into()),
            ("description", self.description.as_str().into()),
            ("id", self.id.as_str().into()),
            ("partition", "aws".into()),
            ("region", self.region.into()),
            ("resource", Json::Obj(resource)),
            ("schemaVersion", "2.0".into()),
            ("service", Json::Obj(service)),
            ("severity", self.severity.into()),
            ("title", self.title.as_str().into()),
            ("type", self.finding_type.into()),
            ("updatedAt", format_iso(self.updated_ms).into()),
        ]);
        Json::Obj(f)
    }
}

/// A 32-hex finding id.
pub fn finding_id(rng: &mut impl Rng) -> String {
    hex(rng, 32)
}

/// A numeric severity for a default severity, the way GuardDuty spreads them.
pub fn severity_for(rng: &mut impl Rng, s: DefaultSeverity) -> f64 {
    let s = match s {
        DefaultSeverity::Varies => [
            DefaultSeverity::Low,
            DefaultSeverity::Medium,
            DefaultSeverity::High,
        ][rng.gen_range(0..3)],
        other => other,
    };
    let (usual, others): (f64, &[f64]) = match s {
        DefaultSeverity::Low => (2.0, &[1.0, 3.0, 3.5]),
        DefaultSeverity::Medium => (5.0, &[4.0, 6.0, 5.3, 6.9]),
        DefaultSeverity::High => (8.0, &[7.0, 8.5, 7.5, 8.9]),
        DefaultSeverity::Critical | DefaultSeverity::Varies => (9.0, &[9.5, 10.0]),
    };
    if rng.gen_bool(0.7) {
        usual
    } else {
        others[rng.gen_range(0..others.len())]
    }
}

/// A human title and description for a type on a resource, in GuardDuty's voice.
pub fn title_and_description(
    finding_type: &str,
    resource_kind: &str,
    key: &str,
    remote: Option<&str>,
) -> (String, String) {
    let parsed = gdlens_domain::FindingType::parse(finding_type);
    let purpose = parsed.purpose;
    let family = parsed.family;
    let title = match remote {
        Some(ip) => {
            format!("{purpose} activity ({family}) involving {resource_kind} {key} and {ip}.")
        }
        None => format!("{purpose} activity ({family}) on {resource_kind} {key}."),
    };
    let description = format!(
        "{resource_kind} {key} is involved in activity that matches the {finding_type} finding type. \
         This may indicate {} behaviour; investigate the resource and the credentials it uses.",
        purpose.to_ascii_lowercase()
    );
    (title, description)
}
