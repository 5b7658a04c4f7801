//! Replays every file of `fuzz/corpus/normalize/` (seeds and inputs that once crashed) through the
//! fuzz target's own body, on the stable toolchain, as part of the ordinary test run.

use std::path::PathBuf;

#[test]
fn normalize_corpus_replays_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/normalize");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let run = std::panic::catch_unwind(|| gdlens_domain::fuzzing::normalize_bytes(&data));
        assert!(run.is_ok(), "{} fails", path.display());
        files += 1;
    }
    assert!(files >= 3, "corpus missing: {}", dir.display());
}
