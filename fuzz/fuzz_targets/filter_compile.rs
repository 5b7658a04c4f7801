//! A finding filter decoded from arbitrary bytes selects the same rows of a fixture index through
//! `FindingIndex::filter` and through the scoring crate's `CompiledFilter`.
#![no_main]

use std::sync::LazyLock;

use gdlens_index::fuzzing::{filter_agreement, fixture_index};
use gdlens_index::FindingIndex;
use libfuzzer_sys::fuzz_target;

static INDEX: LazyLock<FindingIndex> =
    LazyLock::new(|| fixture_index(include_str!("../../tests/fixtures/filter/findings.ndjson")));

fuzz_target!(|data: &[u8]| filter_agreement(&INDEX, data));
