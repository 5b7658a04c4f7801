//! GuardDuty JSON (camelCase wire/API shape, or PascalCase AWS CLI shape) → [`Finding`].
//!
//! Lenient by design: every optional block may be missing, unknown fields are ignored,
//! timestamps come as ISO strings or epoch numbers. Only what gdlens cannot work without
//! is required: `id`, `type`, `accountId` (or an ARN that names it), `severity`, and
//! `updatedAt` (or `createdAt`). The finding's own timestamps (`createdAt`, `updatedAt`,
//! `service.eventFirstSeen`, `service.eventLastSeen`) must parse and lie in 2000..2200
//! ([`crate::time::MIN_TIMESTAMP_MS`]); anything else is an error, never a silent 1970-01-01.
//!
//! Works on [`JsonRef`], a JSON tree that borrows its keys and strings from the input text:
//! bulk imports parse a million findings, and a `serde_json::Value` (a map node and an owned
//! `String` per key and value) cost most of their CPU.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use thiserror::Error;

use crate::finding::{
    Activity, AttackSequence, Finding, ResourceDetails, ResourceRole, SequenceActor,
    SequenceEndpoint, SequenceIndicator, SequenceResource, SequenceSignal,
};
use crate::time::{checked_epoch_number, checked_string, EpochMillis, TimestampProblem};

