//! Classifies one complete JSON text (an NDJSON line, an array element, a standalone object)
//! into findings: a finding, an EventBridge event, or a `findings` / `Findings` wrapper.

use gdlens_domain::{normalize_json, JsonRef, NormalizeError};
use serde::Deserialize;
use serde_json::value::RawValue;

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

/// Whether an object is an EventBridge event carrying a finding in `detail`: `detail` is an
/// object and the event says so (`detail-type` or `source`), or the object is no finding itself
/// (no `type`). Hand-written Lambda test events often keep only `region` and `detail`.
pub(crate) fn is_event(obj: &JsonRef<'_>) -> bool {
    obj.member("detail").is_some_and(JsonRef::is_object)
        && (obj.member("detail-type").is_some()
            || obj.member("source").is_some()
            || (obj.member("type").is_none()
                && obj.member("Type").is_none()
                && wrapper_key(obj).is_none()))
}

/// The wrapper key (`findings` or `Findings`) if the object is GetFindings / CLI output.
pub(crate) fn wrapper_key(obj: &JsonRef<'_>) -> Option<&'static str> {
    if obj.member("id").is_some() || obj.member("Id").is_some() {
        return None;
    }
    ["findings", "Findings"]
        .into_iter()
        .find(|k| obj.member(k).is_some_and(|v| v.as_array().is_some()))
}

fn normalize_reject(source: &str, line: u64, value: &JsonRef<'_>, e: NormalizeError) -> ImportItem {
    let code = RejectCode::of_normalize_error(&e);
    let id = value
        .member("id")
        .or_else(|| value.member("Id"))
        .and_then(JsonRef::as_str);
    let reason = match id {
        Some(id) => format!("finding {id}: {e}"),
        None => e.to_string(),
    };
    reject(source, line, code, reason)
}

fn finding(text: &str, value: &JsonRef<'_>, source: &str, line: u64) -> ImportItem {
    match normalize_json(value) {
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
    let value = match JsonRef::parse(text) {
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
    value: JsonRef<'_>,
    source: &str,
    line: u64,
    index_elements: bool,
    sink: &mut dyn FnMut(ImportItem),
) {
    match &value {
        JsonRef::Object(_) if is_event(&value) => {
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
            let (Some(raw), Some(detail)) = (nested.detail, value.member("detail")) else {
                return sink(reject(
                    source,
                    line,
                    RejectCode::UnsupportedShape,
                    "event without a detail object",
                ));
            };
            sink(finding(raw.get(), detail, source, line));
        }
        JsonRef::Object(_) if wrapper_key(&value).is_some() => {
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
        JsonRef::Object(_) => sink(finding(text, &value, source, line)),
        JsonRef::Array(_) => {
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

fn kind(v: &JsonRef<'_>) -> &'static str {
    match v {
        JsonRef::Null => "null",
        JsonRef::Bool(_) => "a boolean",
        JsonRef::U64(_) | JsonRef::I64(_) | JsonRef::F64(_) => "a number",
        JsonRef::Str(_) => "a string",
        JsonRef::Array(_) => "an array",
        JsonRef::Object(_) => "an object",
    }
}
