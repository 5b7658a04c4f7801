//! The embedded SQLite store: latest finding per id, every version, triage, ticket links, sync state.
