//! PostgreSQL schema: numbered, versioned steps in `schema_migrations`, applied on open under a
//! transaction-scoped advisory lock (replicas starting together apply each step once). Append
//! only, like the SQLite migrations in `schema.rs`, and numbered alike: step N of one backend
//! brings the same data as step N of the other, so a new SQLite `V5` gets a PostgreSQL `V5` here.

use postgres::Client;

use crate::error::StoreError;

/// Advisory lock key held while migrating (any constant no other lock of the store uses).
const MIGRATION_LOCK: i64 = 0x6764_6c65_6e73_0001;

/// One step: its version, what it brings, its SQL.
pub(crate) struct Step {
    pub(crate) version: i32,
    pub(crate) comment: &'static str,
    pub(crate) sql: &'static str,
}

/// Every step, oldest first.
pub(crate) fn steps() -> &'static [Step] {
    &[
        Step {
            version: 1,
            comment: "findings, versions, triage, tickets, audit, sync, detective, state",
            sql: V1,
        },
        Step {
            version: 2,
            comment: "change log the replicas follow (SQLite V2 is a layout rewrite that V1 here already has)",
            sql: V2,
        },
        Step {
            version: 3,
            comment: "codec dictionaries (kept for parity; this backend writes LZ4 rows and never trains)",
            sql: V3,
        },
        Step {
            version: 4,
            comment: "detective: related finding ids and finding-group ids of each investigation",
            sql: V4,
        },
        Step {
            version: 5,
            comment: "suppression rules: gdlens's own and those synced from GuardDuty",
            sql: V5,
        },
        Step {
            version: 6,
            comment: "coverage: detector and protection plans per account and region",
            sql: crate::schema::COVERAGE,
        },
        Step {
            version: 7,
            comment: "webhook outbox: events, deliveries, groups announced",
            sql: V7_WEBHOOKS,
        },
    ]
}

/// Applies every step the database does not have yet, all in one transaction.
pub(crate) fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER PRIMARY KEY,
            applied_at  BIGINT  NOT NULL,
            comment     TEXT    NOT NULL
        )",
    )?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    let now = chrono::Utc::now().timestamp_millis();
    let mut latest = current;
    for step in steps().iter().filter(|s| s.version > current) {
        tx.batch_execute(step.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at, comment) VALUES ($1, $2, $3)",
            &[&step.version, &now, &step.comment],
        )?;
        tracing::info!(
            version = step.version,
            comment = step.comment,
            "postgres schema step applied"
        );
        latest = step.version;
    }
    tx.commit()?;
    Ok(latest)
}

/// The same data as SQLite V1 + V2: integer finding keys, raw JSON with a codec. Times are epoch
/// milliseconds (BIGINT), as in SQLite.
const V1: &str = r#"
CREATE TABLE finding_versions (
    id           BIGSERIAL        PRIMARY KEY,
    finding_key  BIGINT           NOT NULL,
    updated_at   BIGINT           NOT NULL,
    count        BIGINT           NOT NULL,
    severity     DOUBLE PRECISION NOT NULL,
    archived     BOOLEAN          NOT NULL,
    imported_at  BIGINT           NOT NULL,
    source       TEXT             NOT NULL,
    raw_codec    BIGINT           NOT NULL,
    raw          BYTEA            NOT NULL,
    UNIQUE (finding_key, updated_at)
);
-- Rows are LZ4 already: TOAST compressing them again only costs CPU.
ALTER TABLE finding_versions ALTER COLUMN raw SET STORAGE EXTERNAL;

CREATE TABLE findings (
    key                BIGINT           PRIMARY KEY,
    id                 TEXT             NOT NULL UNIQUE,
    version_id         BIGINT           NOT NULL,
    updated_at         BIGINT           NOT NULL,
    account_id         TEXT             NOT NULL,
    region             TEXT             NOT NULL,
    finding_type       TEXT             NOT NULL,
    severity           DOUBLE PRECISION NOT NULL,
    archived           BOOLEAN          NOT NULL,
    first_imported_at  BIGINT           NOT NULL,
    last_imported_at   BIGINT           NOT NULL,
    source             TEXT             NOT NULL,
    codec              BIGINT           NOT NULL,
    normalized         BYTEA            NOT NULL
);

