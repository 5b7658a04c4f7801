//! Classifies one complete JSON text (an NDJSON line, an array element, a standalone object)
//! into findings: a finding, an EventBridge event, or a `findings` / `Findings` wrapper.

use gdlens_domain::{normalize, NormalizeError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::{reject, ImportItem, ImportRecord, RejectCode};

/// Borrowed view used only when raw bytes of a nested value are needed (events, wrappers).
#[derive(Deserialize)]
struct Nested<'a> {
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    findings: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default, rename = "Findings")]
    findings_pascal: Option<Vec<&'a RawValue>>,
}

/// Whether an object is an EventBridge event carrying a finding in `detail`.
pub(crate) fn is_event(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("detail").is_some_and(Value::is_object)
        && (obj.contains_key("detail-type") || obj.contains_key("source"))
}

/// The wrapper key (`findings` or `Findings`) if the object is GetFindings / CLI output.
pub(crate) fn wrapper_key(obj: &serde_json::Map<String, Value>) -> Option<&'static str> {
    if obj.contains_key("id") || obj.contains_key("Id") {
        return None;
    }
    ["findings", "Findings"]
        .into_iter()
        .find(|k| obj.get(*k).is_some_and(Value::is_array))
}

fn normalize_reject(source: &str, line: u64, value: &Value, e: NormalizeError) -> ImportItem {
    let code = match e {
        NormalizeError::NotAnObject => RejectCode::NotAnObject,
        NormalizeError::Missing(_) => RejectCode::MissingField,
        NormalizeError::Invalid { .. } => RejectCode::InvalidField,
    };
    let id = value
        .get("id")
        .or_else(|| value.get("Id"))
        .and_then(Value::as_str);
    let reason = match id {
        Some(id) => format!("finding {id}: {e}"),
        None => e.to_string(),
    };
    reject(source, line, code, reason)
}

fn finding(text: &str, value: &Value, source: &str, line: u64) -> ImportItem {
    match normalize(value) {
        Ok(finding) => ImportItem::Record(ImportRecord {
            finding,
            raw: text.trim().to_string(),
            source: source.to_string(),
            line,
        }),
        Err(e) => normalize_reject(source, line, value, e),
    }
}

/// Classifies one complete JSON text. `line` is reported on everything it yields, except that
/// elements of a nested array are numbered by their index when `index_elements` is set.
pub(crate) fn classify(
    text: &str,
    source: &str,
    line: u64,
    index_elements: bool,
    sink: &mut dyn FnMut(ImportItem),
) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return sink(reject(
                source,
                line,
                RejectCode::InvalidJson,
                format!("invalid JSON: {e}"),
            ));
        }
    };
    classify_value(text, value, source, line, index_elements, sink);
}

fn classify_value(
    text: &str,
    value: Value,
    source: &str,
    line: u64,
    index_elements: bool,
    sink: &mut dyn FnMut(ImportItem),
) {
    match &value {
        Value::Object(obj) if is_event(obj) => {
            let nested: Nested<'_> = match serde_json::from_str(text) {
                Ok(n) => n,
                Err(e) => {
                    return sink(reject(
                        source,
                        line,
                        RejectCode::InvalidJson,
                        format!("invalid JSON: {e}"),
                    ))
                }
            };
            let (Some(raw), Some(detail)) = (nested.detail, obj.get("detail")) else {
                return sink(reject(
                    source,
                    line,
                    RejectCode::UnsupportedShape,
                    "event without a detail object",
                ));
            };
            sink(finding(raw.get(), detail, source, line));
        }
        Value::Object(obj) if wrapper_key(obj).is_some() => {
            let nested: Nested<'_> = match serde_json::from_str(text) {
                Ok(n) => n,
                Err(e) => {
                    return sink(reject(
                        source,
                        line,
                        RejectCode::InvalidJson,
                        format!("invalid JSON: {e}"),
                    ))
                }
            };
            let elements = nested
                .findings
                .or(nested.findings_pascal)
                .unwrap_or_default();
            for (i, raw) in elements.into_iter().enumerate() {
                let at = if index_elements { i as u64 } else { line };
                classify(raw.get(), source, at, false, sink);
            }
        }
        Value::Object(_) => sink(finding(text, &value, source, line)),
        Value::Array(_) => {
            let elements: Vec<&RawValue> = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    return sink(reject(
                        source,
                        line,
                        RejectCode::InvalidJson,
                        format!("invalid JSON: {e}"),
                    ))
                }
            };
            for (i, raw) in elements.into_iter().enumerate() {
                let at = if index_elements { i as u64 } else { line };
                classify(raw.get(), source, at, false, sink);
            }
        }
        other => sink(reject(
            source,
            line,
            RejectCode::UnsupportedShape,
            format!(
                "expected a finding object, an event or a findings list, got {}",
                kind(other)
            ),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
