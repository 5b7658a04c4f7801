//! The persisted start-up snapshot: the index and the correlator's settled state in one file
//! next to the store, so a restart loads them instead of decoding and correlating every finding.
//!
//! Layout: a header (magic, format, gdlens version, the store generation it reflects), the
//! postcard-encoded body, then a CRC-32 of everything before it. A file is used only when all of
//! that checks out and the store's generation is still the recorded one; anything else (missing,
//! older format or version, another generation, another correlation config, a bad checksum, a
//! decode error) is a miss, logged, and the server rebuilds from the store as before.
//!
//! Written with a temporary file and a rename, so a crash mid-write leaves the old file or none.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use gdlens_groups::Correlator;
use gdlens_index::FindingIndex;
use serde::{Deserialize, Serialize};

/// File name inside the data directory.
pub(crate) const FILE_NAME: &str = "startup-snapshot.bin";
const MAGIC: &[u8; 8] = b"GDLSNAP\0";
/// Bump whenever a persisted structure changes shape (index columns, correlator members).
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Header {
    format: u32,
    version: String,
    store_generation: u64,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    #[serde(with = "gdlens_index::persist")]
    index: &'a FindingIndex,
    correlator: &'a Correlator,
}

#[derive(Deserialize)]
struct Body {
    #[serde(with = "gdlens_index::persist")]
    index: FindingIndex,
    correlator: Correlator,
}

/// Why a persisted snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Miss {
    #[error("no snapshot file")]
    Missing,
    #[error("cannot read the snapshot file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a snapshot file, or truncated")]
    NotASnapshot,
    #[error("checksum mismatch (a damaged file)")]
    Checksum,
    #[error("written by format {format} of gdlens {version}")]
    OtherFormat { format: u32, version: String },
    #[error("reflects store generation {found}, the store is at {current}")]
    Stale { found: u64, current: u64 },
    #[error("made with another correlation config")]
    OtherConfig,
    #[error("cannot decode the snapshot: {0}")]
    Decode(#[from] postcard::Error),
}

/// Writes `index` and `correlator` (settled) as reflecting `store_generation`.
pub(crate) fn write(
    path: &Path,
    store_generation: u64,
    index: &FindingIndex,
    correlator: &Correlator,
) -> std::io::Result<u64> {
    let tmp = path.with_extension("bin.tmp");
    let header = Header {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_string(),
        store_generation,
    };
    let mut out = Checksummed {
        inner: BufWriter::with_capacity(1 << 20, File::create(&tmp)?),
        crc: crc32fast::Hasher::new(),
        written: 0,
    };
    out.write_all(MAGIC)?;
    let body = BodyRef { index, correlator };
    let encode = |e: postcard::Error| std::io::Error::other(e.to_string());
    postcard::to_io(&header, &mut out).map_err(encode)?;
    postcard::to_io(&body, &mut out).map_err(encode)?;
    let crc = out.crc.clone().finalize();
    let written = out.written + 4;
    let mut file = out.inner;
    file.write_all(&crc.to_le_bytes())?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(written)
}

/// Reads the snapshot at `path` if it reflects `current_generation` and was made with `config`.
pub(crate) fn read(
    path: &Path,
    current_generation: u64,
    config: &gdlens_groups::CorrelationConfig,
) -> Result<(FindingIndex, Correlator), Miss> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Missing),
        Err(e) => return Err(e.into()),
    };
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Miss::NotASnapshot);
    }
    let (content, trailer) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(trailer.try_into().map_err(|_| Miss::NotASnapshot)?);
    if crc32fast::hash(content) != stored {
        return Err(Miss::Checksum);
    }
    let (header, rest) = postcard::take_from_bytes::<Header>(&content[MAGIC.len()..])?;
    if header.format != FORMAT || header.version != env!("CARGO_PKG_VERSION") {
        return Err(Miss::OtherFormat {
            format: header.format,
            version: header.version,
        });
    }
    if header.store_generation != current_generation {
        return Err(Miss::Stale {
            found: header.store_generation,
            current: current_generation,
        });
    }
    let body: Body = postcard::from_bytes(rest)?;
    if body.correlator.config() != config {
        return Err(Miss::OtherConfig);
    }
    Ok((body.index, body.correlator))
}

/// A writer that counts and checksums what passes through.
struct Checksummed<W> {
    inner: W,
    crc: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_groups::CorrelationConfig;

    fn sample() -> (FindingIndex, Correlator) {
        let findings = crate::test_support::demo_findings(3_000);
        let index = FindingIndex::build(findings.iter().cloned());
        let mut correlator = Correlator::new(CorrelationConfig::default());
        correlator.add(&findings);
        (index, correlator)
    }

    #[test]
    fn round_trip_and_every_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE_NAME);
        let config = CorrelationConfig::default();
        assert!(matches!(read(&path, 1, &config), Err(Miss::Missing)));

        let (index, correlator) = sample();
        write(&path, 7, &index, &correlator).expect("writes");
        let (loaded, groups) = read(&path, 7, &config).expect("reads");
        assert_eq!(loaded.len(), index.len());
        assert!(correlator.group_count() > 10, "the demo data forms groups");
        assert_eq!(groups.groups(), correlator.groups());

        assert!(matches!(
            read(&path, 8, &config),
            Err(Miss::Stale {
                found: 7,
                current: 8
            })
        ));
        let other = CorrelationConfig {
            min_tactics: 3,
            ..config.clone()
        };
        assert!(matches!(read(&path, 7, &other), Err(Miss::OtherConfig)));

        let mut bytes = std::fs::read(&path).expect("file");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&path, &bytes).expect("damage");
        assert!(matches!(read(&path, 7, &config), Err(Miss::Checksum)));
        std::fs::write(&path, &bytes[..bytes.len() / 3]).expect("truncate");
        assert!(matches!(
            read(&path, 7, &config),
            Err(Miss::Checksum | Miss::NotASnapshot)
        ));
        std::fs::write(&path, b"hello").expect("junk");
        assert!(matches!(read(&path, 7, &config), Err(Miss::NotASnapshot)));
    }
}
