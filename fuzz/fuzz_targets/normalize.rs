//! Arbitrary bytes parsed as JSON and normalized: the borrowed and the `Value` normalizer agree,
//! findings have their invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gdlens_domain::fuzzing::normalize_bytes(data));
