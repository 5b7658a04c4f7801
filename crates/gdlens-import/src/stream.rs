//! Streaming over one decompressed input: sniffs NDJSON vs. JSON documents and yields records
//! element by element, so memory stays flat whatever the input size.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::shape::classify;
use crate::{reject, ImportItem, ImportOptions, RejectCode};

/// What [`Tracked::read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// A whole line (the last one may lack its newline).
    Complete,
    /// The line is longer than the cap: the cap's worth is in the buffer, the rest unread.
    TooLong,
    /// End of input, nothing read.
    End,
}

/// A reader that counts consumed lines and can record the bytes it hands out, with an optional
/// prefix (a line already read while sniffing) served first.
struct Tracked<R> {
    prefix: Vec<u8>,
    prefix_pos: usize,
    inner: R,
    /// Newlines consumed so far: the 1-based current line is `newlines + 1`.
    newlines: u64,
    recording: Rc<Cell<bool>>,
    recorded: Vec<u8>,
    /// Recording stops (and `overflow` is set) past this many bytes.
    record_limit: usize,
    overflow: bool,
    /// Bytes handed to serde since the current array element or object member began (`None`:
    /// no budget). Past `options.max_document_bytes`, reads fail and `budget_exceeded` is set, so
    /// serde never buffers a larger single value.
    since_mark: Rc<Cell<Option<usize>>>,
    budget_exceeded: bool,
    options: ImportOptions,
}

impl<R: BufRead> Tracked<R> {
    fn new(inner: R, options: ImportOptions) -> Self {
        Tracked {
            prefix: Vec::new(),
            prefix_pos: 0,
            inner,
            newlines: 0,
            recording: Rc::new(Cell::new(false)),
            recorded: Vec::new(),
            record_limit: options.max_document_bytes,
            overflow: false,
            since_mark: Rc::new(Cell::new(None)),
            budget_exceeded: false,
            options,
        }
    }

    fn line(&self) -> u64 {
        self.newlines + 1
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        if self.prefix_pos < self.prefix.len() {
            return Ok(&self.prefix[self.prefix_pos..]);
        }
        self.inner.fill_buf()
    }

    fn advance(&mut self, n: usize) {
        self.advance_known(n, None);
    }

    /// Consumes `n` bytes; `newlines` is their count of `\n` when the caller already knows it.
    fn advance_known(&mut self, n: usize, newlines: Option<u64>) {
        if n == 0 {
            return;
        }
        let from_prefix = self.prefix_pos < self.prefix.len();
        {
            let bytes: &[u8] = if from_prefix {
                &self.prefix[self.prefix_pos..self.prefix_pos + n]
            } else {
                // `fill` was called just before and returned at least `n` bytes; this does no I/O.
                &self.inner.fill_buf().expect("buffered bytes")[..n]
            };
            self.newlines +=
                newlines.unwrap_or_else(|| memchr::memchr_iter(b'\n', bytes).count() as u64);
            if self.recording.get() {
                if self.recorded.len() + n > self.record_limit {
                    self.overflow = true;
                    self.recording.set(false);
                    self.recorded = Vec::new();
                } else {
                    self.recorded.extend_from_slice(bytes);
                }
            }
        }
        if from_prefix {
            self.prefix_pos += n;
        } else {
            self.inner.consume(n);
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.fill()?.first().copied())
    }

    /// Skips whitespace and a UTF-8 byte-order mark.
    fn skip_whitespace(&mut self) -> io::Result<()> {
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(());
            }
            if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.advance(3);
                continue;
            }
            let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let all = n == buf.len();
            self.advance(n);
            if !all {
                return Ok(());
            }
        }
    }

    /// Appends one line (without its `\n`) to `out`, at most `max` bytes of it: a longer line
    /// stops at `max` bytes with the rest unread ([`Line::TooLong`]), so it is never all in memory.
    fn read_line(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Line> {
        let mut any = false;
        loop {
            let room = max.saturating_sub(out.len());
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(if any { Line::Complete } else { Line::End });
            }
            any = true;
            // A newline right after `room` bytes still ends a line of exactly `max` bytes.
            let window = &buf[..buf.len().min(room.saturating_add(1))];
            match memchr::memchr(b'\n', window) {
                Some(i) => {
                    out.extend_from_slice(&buf[..i]);
                    self.advance_known(i + 1, Some(1));
                    return Ok(Line::Complete);
                }
                None if buf.len() > room => {
                    out.extend_from_slice(&buf[..room]);
                    self.advance_known(room, Some(0));
                    return Ok(Line::TooLong);
                }
                None => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    self.advance_known(n, Some(0));
                }
            }
        }
    }

    /// Consumes the rest of the current line and its `\n` without keeping it.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(());
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    self.advance_known(i + 1, Some(1));
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    self.advance_known(n, Some(0));
                }
            }
        }
    }
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let max = self.options.max_document_bytes;
        let n = self.fill()?.len().min(out.len());
        if let Some(since) = self.since_mark.get() {
            if since.saturating_add(n) > max {
                self.budget_exceeded = true;
                return Err(io::Error::other(format!(
                    "a single value larger than {max} bytes"
                )));
            }
            self.since_mark.set(Some(since + n));
        }
        let buf = self.fill()?;
        out[..n].copy_from_slice(&buf[..n]);
        self.advance(n);
        Ok(n)
    }
}

