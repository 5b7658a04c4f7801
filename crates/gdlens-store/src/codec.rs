//! How findings are laid out in their BLOB columns, and [`EncodedFinding`]: a finding made ready
//! for the store off the writer thread (compression and encoding are most of the CPU of a write).

use gdlens_domain::Finding;

use crate::error::StoreError;
use crate::model::NewFinding;

/// Encoding of `findings.normalized`: postcard of [`Finding`]. Bump when `Finding` changes shape;
/// rows with another codec (or that fail to decode) are re-normalized from their raw JSON.
pub(crate) const FINDING_CODEC: i64 = 1;

/// `finding_versions.raw_codec`: the raw JSON as UTF-8 text.
pub(crate) const RAW_TEXT: i64 = 0;
/// `finding_versions.raw_codec`: LZ4 block of the UTF-8 JSON, its length prepended (u32 LE).
pub(crate) const RAW_LZ4: i64 = 1;

/// Below this the raw JSON is stored as text: LZ4 saves nothing on tiny documents.
const COMPRESS_FROM: usize = 128;

/// Larger raw JSON is stored as text (the importer rejects documents over 64 MiB anyway).
const MAX_RAW: usize = 64 << 20;

/// Compresses raw JSON; returns the codec and the bytes to store.
pub(crate) fn encode_raw(raw: &str) -> (i64, Vec<u8>) {
    if (COMPRESS_FROM..=MAX_RAW).contains(&raw.len()) {
        let packed = lz4_flex::compress_prepend_size(raw.as_bytes());
        if packed.len() < raw.len() {
            return (RAW_LZ4, packed);
        }
    }
    (RAW_TEXT, raw.as_bytes().to_vec())
}

/// The raw JSON exactly as it was received.
pub(crate) fn decode_raw(codec: i64, bytes: &[u8]) -> Result<String, StoreError> {
    let text = match codec {
        RAW_TEXT => bytes.to_vec(),
        RAW_LZ4 => {
            let (len, packed) = bytes
                .split_first_chunk::<4>()
                .ok_or_else(|| StoreError::Codec("raw JSON: truncated LZ4 header".into()))?;
            let len = u32::from_le_bytes(*len) as usize;
            // A corrupt length must not become a huge allocation.
            if len > MAX_RAW {
                return Err(StoreError::Codec(format!(
                    "raw JSON: stored length {len} is too large"
                )));
            }
            let text = lz4_flex::decompress(packed, len)
                .map_err(|e| StoreError::Codec(format!("raw JSON: {e}")))?;
            if text.len() != len {
                return Err(StoreError::Codec("raw JSON: LZ4 length mismatch".into()));
            }
            text
        }
        other => return Err(StoreError::Codec(format!("unknown raw codec {other}"))),
    };
    String::from_utf8(text).map_err(|e| StoreError::Codec(format!("raw JSON: {e}")))
}

/// Reads a raw column that holds either a TEXT (codec 0, older rows) or a BLOB.
pub(crate) fn raw_column(
    row: &rusqlite::Row<'_>,
    codec_at: usize,
    raw_at: usize,
) -> rusqlite::Result<String> {
    let codec: i64 = row.get(codec_at)?;
    let bytes = match row.get_ref(raw_at)? {
        rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
        other => {
            return Err(rusqlite::Error::InvalidColumnType(
                raw_at,
                "raw".into(),
                other.data_type(),
            ))
        }
    };
    decode_raw(codec, bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(raw_at, rusqlite::types::Type::Blob, Box::new(e))
    })
}

pub(crate) fn encode_finding(f: &Finding) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(f).map_err(|e| StoreError::Codec(e.to_string()))
}

pub(crate) fn decode_finding(codec: i64, bytes: &[u8]) -> Option<Finding> {
    (codec == FINDING_CODEC)
        .then(|| postcard::from_bytes(bytes).ok())
        .flatten()
}

/// A finding ready to store: its raw JSON compressed and its normalized form encoded.
/// Build these on the threads that parse, so the single writer only runs SQLite.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedFinding {
    /// The normalized finding.
    pub finding: Finding,
    /// Where it came from (file name, `-`, `demo`, `aws:us-east-1`).
    pub source: String,
    pub(crate) raw_codec: i64,
    pub(crate) raw: Vec<u8>,
    pub(crate) normalized: Vec<u8>,
}

impl EncodedFinding {
    /// Encodes `finding` with its original JSON `raw` (stored byte for byte).
    pub fn new(finding: Finding, raw: &str, source: String) -> Result<Self, StoreError> {
        let (raw_codec, raw) = encode_raw(raw);
        let normalized = encode_finding(&finding)?;
        Ok(EncodedFinding {
            finding,
            source,
            raw_codec,
            raw,
            normalized,
        })
    }

    /// Encodes a [`NewFinding`].
    pub fn from_new(new: NewFinding) -> Result<Self, StoreError> {
        Self::new(new.finding, &new.raw, new.source)
    }

    /// Bytes this finding occupies in the batch (for sizing batches by memory).
    pub fn stored_bytes(&self) -> usize {
        self.raw.len() + self.normalized.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trips_byte_for_byte() {
        let small = r#"{"id":"a"}"#;
        let big = format!(
            "{{\"id\":\"b\",\"t\":\"{}\",\"u\":\"é\\u00e9 \\\"q\\\"\"}}  ",
            "ab".repeat(500)
        );
        for raw in [small, big.as_str(), ""] {
            let (codec, bytes) = encode_raw(raw);
            assert_eq!(decode_raw(codec, &bytes).unwrap(), raw);
        }
        assert_eq!(encode_raw(small).0, RAW_TEXT);
        assert_eq!(encode_raw(&big).0, RAW_LZ4);
        assert!(encode_raw(&big).1.len() < big.len() / 4);
    }

    #[test]
    fn unknown_or_corrupt_raw_is_an_error() {
        assert!(decode_raw(7, b"{}").is_err());
        assert!(decode_raw(RAW_LZ4, &[255, 255, 255, 255, 1]).is_err());
    }
}
