//! How findings are laid out in their BLOB columns; [`Encoder`], which makes a finding ready for
//! the store off the writer thread (compression and encoding are most of the CPU of a write);
//! and the store's compression dictionaries.
//!
//! A GuardDuty finding is a 2–3 KB JSON document whose keys and much of whose values repeat from
//! one finding to the next. Compressed one by one without help, they barely shrink (LZ4: 2.4 KB →
//! 1.7 KB), and bytes written are what bound a bulk import. A zstd dictionary trained on the
//! store's own findings carries what they share, so each row keeps only what is its own
//! (2.4 KB → about 0.3 KB). Each store trains its dictionaries once, from its first findings,
//! and keeps them forever in `codec_dictionaries`: a row names its dictionary by the id in its
//! zstd frame header, so rows written with any dictionary the store ever had stay readable.

use std::collections::HashMap;
use std::sync::Arc;

use gdlens_domain::Finding;
use rusqlite::{params, Connection, Transaction};
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

use crate::error::StoreError;

/// `findings.codec`: postcard of [`Finding`] (layout 1), uncompressed.
pub(crate) const FINDING_POSTCARD: i64 = 1;
/// `findings.codec`: postcard of [`Finding`] (layout 1) in a zstd frame with a `normalized`
/// dictionary. When `Finding` changes shape, add new codecs for the new layout; rows with an
/// unknown codec (or that fail to decode) are re-normalized from their raw JSON.
pub(crate) const FINDING_POSTCARD_ZSTD: i64 = 2;
/// `findings.codec`: postcard of [`Finding`] (layout 1) as an LZ4 block, its length prepended
/// (u32 LE). The PostgreSQL backend's rows: without dictionaries, LZ4 halves what every import
/// writes (and logs to the WAL) for a few microseconds of an encoder thread.
pub(crate) const FINDING_POSTCARD_LZ4: i64 = 3;

/// `finding_versions.raw_codec`: the raw JSON as UTF-8 text.
pub(crate) const RAW_TEXT: i64 = 0;
/// `finding_versions.raw_codec`: LZ4 block of the UTF-8 JSON, its length prepended (u32 LE).
/// Written before the store had dictionaries (still read).
pub(crate) const RAW_LZ4: i64 = 1;
/// `finding_versions.raw_codec`: a zstd frame of the UTF-8 JSON with a `raw` dictionary.
pub(crate) const RAW_ZSTD: i64 = 2;

/// Below this the raw JSON is stored as text: compression saves nothing on tiny documents.
const COMPRESS_FROM: usize = 128;

/// Larger raw JSON is stored as text (the importer rejects documents over 64 MiB anyway).
const MAX_RAW: usize = 64 << 20;

/// Findings a store's dictionaries are trained on: the first of an import, or the latest stored.
pub const TRAIN_SAMPLES: usize = 2_000;

/// Fewer samples than this train no dictionary (it would fit them and nothing else).
pub(crate) const MIN_TRAIN_SAMPLES: usize = 200;

/// Dictionary sizes: larger ones gained under 2 % on generated and fixture findings.
const RAW_DICTIONARY_BYTES: usize = 64 << 10;
const NORMALIZED_DICTIONARY_BYTES: usize = 32 << 10;

/// zstd level with a dictionary: level 3 wrote 5 % fewer bytes than 1 for 40 % more CPU.
const LEVEL: i32 = 1;

/// What a dictionary compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `finding_versions.raw`.
    Raw,
    /// `findings.normalized`.
    Normalized,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Raw => "raw",
            Purpose::Normalized => "normalized",
        }
    }
}

/// One trained dictionary, prepared for both directions.
struct Dictionary {
    id: u32,
    compress: CDict<'static>,
    decompress: DDict<'static>,
}

impl Dictionary {
    fn prepare(bytes: &[u8]) -> Result<Self, StoreError> {
        let id = zstd_safe::get_dict_id_from_dict(bytes)
            .ok_or_else(|| StoreError::Codec("not a zstd dictionary".into()))?
            .get();
        let compress = CDict::try_create(bytes, LEVEL)
            .ok_or_else(|| StoreError::Codec(format!("zstd dictionary {id} cannot be loaded")))?;
        Ok(Dictionary {
            id,
            compress,
            decompress: DDict::create(bytes),
        })
    }
}

/// The store's dictionaries: every one it ever had (to read), the newest per purpose (to write).
#[derive(Default)]
pub(crate) struct Dictionaries {
    by_id: HashMap<u32, Arc<Dictionary>>,
    raw: Option<Arc<Dictionary>>,
    normalized: Option<Arc<Dictionary>>,
}