/// Reads one decompressed input to the end, yielding records and rejects.
pub(crate) fn read_stream(
    reader: impl BufRead,
    source: &str,
    options: &ImportOptions,
    sink: &mut dyn FnMut(ImportItem),
) {
    let mut t = Tracked::new(reader, *options);
    if let Err(e) = read_tracked(&mut t, source, sink) {
        sink(reject(
            source,
            t.line(),
            RejectCode::Io,
            format!("read failed: {e}"),
        ));
    }
}

fn read_tracked<R: BufRead>(
    t: &mut Tracked<R>,
    source: &str,
    sink: &mut dyn FnMut(ImportItem),
) -> io::Result<()> {
    loop {
        t.skip_whitespace()?;
        match t.peek()? {
            None => return Ok(()),
            Some(b'[') => {
                if read_document(t, source, sink, Document::Array).is_some() {
                    return Ok(());
                }
            }
            Some(b'{') => {
                // One complete object on the first line means NDJSON; otherwise a (pretty-printed)
                // document, which may be a `findings` wrapper of any size.
                let start = t.line();
                let mut first = Vec::new();
                let max_line = t.options.max_line_bytes;
                if t.read_line(&mut first, max_line)? == Line::TooLong {
                    // One line over the cap: a compact `findings` wrapper streams element by
                    // element; any other object is `line_too_long`, as on any later line.
                    t.prefix = first;
                    t.prefix_pos = 0;
                    match read_document(t, source, sink, Document::LongLine) {
                        None => {}
                        // Corrupt on its own line: the lines after it are still NDJSON.
                        Some(line) if line == start => t.skip_line()?,
                        Some(_) => return Ok(()),
                    }
                    continue;
                }
                if serde_json::from_slice::<IgnoredAny>(&first).is_ok() {
                    handle_line(&first, source, start, sink);
                    return read_ndjson(t, source, sink);
                }
                first.push(b'\n');
                t.prefix = first;
                t.prefix_pos = 0;
                t.newlines = start - 1;
                if read_document(t, source, sink, Document::Object).is_some() {
                    return Ok(());
                }
            }
            Some(_) => return read_ndjson(t, source, sink),
        }
    }
}

fn handle_line(bytes: &[u8], source: &str, line: u64, sink: &mut dyn FnMut(ImportItem)) {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return;
    }
    match std::str::from_utf8(trimmed) {
        Ok(text) => classify(text, source, line, false, sink),
        Err(e) => sink(reject(
            source,
            line,
            RejectCode::InvalidJson,
            format!("line is not UTF-8: {e}"),
        )),
    }
}

fn read_ndjson<R: BufRead>(
    t: &mut Tracked<R>,
    source: &str,
    sink: &mut dyn FnMut(ImportItem),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8 << 10);
    let max = t.options.max_line_bytes;
    loop {
        buf.clear();
        let line = t.line();
        match t.read_line(&mut buf, max)? {
            Line::End => return Ok(()),
            Line::Complete => handle_line(&buf, source, line, sink),
            Line::TooLong => {
                t.skip_line()?;
                sink(reject(
                    source,
                    line,
                    RejectCode::LineTooLong,
                    format!("line longer than {max} bytes: skipped to the next newline"),
                ));
            }
        }
        if buf.capacity() > 1 << 20 {
            buf = Vec::with_capacity(8 << 10); // one huge line must not pin its memory
        }
    }
}

/// What kind of document [`read_document`] streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    /// A top-level array.
    Array,
    /// A top-level object spanning lines (pretty-printed).
    Object,
    /// A top-level object on one line longer than the line cap.
    LongLine,
}

