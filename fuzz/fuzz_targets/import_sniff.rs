//! Arbitrary bytes read as an input file (plain and gzip-wrapped): sniffing, streaming and
//! normalization never panic; every item is a finding or a reject with a known code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gdlens_import::fuzzing::import_bytes(data));