impl Dictionaries {
    /// Reads every dictionary of the store.
    pub(crate) fn load(c: &Connection) -> Result<Self, StoreError> {
        let mut out = Dictionaries::default();
        let mut stmt =
            c.prepare("SELECT purpose, bytes FROM codec_dictionaries ORDER BY created_at, id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let purpose: String = row.get(0)?;
            let bytes = row
                .get_ref(1)?
                .as_blob()
                .map_err(|e| StoreError::Codec(e.to_string()))?;
            let dict = Arc::new(Dictionary::prepare(bytes)?);
            out.by_id.insert(dict.id, Arc::clone(&dict));
            match purpose.as_str() {
                "raw" => out.raw = Some(dict),
                "normalized" => out.normalized = Some(dict),
                _ => {} // a purpose from a newer gdlens: readable, never written with
            }
        }
        Ok(out)
    }

    /// Whether new rows are written with dictionaries.
    pub(crate) fn trained(&self) -> bool {
        self.raw.is_some() && self.normalized.is_some()
    }
}

/// Trains a raw and a normalized dictionary on `samples` and stores them in `tx`.
/// Errors when zstd cannot train on them (too few, too small or too alike).
pub(crate) fn train_into(
    tx: &Transaction<'_>,
    samples: &[(&Finding, &str)],
    now: i64,
) -> Result<(), StoreError> {
    let raw: Vec<&[u8]> = samples.iter().map(|(_, raw)| raw.as_bytes()).collect();
    let normalized = samples
        .iter()
        .map(|(f, _)| encode_postcard(f))
        .collect::<Result<Vec<_>, _>>()?;
    for (purpose, samples, size) in [
        (Purpose::Raw, raw, RAW_DICTIONARY_BYTES),
        (
            Purpose::Normalized,
            normalized.iter().map(Vec::as_slice).collect(),
            NORMALIZED_DICTIONARY_BYTES,
        ),
    ] {
        let bytes = zstd::dict::from_samples(&samples, size).map_err(|e| {
            StoreError::Codec(format!("training the {} dictionary: {e}", purpose.as_str()))
        })?;
        let id = zstd_safe::get_dict_id_from_dict(&bytes)
            .ok_or_else(|| StoreError::Codec("trained dictionary has no id".into()))?
            .get();
        tx.prepare_cached(
            "INSERT INTO codec_dictionaries (id, purpose, created_at, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, purpose.as_str(), now, bytes])?;
    }
    Ok(())
}

/// Encodes findings for the store with the dictionaries it had when this encoder was made.
/// One per thread; make a new one (cheap) to pick up dictionaries trained since.
pub struct Encoder {
    dictionaries: Arc<Dictionaries>,
    /// Without dictionaries, LZ4 the normalized finding (PostgreSQL) instead of storing it plain.
    lz4_normalized: bool,
    context: CCtx<'static>,
    /// Postcard of the finding being encoded.
    scratch: Vec<u8>,
    /// zstd output before it is copied to its exact size.
    packed: Vec<u8>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("trained", &self.dictionaries.trained())
            .finish()
    }
}

impl Encoder {
    pub(crate) fn new(dictionaries: Arc<Dictionaries>) -> Self {
        Encoder {
            dictionaries,
            lz4_normalized: false,
            context: CCtx::create(),
            scratch: Vec::new(),
            packed: Vec::new(),
        }
    }

    /// The PostgreSQL backend's encoder: no dictionaries, raw JSON and normalized findings LZ4.
    pub(crate) fn lz4() -> Self {
        Encoder {
            lz4_normalized: true,
            ..Encoder::new(Default::default())
        }
    }

    /// Whether this encoder compresses with dictionaries.
    pub fn trained(&self) -> bool {
        self.dictionaries.trained()
    }

    /// Encodes `finding` with its original JSON `raw` (stored byte for byte).
    pub fn encode(
        &mut self,
        finding: &Finding,
        raw: &str,
        source: String,
    ) -> Result<EncodedFinding, StoreError> {
        let (raw_codec, raw) = self.encode_raw(raw)?;
        let (codec, normalized) = self.encode_normalized(finding)?;
        Ok(EncodedFinding {
            head: RowHead::of(finding),
            source,
            raw_codec,
            raw,
            codec,
            normalized,
        })
    }

    fn encode_raw(&mut self, raw: &str) -> Result<(i64, Vec<u8>), StoreError> {
        if !(COMPRESS_FROM..=MAX_RAW).contains(&raw.len()) {
            return Ok((RAW_TEXT, raw.as_bytes().to_vec()));
        }
        let packed = match &self.dictionaries.raw {
            Some(dict) => (
                RAW_ZSTD,
                compress(&mut self.context, &mut self.packed, raw.as_bytes(), dict)?,
            ),
            None => (RAW_LZ4, lz4_flex::compress_prepend_size(raw.as_bytes())),
        };
        Ok(if packed.1.len() < raw.len() {
            packed
        } else {
            (RAW_TEXT, raw.as_bytes().to_vec())
        })
    }

