//! Suppression rules (GuardDuty filters): gdlens's own, and those synced from GuardDuty per
//! region. The criteria are kept as the GuardDuty JSON text; `gdlens-suppress` validates them
//! before they get here. Each backend's SQL sits here side by side; [`crate::Store`] forwards.

use gdlens_domain::time::EpochMillis;
use rusqlite::{params, OptionalExtension, Row};

use crate::error::StoreError;
use crate::pg::PgStore;
use crate::store::SqliteStore;

/// Where a rule comes from.
pub const ORIGIN_GDLENS: &str = "gdlens";
/// Synced from a GuardDuty detector (`ListFilters`/`GetFilter`).
pub const ORIGIN_GUARDDUTY: &str = "guardduty";

/// A stored suppression rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressionRuleRow {
    /// Local id.
    pub id: i64,
    /// Filter name (unique per origin and region).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `gdlens` or `guardduty`.
    pub origin: String,
    /// Region of a synced filter; empty for a gdlens rule (meant for every configured region).
    pub region: String,
    /// Detector of a synced filter.
    pub detector_id: Option<String>,
    /// `ARCHIVE` or `NOOP`.
    pub action: String,
    /// Rank (1–100).
    pub rank: u32,
    /// `findingCriteria` as GuardDuty JSON text.
    pub criteria: String,
    /// When created (or first synced).
    pub created_at: EpochMillis,
    /// Who created it (`sync` for synced filters).
    pub created_by: String,
    /// When last changed.
    pub updated_at: EpochMillis,
}

/// A rule to create or replace (by origin, region and name).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSuppressionRule {
    /// Filter name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `gdlens` or `guardduty`.
    pub origin: String,
    /// Region (empty for gdlens rules).
    pub region: String,
    /// Detector of a synced filter.
    pub detector_id: Option<String>,
    /// `ARCHIVE` or `NOOP`.
    pub action: String,
    /// Rank.
    pub rank: u32,
    /// Criteria JSON text.
    pub criteria: String,
}

const COLUMNS: &str =
    "id, name, description, origin, region, detector_id, action, rank, criteria, \
                       created_at, created_by, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<SuppressionRuleRow> {
    Ok(SuppressionRuleRow {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        origin: r.get(3)?,
        region: r.get(4)?,
        detector_id: r.get(5)?,
        action: r.get(6)?,
        rank: r.get::<_, i64>(7)? as u32,
        criteria: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

impl SqliteStore {
    /// Creates a rule, or replaces the one with the same origin, region and name (keeping its
    /// id and creation). Returns the stored row.
    pub fn put_suppression_rule(
        &self,
        rule: &NewSuppressionRule,
        actor: &str,
        at: EpochMillis,
    ) -> Result<SuppressionRuleRow, StoreError> {
        if rule.name.trim().is_empty() {
            return Err(StoreError::InvalidInput("rule name is empty".into()));
        }
        self.write(|tx| {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM suppression_rules WHERE origin = ?1 AND region = ?2 AND name = ?3",
                    params![rule.origin, rule.region, rule.name],
                    |r| r.get(0),
                )
                .optional()?;
            let id = match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE suppression_rules SET description = ?1, detector_id = ?2, action = ?3,
                                rank = ?4, criteria = ?5, updated_at = ?6 WHERE id = ?7",
                        params![
                            rule.description,
                            rule.detector_id,
                            rule.action,
                            rule.rank as i64,
                            rule.criteria,
                            at,
                            id
                        ],
                    )?;
                    id
                }
                None => {
                    tx.execute(
                        "INSERT INTO suppression_rules (name, description, origin, region, detector_id,
                                action, rank, criteria, created_at, created_by, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)",
                        params![
                            rule.name,
                            rule.description,
                            rule.origin,
                            rule.region,
                            rule.detector_id,
                            rule.action,
                            rule.rank as i64,
                            rule.criteria,
                            at,
                            actor
                        ],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            Ok(tx.query_row(
                &format!("SELECT {COLUMNS} FROM suppression_rules WHERE id = ?1"),
                [id],
                row,
            )?)
        })
    }

    /// Every rule, gdlens's first, then by region, rank and name.
    pub fn suppression_rules(&self) -> Result<Vec<SuppressionRuleRow>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM suppression_rules
                 ORDER BY CASE origin WHEN 'gdlens' THEN 0 ELSE 1 END, region, rank, name"
            ))?;
            let rows = stmt.query_map([], row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Deletes a rule by id; returns whether it existed.
    pub fn delete_suppression_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.write(|tx| Ok(tx.execute("DELETE FROM suppression_rules WHERE id = ?1", [id])? > 0))
    }

    /// Replaces every rule synced from one region's detector with `rules` (a `ListFilters` +
    /// `GetFilter` sync), in one transaction.
    pub fn replace_synced_rules(
        &self,
        region: &str,
        rules: &[NewSuppressionRule],
        at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM suppression_rules WHERE origin = ?1 AND region = ?2",
                params![ORIGIN_GUARDDUTY, region],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO suppression_rules (name, description, origin, region, detector_id,
                        action, rank, criteria, created_at, created_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'sync', ?9)",
            )?;
            for r in rules {
                insert.execute(params![
                    r.name,
                    r.description,
                    ORIGIN_GUARDDUTY,
                    region,
                    r.detector_id,
                    r.action,
                    r.rank as i64,
                    r.criteria,
                    at
                ])?;
            }
            Ok(())
        })
    }
}

