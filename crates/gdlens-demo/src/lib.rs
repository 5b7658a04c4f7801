//! Deterministic demo data: realistic findings with planted attack stories and decoys.