    fn encode_normalized(&mut self, finding: &Finding) -> Result<(i64, Vec<u8>), StoreError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.scratch =
            postcard::to_extend(finding, scratch).map_err(|e| StoreError::Codec(e.to_string()))?;
        Ok(match &self.dictionaries.normalized {
            Some(dict) => (
                FINDING_POSTCARD_ZSTD,
                compress(&mut self.context, &mut self.packed, &self.scratch, dict)?,
            ),
            None if self.lz4_normalized => (
                FINDING_POSTCARD_LZ4,
                lz4_flex::compress_prepend_size(&self.scratch),
            ),
            None => (FINDING_POSTCARD, self.scratch.clone()),
        })
    }
}

/// Compresses `src` through the reusable buffer `packed` and returns it at its exact size.
fn compress(
    context: &mut CCtx<'_>,
    packed: &mut Vec<u8>,
    src: &[u8],
    dict: &Dictionary,
) -> Result<Vec<u8>, StoreError> {
    packed.clear();
    packed.reserve(zstd_safe::compress_bound(src.len()));
    context
        .compress_using_cdict(packed, src, &dict.compress)
        .map_err(|code| StoreError::Codec(format!("zstd: {}", zstd_safe::get_error_name(code))))?;
    Ok(packed.as_slice().to_vec())
}

fn encode_postcard(f: &Finding) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(f).map_err(|e| StoreError::Codec(e.to_string()))
}

/// The columns of a finding row that are not its encoded blobs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowHead {
    pub(crate) id: String,
    pub(crate) updated_at: i64,
    pub(crate) count: u64,
    pub(crate) severity: f64,
    pub(crate) archived: bool,
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) finding_type: String,
}

impl RowHead {
    fn of(f: &Finding) -> Self {
        RowHead {
            id: f.id.clone(),
            updated_at: f.updated_at,
            count: f.count,
            severity: f.severity,
            archived: f.archived,
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            finding_type: f.finding_type.clone(),
        }
    }
}

/// A finding ready to store: its raw JSON compressed and its normalized form encoded (made by
/// [`Encoder::encode`] on the threads that parse, so the single writer only runs SQLite).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedFinding {
    pub(crate) head: RowHead,
    /// Where it came from (file name, `-`, `demo`, `aws:us-east-1`).
    pub source: String,
    pub(crate) raw_codec: i64,
    pub(crate) raw: Vec<u8>,
    pub(crate) codec: i64,
    pub(crate) normalized: Vec<u8>,
}

impl EncodedFinding {
    /// Bytes this finding occupies in its rows' blobs (for sizing batches by memory).
    pub fn stored_bytes(&self) -> usize {
        self.raw.len() + self.normalized.len()
    }
}

