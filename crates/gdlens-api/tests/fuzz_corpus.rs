//! Replays every file of `fuzz/corpus/graphql_request/` (seeds and inputs that once crashed)
//! through the fuzz target's own body, on the stable toolchain, as part of the ordinary test run.

use std::path::PathBuf;

#[test]
fn graphql_request_corpus_replays_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/graphql_request");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let run = std::panic::catch_unwind(|| gdlens_api::fuzzing::graphql_request(&data));
        assert!(run.is_ok(), "{} fails", path.display());
        files += 1;
    }
    assert!(files >= 5, "corpus missing: {}", dir.display());
}
