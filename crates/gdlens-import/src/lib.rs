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

mod input;
mod shape;
mod stream;

use gdlens_domain::Finding;

pub use input::{read_input, read_inputs, read_reader, INPUT_EXTENSIONS, STDIN};

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
    /// A standalone object larger than the safety limit.
    TooLarge,
    /// Missing required finding field (`id`, `type`, `accountId`, `severity`, `updatedAt`).
    MissingField,
    /// A finding field with an unusable value.
    InvalidField,
    /// A finding that is not a JSON object.
    NotAnObject,
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
