//! Replays every file of `fuzz/corpus/filter_compile/` (seeds and inputs that once failed) through
//! the fuzz target's own body over the same fixture index, on the stable toolchain.

use std::path::PathBuf;

use gdlens_index::fuzzing::{filter_agreement, fixture_index};

#[test]
fn filter_compile_corpus_replays_cleanly() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixture =
        std::fs::read_to_string(root.join("tests/fixtures/filter/findings.ndjson")).unwrap();
    let index = fixture_index(&fixture);
    assert!(index.len() > 30);
    let dir = root.join("fuzz/corpus/filter_compile");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let run = std::panic::catch_unwind(|| filter_agreement(&index, &data));
        assert!(run.is_ok(), "{} fails", path.display());
        files += 1;
    }
    assert!(files >= 3, "corpus missing: {}", dir.display());
}
