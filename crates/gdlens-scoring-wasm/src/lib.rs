//! Thin wasm-bindgen adapter over gdlens-scoring for the browser.
