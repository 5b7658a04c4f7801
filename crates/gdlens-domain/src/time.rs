//! Lenient timestamp parsing. gdlens stores every instant as epoch milliseconds (UTC).
//!
//! Finding timestamps must also lie in [`MIN_TIMESTAMP_MS`]`..`[`MAX_TIMESTAMP_MS`]: GuardDuty
//! launched in 2017, so an instant before 2000 or after 2199 is a unit mix-up (microseconds or
//! nanoseconds read as milliseconds) or a corrupt value, and importing it would either show it as
//! 1970-01-01 or put it centuries away from every other finding. The range is fixed, not relative
//! to the clock, so importing the same file always gives the same result.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Epoch milliseconds, UTC.
pub type EpochMillis = i64;

/// The earliest accepted finding timestamp: 2000-01-01T00:00:00Z (inclusive).
pub const MIN_TIMESTAMP_MS: EpochMillis = 946_684_800_000;

/// The end of the accepted finding timestamps: 2200-01-01T00:00:00Z (exclusive).
pub const MAX_TIMESTAMP_MS: EpochMillis = 7_258_118_400_000;

/// Why a JSON value is not an accepted finding timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampProblem {
    /// Not an ISO-8601 string nor an epoch number.
    Unparsable,
    /// A timestamp outside [`MIN_TIMESTAMP_MS`]`..`[`MAX_TIMESTAMP_MS`] (or a negative epoch).
    OutOfRange,
}

/// Whether `ms` lies in the accepted range `2000-01-01T00:00:00Z <= ms < 2200-01-01T00:00:00Z`.
pub fn in_range(ms: EpochMillis) -> bool {
    (MIN_TIMESTAMP_MS..MAX_TIMESTAMP_MS).contains(&ms)
}

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

/// Like [`from_epoch_number`], but a finite number that is no usable instant is out of range
/// rather than unparsable (casts saturate, so huge values land outside the range too).
pub(crate) fn checked_epoch_number(x: f64) -> Result<EpochMillis, TimestampProblem> {
    if !x.is_finite() {
        return Err(TimestampProblem::Unparsable);
    }
    from_epoch_number(x)
        .filter(|ms| in_range(*ms))
        .ok_or(TimestampProblem::OutOfRange)
}

/// An ISO string (or a string holding an epoch number) checked against the accepted range.
pub(crate) fn checked_string(s: &str) -> Result<EpochMillis, TimestampProblem> {
    match parse_iso(s) {
        Some(ms) if in_range(ms) => Ok(ms),
        Some(_) => Err(TimestampProblem::OutOfRange),
        None => match s.trim().parse::<f64>() {
            Ok(x) => checked_epoch_number(x),
            Err(_) => Err(TimestampProblem::Unparsable),
        },
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
    fn accepted_range_is_2000_to_2200() {
        assert_eq!(parse_iso("2000-01-01T00:00:00Z"), Some(MIN_TIMESTAMP_MS));
        assert_eq!(parse_iso("2200-01-01T00:00:00Z"), Some(MAX_TIMESTAMP_MS));
        assert!(in_range(MIN_TIMESTAMP_MS) && !in_range(MIN_TIMESTAMP_MS - 1));
        assert!(in_range(MAX_TIMESTAMP_MS - 1) && !in_range(MAX_TIMESTAMP_MS));
        assert_eq!(
            checked_string("2024-01-01T00:00:00Z"),
            Ok(1_704_067_200_000)
        );
        assert_eq!(checked_string(" 1704067200 "), Ok(1_704_067_200_000));
        assert_eq!(
            checked_string("1970-01-01T00:00:00Z"),
            Err(TimestampProblem::OutOfRange)
        );
        assert_eq!(checked_string("soon"), Err(TimestampProblem::Unparsable));
        assert_eq!(checked_string("1e300"), Err(TimestampProblem::OutOfRange));
        // Nanoseconds read as milliseconds: the value from the issue.
        assert_eq!(
            checked_epoch_number(198_285_174_417_600_000.0),
            Err(TimestampProblem::OutOfRange)
        );
        assert_eq!(
            checked_epoch_number(-1.0),
            Err(TimestampProblem::OutOfRange)
        );
        assert_eq!(checked_epoch_number(0.0), Err(TimestampProblem::OutOfRange));
        assert_eq!(
            checked_epoch_number(f64::NAN),
            Err(TimestampProblem::Unparsable)
        );
    }

    #[test]
    fn formats_round_trip() {
        let ms = 1_704_067_200_123;
        assert_eq!(format_iso(ms), "2024-01-01T00:00:00.123Z");
        assert_eq!(parse_iso(&format_iso(ms)), Some(ms));
        assert_eq!(format_day(utc_day(ms)), "2024-01-01");
    }
}
