//! Lenient timestamp parsing. gdlens stores every instant as epoch milliseconds (UTC).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Epoch milliseconds, UTC.
pub type EpochMillis = i64;

/// Parses an ISO-8601 string (with or without fractional seconds or offset) to epoch ms.
pub fn parse_iso(s: &str) -> Option<EpochMillis> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    // Offset-less variants seen in old exports: `2020-01-01T00:00:00.000` or with a space.
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc().timestamp_millis());
        }
    }
    None
}

/// Parses a timestamp given as an ISO string, epoch seconds (possibly fractional) or epoch
/// milliseconds (numbers above 10^11 are taken as milliseconds: old samples carry them).
pub fn parse_value(v: &Value) -> Option<EpochMillis> {
    match v {
        Value::String(s) => {
            parse_iso(s).or_else(|| s.parse::<f64>().ok().and_then(from_epoch_number))
        }
        Value::Number(n) => n.as_f64().and_then(from_epoch_number),
        _ => None,
    }
}

pub(crate) fn from_epoch_number(x: f64) -> Option<EpochMillis> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    if x >= 1e11 {
        Some(x as i64)
    } else {
        Some((x * 1000.0).round() as i64)
    }
}

/// Formats epoch ms as RFC 3339 with milliseconds and `Z`, as GuardDuty does.
pub fn format_iso(ms: EpochMillis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The UTC day number (days since 1970-01-01) of an instant; used for per-day buckets.
pub fn utc_day(ms: EpochMillis) -> i32 {
    ms.div_euclid(86_400_000) as i32
}

/// `YYYY-MM-DD` of a UTC day number.
pub fn format_day(day: i32) -> String {
    DateTime::<Utc>::from_timestamp_millis(day as i64 * 86_400_000)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_iso_with_and_without_millis() {
        assert_eq!(parse_iso("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(
            parse_iso("2024-01-01T00:00:00.123Z"),
            Some(1_704_067_200_123)
        );
        assert_eq!(
            parse_iso("2024-01-01T01:00:00+01:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            parse_iso("2024-01-01T00:00:00.000"),
            Some(1_704_067_200_000)
        );
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn parses_epoch_seconds_and_millis() {
        assert_eq!(parse_value(&json!(1_704_067_200)), Some(1_704_067_200_000));
        assert_eq!(
            parse_value(&json!(1_704_067_200.5)),
            Some(1_704_067_200_500)
        );
        assert_eq!(
            parse_value(&json!(1_704_067_200_123_i64)),
            Some(1_704_067_200_123)
        );
        assert_eq!(parse_value(&json!(null)), None);
    }

    #[test]
    fn formats_round_trip() {
        let ms = 1_704_067_200_123;
        assert_eq!(format_iso(ms), "2024-01-01T00:00:00.123Z");
        assert_eq!(parse_iso(&format_iso(ms)), Some(ms));
        assert_eq!(format_day(utc_day(ms)), "2024-01-01");
    }
}
