//! Records rejected for their size or their timestamps, read from the fixture files in
//! `tests/fixtures/import/`: each is one reject with a stable code naming its source and line,
//! and every other record is still imported.

use std::io::{self, Read};
use std::path::PathBuf;

use gdlens_import::{
    read_inputs_with, read_reader_with, ImportItem, ImportOptions, ImportRecord, Reject,
    MAX_LINE_BYTES,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/import")
        .join(name)
}

fn split(items: Vec<ImportItem>) -> (Vec<ImportRecord>, Vec<Reject>) {
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    for item in items {
        match item {
            ImportItem::Record(r) => records.push(r),
            ImportItem::Reject(r) => rejects.push(r),
        }
    }
    (records, rejects)
}

fn read_file(name: &str, options: &ImportOptions) -> (Vec<ImportRecord>, Vec<Reject>) {
    let mut items = Vec::new();
    read_inputs_with(&[fixture(name)], options, |item| items.push(item));
    split(items)
}

fn read_bytes(
    source: &str,
    reader: impl Read,
    options: &ImportOptions,
) -> (Vec<ImportRecord>, Vec<Reject>) {
    let mut items = Vec::new();
    read_reader_with(source, reader, options, &mut |item| items.push(item));
    split(items)
}

fn lines_and_codes(rejects: &[Reject]) -> Vec<(u64, &str)> {
    rejects.iter().map(|r| (r.line, r.code.as_str())).collect()
}

fn cap(max_line_bytes: usize) -> ImportOptions {
    ImportOptions {
        max_line_bytes,
        ..ImportOptions::default()
    }
}

#[test]
fn ndjson_line_over_the_cap_is_one_reject_and_the_rest_imported() {
    // Line 2 is about 3 KB.
    let (records, rejects) = read_file("long-line.jsonl", &cap(2048));
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(lines_and_codes(&rejects), [(2, "line_too_long")]);
    assert!(rejects[0].source.ends_with("long-line.jsonl"));
    assert!(
        rejects[0].reason.contains("2048 bytes"),
        "{}",
        rejects[0].reason
    );
    // Under the default cap the same file imports whole.
    let (records, rejects) = read_file("long-line.jsonl", &ImportOptions::default());
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.len(), 3);
}

#[test]
fn a_line_of_exactly_the_cap_is_imported() {
    let text = std::fs::read_to_string(fixture("long-line.jsonl")).unwrap();
    let first = text.lines().next().unwrap().len();
    let (records, rejects) = read_file("long-line.jsonl", &cap(first));
    assert_eq!(records[0].line, 1);
    assert!(rejects.iter().all(|r| r.line != 1), "{rejects:?}");
    let (records, rejects) = read_file("long-line.jsonl", &cap(first - 1));
    assert!(records.iter().all(|r| r.line != 1));
    assert_eq!(lines_and_codes(&rejects)[0], (1, "line_too_long"));
}

/// Serves `prefix`, then `len` bytes of `x` without a newline, then `suffix`: a line far over the
/// cap that never exists in memory on this side either.
struct HugeLine {
    prefix: io::Cursor<Vec<u8>>,
    left: u64,
    suffix: io::Cursor<Vec<u8>>,
}

impl Read for HugeLine {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(out)?;
        if n > 0 {
            return Ok(n);
        }
        if self.left > 0 {
            let n = (self.left.min(out.len() as u64)) as usize;
            out[..n].fill(b'x');
            self.left -= n as u64;
            return Ok(n);
        }
        self.suffix.read(out)
    }
}

#[test]
fn the_default_cap_is_16_mib_and_a_longer_line_is_skipped_to_the_next_newline() {
    assert_eq!(MAX_LINE_BYTES, 16 << 20);
    let text = std::fs::read_to_string(fixture("findings.jsonl")).unwrap();
    let mut lines = text.lines();
    let (first, rest) = (lines.next().unwrap(), lines.collect::<Vec<_>>().join("\n"));
    let reader = HugeLine {
        prefix: io::Cursor::new(format!("{first}\n{{\"id\":\"").into_bytes()),
        left: (MAX_LINE_BYTES + 1) as u64,
        suffix: io::Cursor::new(format!("\"}}\n{rest}\n").into_bytes()),
    };
    let (records, rejects) = read_bytes("-", reader, &ImportOptions::default());
    assert_eq!(
        records.iter().map(|r| r.line).collect::<Vec<_>>(),
        [1, 3, 4]
    );
    assert_eq!(lines_and_codes(&rejects), [(2, "line_too_long")]);
    assert_eq!(rejects[0].source, "-");
}

#[test]
fn a_compact_findings_list_over_the_cap_still_streams() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("getfindings.json")).unwrap())
            .unwrap();
    let one_line = doc.to_string();
    assert!(one_line.len() > 2048);
    let (records, rejects) = read_bytes("compact.json", one_line.as_bytes(), &cap(1024));
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn a_first_line_over_the_cap_that_is_no_findings_list_is_line_too_long() {
    let text = std::fs::read_to_string(fixture("long-line.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // The long line first, then a corrupt long line, then a valid one.
    let corrupt = format!("{{\"id\":\"x\",\"oops\" {}", "y".repeat(3000));
    let input = format!("{}\n{corrupt}\n{}\n", lines[1], lines[2]);
    let (records, rejects) = read_bytes("first.jsonl", input.as_bytes(), &cap(2048));
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [3]);
    assert_eq!(
        lines_and_codes(&rejects),
        [(1, "line_too_long"), (2, "line_too_long")]
    );
    // A corrupt first line over the cap: rejected, and the lines after it are still read.
    let input = format!("{corrupt}\n{}\n{}\n", lines[0], lines[2]);
    let (records, rejects) = read_bytes("corrupt.jsonl", input.as_bytes(), &cap(2048));
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(lines_and_codes(&rejects), [(1, "line_too_long")]);
}

#[test]
fn an_array_element_over_the_document_budget_is_too_large() {
    let text = std::fs::read_to_string(fixture("long-line.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let input = format!("[\n{},\n{},\n{}\n]\n", lines[0], lines[1], lines[2]);
    let options = ImportOptions {
        max_line_bytes: 1 << 20,
        max_document_bytes: 2048,
    };
    let (records, rejects) = read_bytes("array.json", input.as_bytes(), &options);
    // Elements after the oversize one cannot be reached without reading it.
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [0]);
    assert_eq!(lines_and_codes(&rejects), [(3, "too_large")]);
}

#[test]
fn timestamps_out_of_range_or_unparsable_are_rejected_by_line() {
    let (records, rejects) = read_file("timestamps.jsonl", &ImportOptions::default());
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 6]);
    assert_eq!(
        lines_and_codes(&rejects),
        [
            (2, "timestamp_out_of_range"),
            (3, "timestamp_out_of_range"),
            (4, "invalid_field"),
            (5, "timestamp_out_of_range"),
        ]
    );
    let reasons: Vec<&str> = rejects.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("`updatedAt`") && reasons[0].contains("198285174417600000"));
    assert!(reasons[1].contains("`createdAt`") && reasons[1].contains("1970-01-01T00:00:00Z"));
    assert!(reasons[2].contains("`service.eventLastSeen`: not a timestamp"));
    assert!(reasons[3].contains("`service.eventFirstSeen`"));
    // The finding id is named too.
    assert!(reasons[0].starts_with("finding ts"), "{}", reasons[0]);
    assert_eq!(records[1].finding.updated_at, 1_714_558_530_000);
}
