//! The body of the `import_sniff` fuzz target (`fuzz/fuzz_targets/import_sniff.rs`), shared with
//! the corpus replay test (`tests/fuzz_corpus.rs`) so both run exactly the same checks.
//! Not part of the importer's API.

use std::io::Write;

use gdlens_domain::time::in_range;
use gdlens_domain::{normalize_json, JsonRef};

use crate::{read_reader_with, ImportItem, ImportOptions, RejectCode};

/// Small limits, so inputs of a few KB reach the line cap and the document budget.
pub const SMALL_LIMITS: ImportOptions = ImportOptions {
    max_line_bytes: 512,
    max_document_bytes: 2048,
};

/// Reads `data` as a file (with the default limits, with [`SMALL_LIMITS`], and gzip-wrapped)
/// and panics on any broken invariant: every item is a finding whose raw bytes are a slice of
/// the input and re-normalize to the same finding, with timestamps in range, or a reject with a
/// known code; wrapping the input in gzip changes nothing.
pub fn import_bytes(data: &[u8]) {
    let plain = read_all(data, &ImportOptions::default());
    check(data, &plain);
    check(data, &read_all(data, &SMALL_LIMITS));
    if !data.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("writing to a Vec");
        let gzipped = gz.finish().expect("writing to a Vec");
        assert_eq!(
            read_all(&gzipped, &ImportOptions::default()),
            plain,
            "the gzip-wrapped input reads differently"
        );
    }
}

fn read_all(data: &[u8], options: &ImportOptions) -> Vec<ImportItem> {
    let mut items = Vec::new();
    read_reader_with("fuzz", data, options, &mut |item| items.push(item));
    items
}

fn check(data: &[u8], items: &[ImportItem]) {
    let gzip = data.starts_with(&[0x1f, 0x8b]);
    for item in items {
        match item {
            ImportItem::Reject(r) => {
                assert!(
                    RejectCode::ALL.iter().any(|c| c.as_str() == r.code),
                    "unknown reject code {:?}",
                    r.code
                );
                assert_eq!(r.source, "fuzz");
            }
            ImportItem::Record(r) => {
                let f = &r.finding;
                for (name, t) in [
                    ("createdAt", Some(f.created_at)),
                    ("updatedAt", Some(f.updated_at)),
                    ("eventFirstSeen", f.event_first_seen),
                    ("eventLastSeen", f.event_last_seen),
                ] {
                    assert!(t.is_none_or(in_range), "{name} {t:?} out of range");
                }
                assert!(f.severity.is_finite());
                if !gzip {
                    assert!(
                        contains(data, r.raw.as_bytes()),
                        "raw is not a slice of the input: {:?}",
                        r.raw
                    );
                }
                // The store re-normalizes raw bytes: they must give the same finding.
                let again = JsonRef::parse(&r.raw).expect("raw bytes are JSON");
                assert_eq!(normalize_json(&again).as_ref(), Ok(f), "raw re-normalizes");
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