CREATE TABLE triage (
    finding_id  TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL,
    assignee    TEXT,
    note        TEXT,
    version     BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    updated_by  TEXT    NOT NULL
);

CREATE TABLE ticket_links (
    finding_id  TEXT    NOT NULL,
    system      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    url         TEXT,
    created_at  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (finding_id, system, key)
);

CREATE TABLE audit (
    id          BIGSERIAL PRIMARY KEY,
    finding_id  TEXT      NOT NULL,
    at          BIGINT    NOT NULL,
    actor       TEXT      NOT NULL,
    action      TEXT      NOT NULL,
    detail      TEXT      NOT NULL
);
CREATE INDEX audit_by_finding ON audit (finding_id, id);

CREATE TABLE sync_watermarks (
    region       TEXT    NOT NULL,
    detector_id  TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (region, detector_id)
);

CREATE TABLE sync_status (
    region              TEXT    NOT NULL,
    detector_id         TEXT    NOT NULL DEFAULT '',
    last_attempt_at     BIGINT,
    last_success_at     BIGINT,
    last_error_code     TEXT,
    last_error_message  TEXT,
    findings_synced     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (region, detector_id)
);

CREATE TABLE investigations (
    graph_arn         TEXT   NOT NULL,
    investigation_id  TEXT   NOT NULL,
    entity_arn        TEXT   NOT NULL,
    entity_type       TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    severity          TEXT   NOT NULL,
    state             TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    scope_start       BIGINT,
    scope_end         BIGINT,
    indicators_json   TEXT   NOT NULL,
    PRIMARY KEY (graph_arn, investigation_id)
);

CREATE TABLE local_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- The generation row doubles as the store's write lock: every writing transaction locks it
-- first, so writers from all replicas are serialized and generations commit in order.
CREATE TABLE meta (
    key    TEXT   PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', 0);
"#;

/// The change feed: one row per generation, written in the transaction of the change, announced
/// with `NOTIFY gdlens_changes` on commit. `kind` is `findings` (latest version or archived state
/// of `ids` changed), `triage` (triage of `ids` changed) or `other` (tickets, investigations:
/// nothing the index holds). `origin` names the process that wrote it (it skips its own).
const V2: &str = r#"
CREATE TABLE change_log (
    generation  BIGINT  PRIMARY KEY,
    at          BIGINT  NOT NULL,
    origin      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    ids         TEXT[]  NOT NULL
);
"#;

const V3: &str = r#"
CREATE TABLE codec_dictionaries (
    id          BIGSERIAL PRIMARY KEY,
    purpose     TEXT      NOT NULL,
    created_at  BIGINT    NOT NULL,
    bytes       BYTEA     NOT NULL
);
"#;

const V4: &str = r#"
ALTER TABLE investigations ADD COLUMN related_finding_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE investigations ADD COLUMN related_finding_group_ids TEXT NOT NULL DEFAULT '[]';
"#;

/// SQLite's V5 (crate::schema), with PostgreSQL's types.
const V5: &str = r#"
CREATE TABLE suppression_rules (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT    NOT NULL,
    description  TEXT,
    origin       TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    detector_id  TEXT,
    action       TEXT    NOT NULL,
    rank         BIGINT  NOT NULL,
    criteria     TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL,
    UNIQUE (origin, region, name)
);
"#;

/// SQLite's V7 (crate::schema, webhooks), with PostgreSQL's types.
const V7_WEBHOOKS: &str = r#"
CREATE TABLE outbox_events (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    at             BIGINT  NOT NULL,
    detail         TEXT    NOT NULL,
    dispatched_at  BIGINT
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE dispatched_at IS NULL;
CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    webhook          TEXT    NOT NULL,
    event_id         BIGINT  NOT NULL,
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    claimed_until    BIGINT,
    last_attempt_at  BIGINT,
    last_error       TEXT,
    delivered_at     BIGINT,
    response         TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE TABLE webhook_groups (
    group_id  TEXT              PRIMARY KEY,
    severity  DOUBLE PRECISION  NOT NULL,
    at        BIGINT            NOT NULL
);
CREATE TABLE ticket_requests (
    rule     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    at       BIGINT  NOT NULL,
    PRIMARY KEY (rule, subject)
);
INSERT INTO meta (key, value) VALUES ('outbox_enabled', 0);
"#;
