//! Arbitrary bytes sent through the real GraphQL router as one request (JSON, GraphQL or GET,
//! raw or built into a valid document) under a fixture token: never a 5xx, always JSON with
//! known error codes, and a scoped token never sees an account or finding outside its scope.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gdlens_api::fuzzing::graphql_request(data));
