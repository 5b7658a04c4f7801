//! Streaming over one decompressed input: sniffs NDJSON vs. JSON documents and yields records
//! element by element, so memory stays flat whatever the input size.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::shape::classify;
use crate::{reject, ImportItem, RejectCode};

/// A standalone object (not a `findings` wrapper) larger than this is rejected.
const MAX_DOCUMENT: usize = 64 << 20;

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
    overflow: bool,
}

impl<R: BufRead> Tracked<R> {
    fn new(inner: R) -> Self {
        Tracked {
            prefix: Vec::new(),
            prefix_pos: 0,
            inner,
            newlines: 0,
            recording: Rc::new(Cell::new(false)),
            recorded: Vec::new(),
            overflow: false,
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
                if self.recorded.len() + n > MAX_DOCUMENT {
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

    /// Appends one line (without its `\n`) to `out`; false at end of input.
    fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let mut any = false;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(any);
            }
            any = true;
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    out.extend_from_slice(&buf[..i]);
                    self.advance_known(i + 1, Some(1));
                    return Ok(true);
                }
                None => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    self.advance_known(n, Some(0));
                }
            }
        }
    }
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.advance(n);
        Ok(n)
    }
}

/// Reads one decompressed input to the end, yielding records and rejects.
pub(crate) fn read_stream(reader: impl BufRead, source: &str, sink: &mut dyn FnMut(ImportItem)) {
    let mut t = Tracked::new(reader);
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
                if !read_document(t, source, sink, false) {
                    return Ok(());
                }
            }
            Some(b'{') => {
                // One complete object on the first line means NDJSON; otherwise a (pretty-printed)
                // document, which may be a `findings` wrapper of any size.
                let start = t.line();
                let mut first = Vec::new();
                t.read_line(&mut first)?;
                if serde_json::from_slice::<IgnoredAny>(&first).is_ok() {
                    handle_line(&first, source, start, sink);
                    return read_ndjson(t, source, sink);
                }
                first.push(b'\n');
                t.prefix = first;
                t.prefix_pos = 0;
                t.newlines = start - 1;
                if !read_document(t, source, sink, true) {
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
    loop {
        buf.clear();
        let line = t.line();
        if !t.read_line(&mut buf)? {
            return Ok(());
        }
        handle_line(&buf, source, line, sink);
        if buf.capacity() > 1 << 20 {
            buf = Vec::with_capacity(8 << 10); // one huge line must not pin its memory
        }
    }
}

/// Streams one JSON document starting at the current position. Returns false when the document
/// is corrupt (one reject with its position has been yielded and the input cannot be resynced).
fn read_document<R: BufRead>(
    t: &mut Tracked<R>,
    source: &str,
    sink: &mut dyn FnMut(ImportItem),
    object: bool,
) -> bool {
    let start = t.line();
    t.recorded.clear();
    t.overflow = false;
    t.recording.set(object);
    let recording = t.recording.clone();
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut *t);
        if object {
            TopObject {
                source,
                sink: &mut *sink,
                recording,
            }
            .deserialize(&mut de)
        } else {
            Elements {
                source,
                sink: &mut *sink,
            }
            .deserialize(&mut de)
            .map(|()| true)
        }
    };
    t.recording.set(false);
    match result {
        Ok(true) => true,
        Ok(false) if t.overflow => {
            sink(reject(
                source,
                start,
                RejectCode::TooLarge,
                format!("object larger than {MAX_DOCUMENT} bytes"),
            ));
            true
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
            true
        }
        Err(e) => {
            let line = start + e.line().saturating_sub(1) as u64;
            if e.is_io() {
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
            false
        }
    }
}

/// A top-level object: a `findings` / `Findings` wrapper (streamed; yields `true`) or anything
/// else (skipped while the reader records its bytes; yields `false`).
struct TopObject<'s> {
    source: &'s str,
    sink: &'s mut dyn FnMut(ImportItem),
    recording: Rc<Cell<bool>>,
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
        while let Some(key) = map.next_key::<String>()? {
            if !has_id && !wrapper && (key == "findings" || key == "Findings") {
                // Stop recording: the wrapper's bytes are not needed and may be huge.
                self.recording.set(false);
                map.next_value_seed(Elements {
                    source: self.source,
                    sink: &mut *self.sink,
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
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            classify(raw.get(), self.source, index, false, &mut *self.sink);
            index += 1;
        }
        Ok(())
    }
}