/// Decodes blobs read from the store; one per read call. Looks dictionaries up by the id in each
/// zstd frame, and reloads them once from the database when another process trained a new one.
pub(crate) struct Decoder<'a> {
    dictionaries: Arc<Dictionaries>,
    shared: &'a std::sync::RwLock<Arc<Dictionaries>>,
    context: Option<DCtx<'static>>,
    scratch: Vec<u8>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(shared: &'a std::sync::RwLock<Arc<Dictionaries>>) -> Self {
        let dictionaries = Arc::clone(&shared.read().unwrap_or_else(|p| p.into_inner()));
        Decoder {
            dictionaries,
            shared,
            context: None,
            scratch: Vec::new(),
        }
    }

    fn dictionary(&mut self, c: &Connection, frame: &[u8]) -> Result<Arc<Dictionary>, StoreError> {
        let id = zstd_safe::get_dict_id_from_frame(frame)
            .ok_or_else(|| StoreError::Codec("zstd frame names no dictionary".into()))?
            .get();
        if let Some(d) = self.dictionaries.by_id.get(&id) {
            return Ok(Arc::clone(d));
        }
        // Trained by another process (an import next to a running server): read them again.
        let fresh = Arc::new(Dictionaries::load(c)?);
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&fresh);
        self.dictionaries = fresh;
        self.dictionaries
            .by_id
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::Codec(format!("zstd dictionary {id} is not in the store")))
    }

    /// Decompresses a zstd frame into `self.scratch`.
    fn decompress(&mut self, c: &Connection, frame: &[u8]) -> Result<(), StoreError> {
        let dict = self.dictionary(c, frame)?;
        let len = match zstd_safe::get_frame_content_size(frame) {
            Ok(Some(len)) if len as usize <= MAX_RAW => len as usize,
            Ok(Some(len)) => {
                return Err(StoreError::Codec(format!(
                    "stored length {len} is too large"
                )))
            }
            _ => {
                return Err(StoreError::Codec(
                    "zstd frame without a valid length".into(),
                ))
            }
        };
        self.scratch.clear();
        self.scratch.reserve(len);
        let context = self.context.get_or_insert_with(DCtx::create);
        let written = context
            .decompress_using_ddict(&mut self.scratch, frame, &dict.decompress)
            .map_err(|code| {
                StoreError::Codec(format!("zstd: {}", zstd_safe::get_error_name(code)))
            })?;
        if written != len {
            return Err(StoreError::Codec("zstd length mismatch".into()));
        }
        Ok(())
    }

    /// The raw JSON exactly as it was received.
    pub(crate) fn raw(
        &mut self,
        c: &Connection,
        codec: i64,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let text = match codec {
            RAW_TEXT => bytes.to_vec(),
            RAW_LZ4 => decode_lz4(bytes)?,
            RAW_ZSTD => {
                self.decompress(c, bytes)?;
                self.scratch.clone()
            }
            other => return Err(StoreError::Codec(format!("unknown raw codec {other}"))),
        };
        String::from_utf8(text).map_err(|e| StoreError::Codec(format!("raw JSON: {e}")))
    }

    /// Reads a raw column that holds either a TEXT (codec 0, older rows) or a BLOB.
    pub(crate) fn raw_column(
        &mut self,
        c: &Connection,
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
        self.raw(c, codec, bytes).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                raw_at,
                rusqlite::types::Type::Blob,
                Box::new(e),
            )
        })
    }

    /// The normalized finding, or `None` when its codec is unknown or it does not decode (the
    /// caller then re-normalizes the raw JSON).
    pub(crate) fn finding(&mut self, c: &Connection, codec: i64, bytes: &[u8]) -> Option<Finding> {
        match codec {
            FINDING_POSTCARD => postcard::from_bytes(bytes).ok(),
            FINDING_POSTCARD_ZSTD => {
                if let Err(e) = self.decompress(c, bytes) {
                    tracing::debug!(error = %e, "normalized finding does not decode");
                    return None;
                }
                postcard::from_bytes(&self.scratch).ok()
            }
            FINDING_POSTCARD_LZ4 => decode_postcard_lz4(bytes),
            _ => None,
        }
    }
}

/// A [`FINDING_POSTCARD_LZ4`] row; `None` when it does not decode.
fn decode_postcard_lz4(bytes: &[u8]) -> Option<Finding> {
    let (len, packed) = bytes.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    // A corrupt length must not become a huge allocation.
    if len > MAX_RAW {
        return None;
    }
    let plain = lz4_flex::decompress(packed, len).ok()?;
    postcard::from_bytes(&plain).ok()
}

fn decode_lz4(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
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
    Ok(text)
}

/// The raw JSON of a row written without dictionaries (the PostgreSQL backend never trains any:
/// its rows are text or LZ4, and the database's own TOAST handles the rest).
pub(crate) fn decode_raw_plain(codec: i64, bytes: &[u8]) -> Result<String, StoreError> {
    let text = match codec {
        RAW_TEXT => bytes.to_vec(),
        RAW_LZ4 => decode_lz4(bytes)?,
        other => return Err(StoreError::Codec(format!("unknown raw codec {other}"))),
    };
    String::from_utf8(text).map_err(|e| StoreError::Codec(format!("raw JSON: {e}")))
}

/// The normalized finding of a row written without dictionaries; `None` when the codec is unknown
/// or it does not decode (the caller then re-normalizes the raw JSON).
pub(crate) fn decode_finding_plain(codec: i64, bytes: &[u8]) -> Option<Finding> {
    match codec {
        FINDING_POSTCARD => postcard::from_bytes(bytes).ok(),
        FINDING_POSTCARD_LZ4 => decode_postcard_lz4(bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_normalized_findings_round_trip_and_corrupt_rows_do_not_decode() {
        let finding = Finding {
            id: "a".repeat(32),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            finding_type: "Recon:EC2/PortProbeUnprotectedPort".into(),
            title: "Unprotected port on EC2 instance i-0abc is being probed.".repeat(4),
            severity: 5.0,
            ..Finding::default()
        };
        let encoded = Encoder::lz4()
            .encode(&finding, "{}", "import".into())
            .unwrap();
        assert_eq!(encoded.codec, FINDING_POSTCARD_LZ4);
        assert!(encoded.normalized.len() < encode_postcard(&finding).unwrap().len());
        assert_eq!(
            decode_finding_plain(encoded.codec, &encoded.normalized),
            Some(finding)
        );
        let mut corrupt = encoded.normalized.clone();
        corrupt[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_finding_plain(FINDING_POSTCARD_LZ4, &corrupt), None);
        assert_eq!(decode_finding_plain(FINDING_POSTCARD_LZ4, &[1, 0]), None);
    }
}