/// Why a JSON value is not a usable finding. `field` names the wire field (camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NormalizeError {
    #[error("not a JSON object")]
    NotAnObject,
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{field}`: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// A timestamp outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z (see [`crate::time`]).
    #[error(
        "field `{field}`: timestamp {value} is outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z"
    )]
    TimestampOutOfRange {
        field: &'static str,
        /// The value as written in the input (long strings cut short).
        value: String,
    },
}

impl NormalizeError {
    /// Stable machine code for reports: `not_an_object`, `missing_field`, `invalid_field`,
    /// `timestamp_out_of_range`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject => "not_an_object",
            Self::Missing(_) => "missing_field",
            Self::Invalid { .. } => "invalid_field",
            Self::TimestampOutOfRange { .. } => "timestamp_out_of_range",
        }
    }
}

/// A parsed JSON value borrowing from its text (strings with escapes are owned). Objects keep
/// their members in document order; a repeated key resolves to its last value, as in `Value`.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonRef<'a> {
    Null,
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    Array(Vec<JsonRef<'a>>),
    Object(Vec<(Cow<'a, str>, JsonRef<'a>)>),
}

/// Stands in for an absent subtree, so lookups below it find nothing.
static NULL: JsonRef<'static> = JsonRef::Null;

impl<'a> JsonRef<'a> {
    /// Parses JSON text, borrowing from it.
    pub fn parse(text: &'a str) -> Result<JsonRef<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Borrows a `serde_json::Value` (strings are not copied).
    pub fn from_value(v: &'a Value) -> JsonRef<'a> {
        match v {
            Value::Null => JsonRef::Null,
            Value::Bool(b) => JsonRef::Bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    JsonRef::U64(u)
                } else if let Some(i) = n.as_i64() {
                    JsonRef::I64(i)
                } else {
                    JsonRef::F64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => JsonRef::Str(Cow::Borrowed(s)),
            Value::Array(items) => JsonRef::Array(items.iter().map(JsonRef::from_value).collect()),
            Value::Object(map) => JsonRef::Object(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), JsonRef::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, JsonRef<'a>)]> {
        match self {
            JsonRef::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, JsonRef::Object(_))
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[JsonRef<'a>]> {
        match self {
            JsonRef::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            JsonRef::U64(u) => Some(*u),
            _ => None,
        }
    }

    /// Any number as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonRef::U64(u) => Some(*u as f64),
            JsonRef::I64(i) => Some(*i as f64),
            JsonRef::F64(f) => Some(*f),
            _ => None,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, JsonRef::U64(_) | JsonRef::I64(_) | JsonRef::F64(_))
    }

    /// A number written as `serde_json` writes it (`3`, `-1`, `2.5`, `3.0`).
    fn number_text(&self) -> Option<String> {
        match self {
            JsonRef::U64(u) => Some(u.to_string()),
            JsonRef::I64(i) => Some(i.to_string()),
            JsonRef::F64(f) => serde_json::Number::from_f64(*f).map(|n| n.to_string()),
            _ => None,
        }
    }

    /// The member named `key` (the last one if repeated).
    pub fn member(&self, key: &str) -> Option<&JsonRef<'a>> {
        self.as_object()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for JsonRef<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonRefVisitor)
    }
}

struct JsonRefVisitor;

impl<'de> Visitor<'de> for JsonRefVisitor {
    type Value = JsonRef<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JsonRef::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(JsonRef::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(JsonRef::Bool(b))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(JsonRef::U64(u))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(if i >= 0 {
            JsonRef::U64(i as u64)
        } else {
            JsonRef::I64(i)
        })
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(JsonRef::F64(f))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(JsonRef::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(JsonRef::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(JsonRef::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonRef::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<JsonRef<'de>>()? {
            let JsonRef::Str(key) = key else {
                return Err(serde::de::Error::custom("object key is not a string"));
            };
            members.push((key, map.next_value()?));
        }
        Ok(JsonRef::Object(members))
    }
}

/// Looks a member up by its camelCase wire name, then by the PascalCase CLI name.
fn get<'a, 'j>(v: &'j JsonRef<'a>, camel: &str) -> Option<&'j JsonRef<'a>> {
    let obj = v.as_object()?;
    if let Some((_, x)) = obj.iter().rev().find(|(k, _)| k == camel) {
        return Some(x);
    }
    // PascalCase: the same name with its first letter upper-cased (compared without allocating).
    let (first, rest) = camel.split_at_checked(1)?;
    let upper = first.as_bytes()[0].to_ascii_uppercase();
    obj.iter()
        .rev()
        .find(|(k, _)| {
            k.len() == camel.len() && k.as_bytes()[0] == upper && k.get(1..) == Some(rest)
        })
        .map(|(_, x)| x)
}

/// Follows a path of camelCase names.
fn path<'a, 'j>(v: &'j JsonRef<'a>, names: &[&str]) -> Option<&'j JsonRef<'a>> {
    names.iter().try_fold(v, |cur, name| get(cur, name))
}

fn string_at(v: &JsonRef<'_>, names: &[&str]) -> Option<String> {
    match path(v, names)? {
        JsonRef::Str(s) if !s.is_empty() => Some(s.to_string()),
        n if n.is_number() => n.number_text(),
        _ => None,
    }
}

fn bool_of(v: Option<&JsonRef<'_>>) -> Option<bool> {
    match v? {
        JsonRef::Bool(b) => Some(*b),
        JsonRef::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        JsonRef::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A timestamp as an ISO string, epoch seconds or epoch milliseconds (see [`crate::time`]),
/// inside the accepted range.
fn time_of(v: &JsonRef<'_>) -> Result<EpochMillis, TimestampProblem> {
    match v {
        JsonRef::Str(s) => checked_string(s),
        n => n
            .as_f64()
            .map_or(Err(TimestampProblem::Unparsable), checked_epoch_number),
    }
}

/// The timestamp member `name` of `v` (`None` when absent; `null` too when `null_is_absent`),
/// or the error naming `field` and the value.
fn timestamp(
    v: &JsonRef<'_>,
    name: &str,
    field: &'static str,
    null_is_absent: bool,
) -> Result<Option<EpochMillis>, NormalizeError> {
    let value = match get(v, name) {
        None => return Ok(None),
        Some(JsonRef::Null) if null_is_absent => return Ok(None),
        Some(value) => value,
    };
    match time_of(value) {
        Ok(ms) => Ok(Some(ms)),
        Err(TimestampProblem::Unparsable) => Err(NormalizeError::Invalid {
            field,
            problem: "not a timestamp".into(),
        }),
        Err(TimestampProblem::OutOfRange) => Err(NormalizeError::TimestampOutOfRange {
            field,
            value: shown(value),
        }),
    }
}

/// A value for an error message: numbers as written, strings quoted and cut at 64 characters
/// (the message must stay readable whatever the input holds).
fn shown(v: &JsonRef<'_>) -> String {
    match v {
        JsonRef::Str(s) => match s.char_indices().nth(64) {
            Some((cut, _)) => format!("{:?}…", &s[..cut]),
            None => format!("{s:?}"),
        },
        n => n.number_text().unwrap_or_else(|| "?".into()),
    }
}

fn array_at<'a, 'j>(v: &'j JsonRef<'a>, names: &[&str]) -> &'j [JsonRef<'a>] {
    path(v, names).and_then(JsonRef::as_array).unwrap_or(&[])
}

fn strings_at(v: &JsonRef<'_>, names: &[&str]) -> Vec<String> {
    array_at(v, names)
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn push_unique(list: &mut Vec<String>, value: Option<String>) {
    if let Some(value) = value {
        if !value.is_empty() && !list.contains(&value) {
            list.push(value);
        }
    }
}

/// Parses the ARN `arn:<partition>:guardduty:<region>:<account>:detector/<d>/finding/<id>`.
fn arn_parts(arn: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let mut parts = arn.splitn(6, ':');
    let _arn = parts.next();
    let partition = parts.next().filter(|s| !s.is_empty());
    let _service = parts.next();
    let region = parts.next().filter(|s| !s.is_empty());
    let account = parts.next().filter(|s| !s.is_empty());
    (partition, region, account)
}

/// Normalizes one finding JSON object (camelCase or PascalCase).
pub fn normalize(v: &Value) -> Result<Finding, NormalizeError> {
    normalize_json(&JsonRef::from_value(v))
}

/// Normalizes one finding already parsed into a [`JsonRef`] (see [`normalize`]).
pub fn normalize_json(v: &JsonRef<'_>) -> Result<Finding, NormalizeError> {
    if !v.is_object() {
        return Err(NormalizeError::NotAnObject);
    }
    let id = string_at(v, &["id"]).ok_or(NormalizeError::Missing("id"))?;
    let finding_type = string_at(v, &["type"]).ok_or(NormalizeError::Missing("type"))?;
    let arn = string_at(v, &["arn"]).unwrap_or_default();
    let (arn_partition, arn_region, arn_account) = arn_parts(&arn);
    let account_id = string_at(v, &["accountId"])
        .or_else(|| arn_account.map(str::to_string))
        .ok_or(NormalizeError::Missing("accountId"))?;
    let region = string_at(v, &["region"])
        .or_else(|| arn_region.map(str::to_string))
        .unwrap_or_default();
    let partition = string_at(v, &["partition"])
        .or_else(|| arn_partition.map(str::to_string))
        .unwrap_or_else(|| "aws".to_string());
    let severity = match get(v, "severity") {
        None | Some(JsonRef::Null) => return Err(NormalizeError::Missing("severity")),
        Some(JsonRef::Str(s)) => s.trim().parse::<f64>().ok(),
        Some(n) => n.as_f64(),
    }
    .filter(|s| s.is_finite())
    .ok_or_else(|| NormalizeError::Invalid {
        field: "severity",
        problem: "expected a number".into(),
    })?;
    // Present but unusable (even `null`) is an error; only an absent one falls back to the other.
    let updated_at = timestamp(v, "updatedAt", "updatedAt", false)?;
    let created_at = timestamp(v, "createdAt", "createdAt", false)?;
    let (created_at, updated_at) = match (created_at, updated_at) {
        (Some(c), Some(u)) => (c, u),
        (Some(c), None) => (c, c),
        (None, Some(u)) => (u, u),
        (None, None) => return Err(NormalizeError::Missing("updatedAt")),
    };

    // Borrowed, not cloned: these subtrees are most of a finding's size.
    let service = get(v, "service").unwrap_or(&NULL);
    let event_first_seen = timestamp(service, "eventFirstSeen", "service.eventFirstSeen", true)?;
    let event_last_seen = timestamp(service, "eventLastSeen", "service.eventLastSeen", true)?;
    let resource = get(v, "resource").unwrap_or(&NULL);
    let resource_type = string_at(resource, &["resourceType"]).unwrap_or_default();
    let details = resource_details(resource);
    let resource_key = resource_key(&resource_type, &details);
    let count = match get(service, "count") {
        Some(JsonRef::Str(s)) => s.parse().ok(),
        Some(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        None => None,
    }
    .unwrap_or(1)
    .max(1);
    let resource_role = match string_at(service, &["resourceRole"]).as_deref() {
        Some(r) if r.eq_ignore_ascii_case("TARGET") => Some(ResourceRole::Target),
        Some(r) if r.eq_ignore_ascii_case("ACTOR") => Some(ResourceRole::Actor),
        _ => None,
    };

    Ok(Finding {
        id,
        arn,
        account_id,
        region,
        partition,
        schema_version: string_at(v, &["schemaVersion"]).unwrap_or_default(),
        finding_type,
        severity,
        title: string_at(v, &["title"]).unwrap_or_default(),
        description: string_at(v, &["description"]).unwrap_or_default(),
        created_at,
        updated_at,
        event_first_seen,
        event_last_seen,
        count,
        archived: bool_of(get(service, "archived")).unwrap_or(false),
        sample: is_sample(service),
        resource_type,
        resource_key,
        resource_role,
        detector_id: string_at(service, &["detectorId"]),
        feature_name: string_at(service, &["featureName"]),
        resource: details,
        activity: activity(service),
        associated_attack_sequence_arn: string_at(v, &["associatedAttackSequenceArn"]),
        sequence: path(service, &["detection", "sequence"])
            .filter(|s| s.is_object())
            .map(sequence),
    })
}

fn is_sample(service: &JsonRef<'_>) -> bool {
    let Some(info) = get(service, "additionalInfo") else {
        return false;
    };
    if let Some(b) = bool_of(get(info, "sample")) {
        return b;
    }
    // Only the JSON-string form (`value`) may be present.
    get(info, "value")
        .and_then(JsonRef::as_str)
        .and_then(|s| JsonRef::parse(s).ok())
        .and_then(|inner| bool_of(get(&inner, "sample")))
        .unwrap_or(false)
}

fn resource_details(r: &JsonRef<'_>) -> ResourceDetails {
    let mut d = ResourceDetails {
        instance_id: string_at(r, &["instanceDetails", "instanceId"]),
        instance_profile_arn: string_at(r, &["instanceDetails", "iamInstanceProfile", "arn"]),
        access_key_id: string_at(r, &["accessKeyDetails", "accessKeyId"]),
        principal_id: string_at(r, &["accessKeyDetails", "principalId"]),
        user_name: string_at(r, &["accessKeyDetails", "userName"]),
        user_type: string_at(r, &["accessKeyDetails", "userType"]),
        eks_cluster: string_at(r, &["eksClusterDetails", "name"]),
        ecs_cluster: string_at(r, &["ecsClusterDetails", "name"]),
        kubernetes_namespace: string_at(
            r,
            &[
                "kubernetesDetails",
                "kubernetesWorkloadDetails",
                "namespace",
            ],
        ),
        kubernetes_workload: string_at(
            r,
            &["kubernetesDetails", "kubernetesWorkloadDetails", "name"],
        ),
        kubernetes_workload_uid: string_at(
            r,
            &["kubernetesDetails", "kubernetesWorkloadDetails", "uid"],
        ),
        kubernetes_user: string_at(
            r,
            &["kubernetesDetails", "kubernetesUserDetails", "username"],
        ),
        container_id: string_at(r, &["containerDetails", "id"]),
        lambda_function: string_at(r, &["lambdaDetails", "functionName"]),
        db_instance: string_at(r, &["rdsDbInstanceDetails", "dbInstanceIdentifier"])
            .or_else(|| string_at(r, &["rdsLimitlessDbDetails", "dbShardGroupIdentifier"])),
        db_user: string_at(r, &["rdsDbUserDetails", "user"]),
        ..Default::default()
    };
    for bucket in array_at(r, &["s3BucketDetails"]) {
        push_unique(&mut d.buckets, string_at(bucket, &["name"]));
    }
    for nic in array_at(r, &["instanceDetails", "networkInterfaces"]) {
        push_unique(&mut d.public_ips, string_at(nic, &["publicIp"]));
    }
    d.container_image = string_at(r, &["containerDetails", "image"])
        .or_else(|| {
            array_at(
                r,
                &[
                    "kubernetesDetails",
                    "kubernetesWorkloadDetails",
                    "containers",
                ],
            )
            .iter()
            .find_map(|c| string_at(c, &["image"]))
        })
        .or_else(|| {
            array_at(r, &["ecsClusterDetails", "taskDetails", "containers"])
                .iter()
                .find_map(|c| string_at(c, &["image"]))
        });
    d
}

/// The resource key as GuardDuty's statistics API groups by RESOURCE.
fn resource_key(resource_type: &str, d: &ResourceDetails) -> Option<String> {
    let by_type = match resource_type {
        "Instance" => d.instance_id.clone(),
        "AccessKey" => d.access_key_id.clone(),
        "S3Bucket" | "S3Object" => d.buckets.first().cloned(),
        "EKSCluster" => d.eks_cluster.clone(),
        "ECSCluster" => d.ecs_cluster.clone(),
        "Container" => d.container_id.clone(),
        "Lambda" => d.lambda_function.clone(),
        "RDSDBInstance" | "RDSLimitlessDB" => d.db_instance.clone(),
        _ => None,
    };
    by_type.or_else(|| {
        // Unknown or newer resource types: the first identifier present.
        [
            &d.instance_id,
            &d.access_key_id,
            &d.eks_cluster,
            &d.ecs_cluster,
            &d.lambda_function,
            &d.db_instance,
            &d.container_id,
        ]
        .into_iter()
        .find_map(|x| x.clone())
        .or_else(|| d.buckets.first().cloned())
    })
}

fn activity(service: &JsonRef<'_>) -> Activity {
    let action = get(service, "action").unwrap_or(&NULL);
    let mut a = Activity {
        action_type: string_at(action, &["actionType"]),
        user_agent: string_at(action, &["awsApiCallAction", "userAgent"])
            .or_else(|| string_at(action, &["kubernetesApiCallAction", "userAgent"])),
        api: string_at(action, &["awsApiCallAction", "api"]),
        service_name: string_at(action, &["awsApiCallAction", "serviceName"]),
        caller_type: string_at(action, &["awsApiCallAction", "callerType"]),
        domain: string_at(action, &["dnsRequestAction", "domain"]),
        remote_account_id: string_at(
            action,
            &["awsApiCallAction", "remoteAccountDetails", "accountId"],
        ),
        ..Default::default()
    };
    collect_remote(action, &mut a, 0);
    for ip in strings_at(action, &["kubernetesApiCallAction", "sourceIps"]) {
        push_unique(&mut a.remote_ips, Some(ip));
    }
    a
}

/// Walks `service.action` for every `remoteIpDetails` and `localPortDetails`, whatever the
/// action type: new action types keep their remote addresses without code changes.
fn collect_remote(v: &JsonRef<'_>, a: &mut Activity, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        JsonRef::Object(members) => {
            // Members in key order, the last of a repeated key winning: the order a
            // `serde_json::Value` map visits them in, so the lists keep their order.
            let mut sorted: Vec<&(Cow<'_, str>, JsonRef<'_>)> = members.iter().collect();
            sorted.sort_by(|x, y| x.0.cmp(&y.0));
            let mut i = 0;
            while i < sorted.len() {
                if i + 1 < sorted.len() && sorted[i + 1].0 == sorted[i].0 {
                    i += 1; // a later duplicate replaces this one
                    continue;
                }
                let (key, child) = sorted[i];
                i += 1;
                if key.eq_ignore_ascii_case("remoteIpDetails") {
                    push_unique(&mut a.remote_ips, string_at(child, &["ipAddressV4"]));
                    push_unique(&mut a.remote_ips, string_at(child, &["ipAddressV6"]));
                    push_unique(
                        &mut a.remote_countries,
                        string_at(child, &["country", "countryCode"]),
                    );
                    push_unique(
                        &mut a.remote_orgs,
                        string_at(child, &["organization", "asnOrg"]),
                    );
                } else if key.eq_ignore_ascii_case("localPortDetails") {
                    if let Some(port) = path(child, &["port"]).and_then(JsonRef::as_u64) {
                        let port = port as u16;
                        if !a.local_ports.contains(&port) {
                            a.local_ports.push(port);
                        }
                    }
                } else {
                    collect_remote(child, a, depth + 1);
                }
            }
        }
        JsonRef::Array(items) => items.iter().for_each(|x| collect_remote(x, a, depth + 1)),
        _ => {}
    }
}

fn sequence(s: &JsonRef<'_>) -> AttackSequence {
    AttackSequence {
        uid: string_at(s, &["uid"]),
        description: string_at(s, &["description"]),
        signals: array_at(s, &["signals"])
            .iter()
            .map(|x| SequenceSignal {
                uid: string_at(x, &["uid"]).unwrap_or_default(),
                signal_type: string_at(x, &["type"]).unwrap_or_default(),
                name: string_at(x, &["name"]).unwrap_or_default(),
                description: string_at(x, &["description"]),
                severity: path(x, &["severity"]).and_then(JsonRef::as_f64),
                count: path(x, &["count"]).and_then(JsonRef::as_u64),
                // Signal times are informative only: an unusable one is dropped, not an error.
                first_seen_at: get(x, "firstSeenAt").and_then(|t| time_of(t).ok()),
                last_seen_at: get(x, "lastSeenAt").and_then(|t| time_of(t).ok()),
                resource_uids: strings_at(x, &["resourceUids"]),
                actor_ids: strings_at(x, &["actorIds"]),
                endpoint_ids: strings_at(x, &["endpointIds"]),
                created_at: get(x, "createdAt").and_then(|t| time_of(t).ok()),
                updated_at: get(x, "updatedAt").and_then(|t| time_of(t).ok()),
                indicators: indicators(x, "signalIndicators"),
            })
            .collect(),
        actors: array_at(s, &["actors"])
            .iter()
            .map(|x| SequenceActor {
                id: string_at(x, &["id"]).unwrap_or_default(),
                user_name: string_at(x, &["user", "name"]),
                user_uid: string_at(x, &["user", "uid"]),
                credential_uid: string_at(x, &["user", "credentialUid"]),
                account_id: string_at(x, &["user", "account", "uid"]),
                session_uid: array_at(x, &["session", "uid"])
                    .first()
                    .and_then(|u| u.as_str().map(str::to_string))
                    .or_else(|| string_at(x, &["session", "uid"])),
                user_type: string_at(x, &["user", "type"]),
                process_name: string_at(x, &["process", "name"]),
            })
            .collect(),
        resources: array_at(s, &["resources"])
            .iter()
            .map(|x| SequenceResource {
                uid: string_at(x, &["uid"]).unwrap_or_default(),
                name: string_at(x, &["name"]),
                account_id: string_at(x, &["accountId"]),
                resource_type: string_at(x, &["resourceType"]),
                region: string_at(x, &["region"]),
            })
            .collect(),
        endpoints: array_at(s, &["endpoints"])
            .iter()
            .map(|x| SequenceEndpoint {
                id: string_at(x, &["id"]).unwrap_or_default(),
                ip: string_at(x, &["ip"]),
                domain: string_at(x, &["domain"]),
                country: string_at(x, &["location", "country"]),
                autonomous_system: string_at(x, &["autonomousSystem", "name"]),
            })
            .collect(),
        indicators: indicators(s, "sequenceIndicators"),
        additional_types: strings_at(s, &["additionalSequenceTypes"]),
    }
}

/// `{key, title, values}` indicators; keys are an open set, kept as written.
fn indicators(s: &JsonRef<'_>, field: &str) -> Vec<SequenceIndicator> {
    array_at(s, &[field])
        .iter()
        .map(|x| SequenceIndicator {
            key: string_at(x, &["key"]).unwrap_or_default(),
            values: strings_at(x, &["values"]),
            title: string_at(x, &["title"]),
        })
        .collect()
}

#[cfg(test)]
mod tests;
