//! Versioned schema migrations (`PRAGMA user_version`), applied on open. Append only: never edit
//! a released migration, add a new one.

use rusqlite_migration::{Migrations, M};

/// Every migration, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1).comment(
        "findings, versions, triage, tickets, audit, sync, detective, state",
    )])
}

const V1: &str = r#"
-- Every version of every finding ever seen, original JSON byte for byte.
CREATE TABLE finding_versions (
    id           INTEGER PRIMARY KEY,
    finding_id   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    severity     REAL    NOT NULL,
    archived     INTEGER NOT NULL,
    imported_at  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    raw          TEXT    NOT NULL,
    UNIQUE (finding_id, updated_at)
);

-- The latest version per finding: a pointer to its version row plus the normalized finding
-- in a compact encoding so startup does not re-parse JSON.
CREATE TABLE findings (
    id                 TEXT    PRIMARY KEY,
    version_id         INTEGER NOT NULL REFERENCES finding_versions(id),
    updated_at         INTEGER NOT NULL,
    account_id         TEXT    NOT NULL,
    region             TEXT    NOT NULL,
    finding_type       TEXT    NOT NULL,
    severity           REAL    NOT NULL,
    archived           INTEGER NOT NULL,
    first_imported_at  INTEGER NOT NULL,
    last_imported_at   INTEGER NOT NULL,
    source             TEXT    NOT NULL,
    codec              INTEGER NOT NULL,
    normalized         BLOB    NOT NULL
);

CREATE TABLE triage (
    finding_id  TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL,
    assignee    TEXT,
    note        TEXT,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL
);

CREATE TABLE ticket_links (
    finding_id  TEXT    NOT NULL,
    system      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    url         TEXT,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (finding_id, system, key)
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    finding_id  TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX audit_by_finding ON audit (finding_id, id);

CREATE TABLE sync_watermarks (
    region       TEXT    NOT NULL,
    detector_id  TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (region, detector_id)
);

CREATE TABLE sync_status (
    region              TEXT    NOT NULL,
    detector_id         TEXT    NOT NULL DEFAULT '',
    last_attempt_at     INTEGER,
    last_success_at     INTEGER,
    last_error_code     TEXT,
    last_error_message  TEXT,
    findings_synced     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (region, detector_id)
);

CREATE TABLE investigations (
    graph_arn         TEXT NOT NULL,
    investigation_id  TEXT NOT NULL,
    entity_arn        TEXT NOT NULL,
    entity_type       TEXT NOT NULL,
    status            TEXT NOT NULL,
    severity          TEXT NOT NULL,
    state             TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    scope_start       INTEGER,
    scope_end         INTEGER,
    indicators_json   TEXT NOT NULL,
    PRIMARY KEY (graph_arn, investigation_id)
);

CREATE TABLE local_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', 0);
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
