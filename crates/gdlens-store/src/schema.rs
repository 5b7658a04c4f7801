//! Versioned schema migrations (`PRAGMA user_version`), applied on open. Append only: never edit
//! a released migration, add a new one.

use rusqlite_migration::{Migrations, M};

/// Every migration, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1).comment("findings, versions, triage, tickets, audit, sync, detective, state"),
        M::up(V2).comment("integer finding keys; raw JSON with a codec (compressed)"),
        M::up(V3).comment("zstd dictionaries trained on the store's own findings"),
        M::up(V4)
            .comment("detective: related finding ids and finding-group ids of each investigation"),
        M::up(V5).comment("suppression rules: gdlens's own and those synced from GuardDuty"),
        M::up(COVERAGE).comment("coverage: detector and protection plans per account and region"),
        M::up(V7_WEBHOOKS).comment("webhook outbox: events, deliveries, groups announced"),
    ])
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

/// Bulk imports were bound by bytes written: every version row carried its JSON as text (about
/// 2.4 KB) and the version index was keyed by the text id, so each batch dirtied index pages at
/// random places all over the file (written to the WAL, then again by the checkpoint).
/// Now versions point at their finding by an integer key handed out in insertion order (new
/// findings append at the end of the index), and the raw JSON carries a codec
/// (0 = UTF-8 text, 1 = LZ4 block with its length prepended; decoded back byte for byte).
/// The cross-table references are checked by `Store::integrity_check` rather than by foreign
/// keys: each is written in the same transaction as the row it points at.
const V2: &str = r#"
CREATE TABLE findings_v2 (
    key                INTEGER PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    version_id         INTEGER NOT NULL,
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
INSERT INTO findings_v2 (key, id, version_id, updated_at, account_id, region, finding_type, severity, archived,
                         first_imported_at, last_imported_at, source, codec, normalized)
    SELECT rowid, id, version_id, updated_at, account_id, region, finding_type, severity, archived,
           first_imported_at, last_imported_at, source, codec, normalized
    FROM findings ORDER BY rowid;

CREATE TABLE finding_versions_v2 (
    id           INTEGER PRIMARY KEY,
    finding_key  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    severity     REAL    NOT NULL,
    archived     INTEGER NOT NULL,
    imported_at  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    raw_codec    INTEGER NOT NULL,
    raw          BLOB    NOT NULL,
    UNIQUE (finding_key, updated_at)
);
INSERT INTO finding_versions_v2 (id, finding_key, updated_at, count, severity, archived, imported_at, source,
                                 raw_codec, raw)
    SELECT v.id, f.key, v.updated_at, v.count, v.severity, v.archived, v.imported_at, v.source, 0, v.raw
    FROM finding_versions v JOIN findings_v2 f ON f.id = v.finding_id ORDER BY v.id;

DROP TABLE findings;
DROP TABLE finding_versions;
ALTER TABLE findings_v2 RENAME TO findings;
ALTER TABLE finding_versions_v2 RENAME TO finding_versions;
"#;

/// Compression dictionaries (zstd), trained once per store on its first findings and never
/// deleted: a compressed row names its dictionary by the id in its zstd frame header. `purpose`
/// is `raw` (`finding_versions.raw`, codec 2) or `normalized` (`findings.normalized`, codec 2).
const V3: &str = r#"
CREATE TABLE codec_dictionaries (
    id          INTEGER PRIMARY KEY,
    purpose     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    bytes       BLOB    NOT NULL
);
"#;

/// V4: what links an investigation to findings, kept apart from the raw indicators: the GuardDuty
/// finding ids its RELATED_FINDING indicators name (from `RelatedFindingDetail.Arn`) and the
/// Detective finding-group ids of RELATED_FINDING_GROUP indicators, each a JSON array of strings.
const V4: &str = r#"
ALTER TABLE investigations ADD COLUMN related_finding_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE investigations ADD COLUMN related_finding_group_ids TEXT NOT NULL DEFAULT '[]';
"#;

/// V5: suppression rules (GuardDuty filters). `origin` is `gdlens` (rules written here, `region`
/// empty: meant for every configured region) or `guardduty` (synced per region). `criteria` is
/// the GuardDuty `findingCriteria` JSON text. Portable SQL: no SQLite-only types or clauses.
const V5: &str = r#"
CREATE TABLE suppression_rules (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    description  TEXT,
    origin       TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    detector_id  TEXT,
    action       TEXT    NOT NULL,
    rank         INTEGER NOT NULL,
    criteria     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (origin, region, name)
);
"#;

/// V6: GuardDuty coverage per account × region, replaced per region on each sync
/// (`coverage_regions` holds when a region was checked and the last error of the coverage calls;
/// `features` is a JSON list of `{name, status, additional}`). Portable SQL: PostgreSQL's step 6 (`pg_schema.rs`) runs the same text.
pub(crate) const COVERAGE: &str = r#"
CREATE TABLE coverage_regions (
    region         TEXT    PRIMARY KEY,
    checked_at     BIGINT  NOT NULL,
    error_code     TEXT,
    error_message  TEXT
);
CREATE TABLE coverage (
    region               TEXT    NOT NULL,
    account_id           TEXT    NOT NULL,
    administrator        BIGINT  NOT NULL,
    relationship_status  TEXT,
    detector_present     BIGINT  NOT NULL,
    features             TEXT    NOT NULL,
    checked_at           BIGINT  NOT NULL,
    PRIMARY KEY (region, account_id)
);
"#;

/// V7 (webhooks): the outbox (see `outbox.rs`). `outbox_events` are written in the transaction of
/// the change that causes them while `meta.outbox_enabled` is 1; `dispatched_at` is set when
/// they are fanned out into `webhook_deliveries` (one per matching webhook, `message_id`
/// unique: `msg_<event>_<webhook>`). `webhook_groups` holds the severity last announced per
/// finding group, so a group event lost to a crash is recomputed at the next start.
/// `ticket_requests`: one row per ticket rule and group or finding it opened a ticket for.
const V7_WEBHOOKS: &str = r#"
CREATE TABLE outbox_events (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    detail         TEXT    NOT NULL,
    dispatched_at  INTEGER
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE dispatched_at IS NULL;
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    webhook          TEXT    NOT NULL,
    event_id         INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    claimed_until    INTEGER,
    last_attempt_at  INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    response         TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE TABLE webhook_groups (
    group_id  TEXT    PRIMARY KEY,
    severity  REAL    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE TABLE ticket_requests (
    rule     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (rule, subject)
);
INSERT INTO meta (key, value) VALUES ('outbox_enabled', 0);
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    /// A store written by V1 keeps every finding, version and raw byte after V2.
    #[test]
    fn v2_keeps_v1_data() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 1).unwrap();
        let raw_old = "{\"id\":\"a\", \"v\":1}";
        let raw_new = "{\"id\":\"a\",  \"v\":2, \"é\":\"x\"}";
        conn.execute_batch(&format!(
            "INSERT INTO finding_versions (id, finding_id, updated_at, count, severity, archived, imported_at, source, raw)
                VALUES (10, 'a', 1, 1, 2.0, 0, 5, 's', '{raw_old}'), (11, 'a', 2, 3, 5.0, 1, 6, 's', '{raw_new}');
             INSERT INTO findings (id, version_id, updated_at, account_id, region, finding_type, severity, archived,
                first_imported_at, last_imported_at, source, codec, normalized)
                VALUES ('a', 11, 2, '1', 'r', 't', 5.0, 1, 5, 6, 's', 1, x'00');"
        ))
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let (key, version_id): (i64, i64) = conn
            .query_row(
                "SELECT key, version_id FROM findings WHERE id = 'a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(version_id, 11);
        let mut stmt = conn
            .prepare("SELECT raw_codec, raw, count FROM finding_versions WHERE finding_key = ?1 ORDER BY updated_at")
            .unwrap();
        let lock = std::sync::RwLock::new(std::sync::Arc::default());
        let mut decoder = crate::codec::Decoder::new(&lock);
        let rows: Vec<(String, i64)> = stmt
            .query_map([key], |r| {
                Ok((decoder.raw_column(&conn, r, 0, 1)?, r.get(2)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![(raw_old.to_string(), 1), (raw_new.to_string(), 3)]
        );
    }
}
