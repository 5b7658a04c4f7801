//! Priority scoring, ranking and filter predicates over columnar features. Pure; builds for wasm32.
