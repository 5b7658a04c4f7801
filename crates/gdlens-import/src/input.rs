//! Opening inputs: files, directories (walked in sorted order), gzip (by magic bytes), stdin.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::stream::read_stream;
use crate::{reject, ImportItem, ImportOptions, ReadStats, RejectCode};

/// The path that means standard input.
pub const STDIN: &str = "-";

/// File name endings read when walking a directory (other files are skipped, with a debug log).
pub const INPUT_EXTENSIONS: [&str; 4] = [".json", ".jsonl", ".ndjson", ".gz"];

const BUFFER: usize = 256 << 10;

/// Reads every input in order (files, directories, `-` for stdin), yielding records and rejects.
/// Never fails: unreadable inputs become rejects with code `io_error`. Default [`ImportOptions`].
pub fn read_inputs(inputs: &[PathBuf], on_item: impl FnMut(ImportItem)) -> ReadStats {
    read_inputs_with(inputs, &ImportOptions::default(), on_item)
}

/// [`read_inputs`] with explicit limits.
pub fn read_inputs_with(
    inputs: &[PathBuf],
    options: &ImportOptions,
    mut on_item: impl FnMut(ImportItem),
) -> ReadStats {
    let mut stats = ReadStats::default();
    let mut counting = |item: ImportItem| {
        match &item {
            ImportItem::Record(_) => stats.records += 1,
            ImportItem::Reject(_) => stats.rejects += 1,
        }
        on_item(item)
    };
    let mut opened = 0;
    for input in inputs {
        opened += read_input_with(input, options, &mut counting);
    }
    stats.inputs = opened;
    stats
}

/// Reads one input (file, directory or `-`); returns the number of files (or stdin) read.
pub fn read_input(input: &Path, on_item: &mut dyn FnMut(ImportItem)) -> u64 {
    read_input_with(input, &ImportOptions::default(), on_item)
}

/// [`read_input`] with explicit limits.
pub fn read_input_with(
    input: &Path,
    options: &ImportOptions,
    on_item: &mut dyn FnMut(ImportItem),
) -> u64 {
    if input.as_os_str() == STDIN {
        read_reader_with(STDIN, io::stdin().lock(), options, on_item);
        return 1;
    }
    let source = input.display().to_string();
    let meta = match std::fs::metadata(input) {
        Ok(m) => m,
        Err(e) => {
            on_item(reject(
                &source,
                0,
                RejectCode::Io,
                format!("cannot open: {e}"),
            ));
            return 0;
        }
    };
    if !meta.is_dir() {
        return read_file(input, options, on_item);
    }
    let mut files = 0;
    let walk = walkdir::WalkDir::new(input)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                let name = entry.file_name().to_string_lossy();
                if name.starts_with('.') || !INPUT_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
                {
                    tracing::debug!(path = %entry.path().display(), "skipped: not a finding file");
                    continue;
                }
                files += read_file(entry.path(), options, on_item);
            }
            Ok(_) => {}
            Err(e) => {
                let at = e
                    .path()
                    .map_or_else(|| source.clone(), |p| p.display().to_string());
                on_item(reject(
                    &at,
                    0,
                    RejectCode::Io,
                    format!("cannot read directory entry: {e}"),
                ));
            }
        }
    }
    files
}

fn read_file(path: &Path, options: &ImportOptions, on_item: &mut dyn FnMut(ImportItem)) -> u64 {
    let source = path.display().to_string();
    match File::open(path) {
        Ok(file) => {
            read_reader_with(&source, file, options, on_item);
            1
        }
        Err(e) => {
            on_item(reject(
                &source,
                0,
                RejectCode::Io,
                format!("cannot open: {e}"),
            ));
            0
        }
    }
}

/// Reads one byte stream named `source` (gzip sniffed by its magic bytes).
pub fn read_reader(source: &str, reader: impl Read, on_item: &mut dyn FnMut(ImportItem)) {
    read_reader_with(source, reader, &ImportOptions::default(), on_item);
}

/// [`read_reader`] with explicit limits.
pub fn read_reader_with(
    source: &str,
    reader: impl Read,
    options: &ImportOptions,
    on_item: &mut dyn FnMut(ImportItem),
) {
    let mut buffered = BufReader::with_capacity(BUFFER, reader);
    let gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            on_item(reject(
                source,
                0,
                RejectCode::Io,
                format!("read failed: {e}"),
            ));
            return;
        }
    };
    if gzip {
        read_stream(
            BufReader::with_capacity(BUFFER, MultiGzDecoder::new(buffered)),
            source,
            options,
            on_item,
        );
    } else {
        read_stream(buffered, source, options, on_item);
    }
}