/// Streams one JSON document starting at the current position. Returns the line of the error
/// when the document is corrupt (one reject with its position has been yielded and the input
/// cannot be resynced there), `None` when it was read to its end.
fn read_document<R: BufRead>(
    t: &mut Tracked<R>,
    source: &str,
    sink: &mut dyn FnMut(ImportItem),
    kind: Document,
) -> Option<u64> {
    let start = t.line();
    let object = kind != Document::Array;
    let (record_limit, overflow_code) = match kind {
        Document::LongLine => (t.options.max_line_bytes, RejectCode::LineTooLong),
        _ => (t.options.max_document_bytes, RejectCode::TooLarge),
    };
    t.recorded.clear();
    t.record_limit = record_limit;
    t.overflow = false;
    t.budget_exceeded = false;
    t.recording.set(object);
    t.since_mark.set(Some(0));
    let recording = t.recording.clone();
    let mark = t.since_mark.clone();
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut *t);
        if object {
            TopObject {
                source,
                sink: &mut *sink,
                recording,
                mark,
            }
            .deserialize(&mut de)
        } else {
            Elements {
                source,
                sink: &mut *sink,
                mark,
            }
            .deserialize(&mut de)
            .map(|()| true)
        }
    };
    t.recording.set(false);
    t.since_mark.set(None);
    match result {
        Ok(true) => None,
        Ok(false) if t.overflow => {
            let reason = match overflow_code {
                RejectCode::LineTooLong => format!(
                    "line longer than {record_limit} bytes (and not a `findings` list): skipped"
                ),
                _ => format!("object larger than {record_limit} bytes"),
            };
            sink(reject(source, start, overflow_code, reason));
            None
        }
        Ok(false) => {
            let bytes = std::mem::take(&mut t.recorded);
            match String::from_utf8(bytes) {
                Ok(text) => classify(&text, source, start, true, sink),
                Err(e) => sink(reject(
                    source,
                    start,
                    RejectCode::InvalidJson,
                    format!("not UTF-8: {e}"),
                )),
            }
            None
        }
        Err(e) => {
            let line = start + e.line().saturating_sub(1) as u64;
            if kind == Document::LongLine && line == start {
                // Over the cap and no valid `findings` list: the line is not parsed further.
                sink(reject(
                    source,
                    start,
                    RejectCode::LineTooLong,
                    format!(
                        "line longer than {record_limit} bytes (and not a `findings` list): skipped"
                    ),
                ));
            } else if t.budget_exceeded {
                sink(reject(
                    source,
                    line,
                    RejectCode::TooLarge,
                    format!(
                        "a single element or member larger than {} bytes: the rest of this input is skipped",
                        t.options.max_document_bytes
                    ),
                ));
            } else if e.is_io() {
                sink(reject(
                    source,
                    line,
                    RejectCode::Io,
                    format!("read failed: {e}"),
                ));
            } else {
                sink(reject(
                    source,
                    line,
                    RejectCode::InvalidJson,
                    format!(
                        "invalid JSON document at line {line}, column {}: {e}",
                        e.column()
                    ),
                ));
            }
            Some(line)
        }
    }
}

/// A top-level object: a `findings` / `Findings` wrapper (streamed; yields `true`) or anything
/// else (skipped while the reader records its bytes; yields `false`).
struct TopObject<'s> {
    source: &'s str,
    sink: &'s mut dyn FnMut(ImportItem),
    recording: Rc<Cell<bool>>,
    /// Reset at each member: the size budget is per member.
    mark: Rc<Cell<Option<usize>>>,
}

impl<'de> DeserializeSeed<'de> for TopObject<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopObject<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut wrapper = false;
        let mut has_id = false;
        loop {
            self.mark.set(Some(0));
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            if !has_id && !wrapper && (key == "findings" || key == "Findings") {
                // Stop recording: the wrapper's bytes are not needed and may be huge.
                self.recording.set(false);
                map.next_value_seed(Elements {
                    source: self.source,
                    sink: &mut *self.sink,
                    mark: self.mark.clone(),
                })?;
                wrapper = true;
            } else {
                has_id |= key == "id" || key == "Id";
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(wrapper)
    }
}

/// A JSON array streamed element by element; each element is classified by its index.
struct Elements<'s> {
    source: &'s str,
    sink: &'s mut dyn FnMut(ImportItem),
    /// Reset at each element: the size budget is per element.
    mark: Rc<Cell<Option<usize>>>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of findings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        loop {
            self.mark.set(Some(0));
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            classify(raw.get(), self.source, index, false, &mut *self.sink);
            index += 1;
        }
        Ok(())
    }
}