fn pg_row(r: &postgres::Row) -> SuppressionRuleRow {
    SuppressionRuleRow {
        id: r.get(0),
        name: r.get(1),
        description: r.get(2),
        origin: r.get(3),
        region: r.get(4),
        detector_id: r.get(5),
        action: r.get(6),
        rank: r.get::<_, i64>(7) as u32,
        criteria: r.get(8),
        created_at: r.get(9),
        created_by: r.get(10),
        updated_at: r.get(11),
    }
}

impl PgStore {
    /// See [`SqliteStore::put_suppression_rule`].
    pub fn put_suppression_rule(
        &self,
        rule: &NewSuppressionRule,
        actor: &str,
        at: EpochMillis,
    ) -> Result<SuppressionRuleRow, StoreError> {
        if rule.name.trim().is_empty() {
            return Err(StoreError::InvalidInput("rule name is empty".into()));
        }
        self.write(|tx, _| {
            let row = tx.query_one(
                &format!(
                    "INSERT INTO suppression_rules (name, description, origin, region, detector_id,
                            action, rank, criteria, created_at, created_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
                     ON CONFLICT (origin, region, name) DO UPDATE SET
                        description = excluded.description, detector_id = excluded.detector_id,
                        action = excluded.action, rank = excluded.rank, criteria = excluded.criteria,
                        updated_at = excluded.updated_at
                     RETURNING {COLUMNS}"
                ),
                &[
                    &rule.name,
                    &rule.description,
                    &rule.origin,
                    &rule.region,
                    &rule.detector_id,
                    &rule.action,
                    &(rule.rank as i64),
                    &rule.criteria,
                    &at,
                    &actor,
                ],
            )?;
            Ok(pg_row(&row))
        })
    }

    /// See [`SqliteStore::suppression_rules`].
    pub fn suppression_rules(&self) -> Result<Vec<SuppressionRuleRow>, StoreError> {
        self.read(|c| {
            Ok(c.query(
                &format!(
                    "SELECT {COLUMNS} FROM suppression_rules
                     ORDER BY CASE origin WHEN 'gdlens' THEN 0 ELSE 1 END, region, rank, name"
                ),
                &[],
            )?
            .iter()
            .map(pg_row)
            .collect())
        })
    }

    /// See [`SqliteStore::delete_suppression_rule`].
    pub fn delete_suppression_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.write(|tx, _| {
            Ok(tx.execute("DELETE FROM suppression_rules WHERE id = $1", &[&id])? > 0)
        })
    }

    /// See [`SqliteStore::replace_synced_rules`].
    pub fn replace_synced_rules(
        &self,
        region: &str,
        rules: &[NewSuppressionRule],
        at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.write(|tx, _| {
            tx.execute(
                "DELETE FROM suppression_rules WHERE origin = $1 AND region = $2",
                &[&ORIGIN_GUARDDUTY, &region],
            )?;
            let insert = tx.prepare(
                "INSERT INTO suppression_rules (name, description, origin, region, detector_id,
                        action, rank, criteria, created_at, created_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sync', $9)",
            )?;
            for r in rules {
                tx.execute(
                    &insert,
                    &[
                        &r.name,
                        &r.description,
                        &ORIGIN_GUARDDUTY,
                        &region,
                        &r.detector_id,
                        &r.action,
                        &(r.rank as i64),
                        &r.criteria,
                        &at,
                    ],
                )?;
            }
            Ok(())
        })
    }
}
