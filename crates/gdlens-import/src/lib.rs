//! Sniffs and streams every GuardDuty finding shape from files, directories, gzip and stdin.
//!
//! Accepted shapes, sniffed per input (never by file name): GetFindings API output
//! (`{"findings":[…]}`), AWS CLI output (`{"Findings":[…]}`, PascalCase), a bare finding object,
//! a JSON array of findings, NDJSON (one finding per line, as in the S3 export), EventBridge
//! events (`detail` holds the finding; single, array or NDJSON), concatenated pretty-printed
//! objects (`jq` output), each optionally gzip-compressed (sniffed by magic bytes).
//!
//! Memory does not grow with the input: NDJSON is read line by line, arrays and `findings`
//! wrappers element by element. Every problem becomes a [`Reject`] naming the source and line
//! (or array index); everything valid is still yielded.
//!
//! Memory is also bounded per record ([`ImportOptions`]): an NDJSON line longer than
//! [`MAX_LINE_BYTES`] is skipped to the next newline without being held (`line_too_long`); a
//! standalone object, or one element or member of a streamed document, larger than
//! [`MAX_DOCUMENT_BYTES`] is rejected as `too_large`.

#[doc(hidden)]
pub mod fuzzing;
mod input;
mod shape;
mod stream;

use gdlens_domain::{Finding, NormalizeError};

pub use input::{
    read_input, read_input_with, read_inputs, read_inputs_with, read_reader, read_reader_with,
    INPUT_EXTENSIONS, STDIN,
};

/// The longest NDJSON line imported (16 MiB; a GuardDuty finding is a few KB).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The largest standalone object, array element or wrapper member held in memory (64 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// Limits of one read. [`ImportOptions::default`] is what `gdlens import` uses; tests set small
/// limits to exercise them without writing megabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// NDJSON lines longer than this (without the newline) are rejected as `line_too_long`.
    pub max_line_bytes: usize,
    /// Standalone objects, and single elements or members of a streamed document, larger than
    /// this are rejected as `too_large`.
    pub max_document_bytes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_line_bytes: MAX_LINE_BYTES,
            max_document_bytes: MAX_DOCUMENT_BYTES,
        }
    }
}

/// One finding read from an input.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    /// The normalized finding.
    pub finding: Finding,
    /// Exact bytes of this finding's JSON (for EventBridge events, the `detail` object's bytes).
    pub raw: String,
    /// The input it came from: a file path, or `-` for stdin.
    pub source: String,
    /// 1-based NDJSON line, or 0-based index in an array / `findings` list, or the 1-based line
    /// where a standalone object starts.
    pub line: u64,
}

/// A record (or a whole document) that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    /// The input: a file path, or `-` for stdin.
    pub source: String,
    /// NDJSON line (1-based), array index (0-based), or the line of a JSON syntax error.
    pub line: u64,
    /// Human-readable reason.
    pub reason: String,
    /// Stable machine code: see [`RejectCode`].
    pub code: String,
}

/// Stable reject codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCode {
    /// Not valid JSON (syntax error, truncated document).
    InvalidJson,
    /// Valid JSON but not UTF-8 or not a shape gdlens knows (a number, an event without `detail`).
    UnsupportedShape,
    /// The input could not be opened or read (including a corrupt gzip stream).
    Io,
    /// A standalone object, or one element of a streamed document, larger than
    /// [`ImportOptions::max_document_bytes`].
    TooLarge,
    /// An NDJSON line longer than [`ImportOptions::max_line_bytes`] (skipped, not read into memory).
    LineTooLong,
    /// Missing required finding field (`id`, `type`, `accountId`, `severity`, `updatedAt`).
    MissingField,
    /// A finding field with an unusable value.
    InvalidField,
    /// A finding that is not a JSON object.
    NotAnObject,
    /// A finding timestamp outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z.
    TimestampOutOfRange,
}

impl RejectCode {
    /// The code as reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::UnsupportedShape => "unsupported_shape",
            Self::Io => "io_error",
            Self::TooLarge => "too_large",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::NotAnObject => "not_an_object",
            Self::LineTooLong => "line_too_long",
            Self::TimestampOutOfRange => "timestamp_out_of_range",
        }
    }

    /// Every code, in declaration order.
    pub const ALL: [RejectCode; 9] = [
        Self::InvalidJson,
        Self::UnsupportedShape,
        Self::Io,
        Self::TooLarge,
        Self::LineTooLong,
        Self::MissingField,
        Self::InvalidField,
        Self::NotAnObject,
        Self::TimestampOutOfRange,
    ];

    /// The reject code of a normalizer error.
    pub fn of_normalize_error(e: &NormalizeError) -> Self {
        match e {
            NormalizeError::NotAnObject => Self::NotAnObject,
            NormalizeError::Missing(_) => Self::MissingField,
            NormalizeError::Invalid { .. } => Self::InvalidField,
            NormalizeError::TimestampOutOfRange { .. } => Self::TimestampOutOfRange,
        }
    }
}

/// What reading yields, in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportItem {
    /// A finding.
    Record(ImportRecord),
    /// Something that was not imported.
    Reject(Reject),
}

/// Counts of one read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Files (or stdin) opened.
    pub inputs: u64,
    /// Records yielded.
    pub records: u64,
    /// Rejects yielded.
    pub rejects: u64,
}

pub(crate) fn reject(
    source: &str,
    line: u64,
    code: RejectCode,
    reason: impl Into<String>,
) -> ImportItem {
    ImportItem::Reject(Reject {
        source: source.to_string(),
        line,
        reason: reason.into(),
        code: code.as_str().into(),
    })
}
