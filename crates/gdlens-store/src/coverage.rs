//! GuardDuty coverage per account × region ([`RegionCoverage`]), replaced region by region on
//! each sync. Each backend's SQL sits here side by side; [`crate::Store`] forwards. The features
//! of a row are kept as JSON text (a list of `{name, status, additional}`): read whole, never
//! queried inside.

use std::collections::BTreeMap;

use gdlens_domain::coverage::{CoverageFeature, CoverageRow, RegionCoverage};
use rusqlite::params;

use crate::error::StoreError;
use crate::pg::PgStore;
use crate::store::SqliteStore;

fn features_json(features: &[CoverageFeature]) -> Result<String, StoreError> {
    serde_json::to_string(features).map_err(|e| StoreError::Codec(e.to_string()))
}

fn parse_features(text: &str) -> Result<Vec<CoverageFeature>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Codec(e.to_string()))
}

/// Joins region headers and rows (both ordered by region) into [`RegionCoverage`]s.
fn assemble(regions: Vec<RegionCoverage>, rows: Vec<CoverageRow>) -> Vec<RegionCoverage> {
    let mut by_region: BTreeMap<String, RegionCoverage> =
        regions.into_iter().map(|r| (r.region.clone(), r)).collect();
    for row in rows {
        if let Some(r) = by_region.get_mut(&row.region) {
            r.rows.push(row);
        }
    }
    by_region.into_values().collect()
}

const SELECT_REGIONS: &str =
    "SELECT region, checked_at, error_code, error_message FROM coverage_regions ORDER BY region";
const SELECT_ROWS: &str =
    "SELECT region, account_id, administrator, relationship_status, detector_present,
        features, checked_at FROM coverage ORDER BY region, administrator DESC, account_id";

impl SqliteStore {
    /// Replaces the coverage of `coverage.region` (header and every row) in one transaction.
    pub fn replace_coverage(&self, coverage: &RegionCoverage) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM coverage WHERE region = ?1",
                [&coverage.region],
            )?;
            tx.execute(
                "INSERT INTO coverage_regions (region, checked_at, error_code, error_message)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (region) DO UPDATE SET checked_at = excluded.checked_at,
                    error_code = excluded.error_code, error_message = excluded.error_message",
                params![
                    coverage.region,
                    coverage.checked_at,
                    coverage.error_code,
                    coverage.error_message
                ],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO coverage (region, account_id, administrator, relationship_status,
                    detector_present, features, checked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in &coverage.rows {
                insert.execute(params![
                    coverage.region,
                    r.account_id,
                    i64::from(r.administrator),
                    r.relationship_status,
                    i64::from(r.detector_present),
                    features_json(&r.features)?,
                    r.checked_at
                ])?;
            }
            Ok(())
        })
    }

    /// The coverage of every region checked, by region; rows administrator first, then by
    /// account id.
    pub fn coverage(&self) -> Result<Vec<RegionCoverage>, StoreError> {
        self.read(|c| {
            let regions = c
                .prepare(SELECT_REGIONS)?
                .query_map([], |r| {
                    Ok(RegionCoverage {
                        region: r.get(0)?,
                        checked_at: r.get(1)?,
                        error_code: r.get(2)?,
                        error_message: r.get(3)?,
                        rows: Vec::new(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut stmt = c.prepare(SELECT_ROWS)?;
            let raw = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let rows = raw
                .into_iter()
                .map(|(region, account_id, admin, rel, present, features, at)| {
                    Ok(CoverageRow {
                        region,
                        account_id,
                        administrator: admin != 0,
                        relationship_status: rel,
                        detector_present: present != 0,
                        features: parse_features(&features)?,
                        checked_at: at,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(assemble(regions, rows))
        })
    }
}

impl PgStore {
    /// See [`SqliteStore::replace_coverage`].
    pub fn replace_coverage(&self, coverage: &RegionCoverage) -> Result<(), StoreError> {
        self.write(|tx, _| {
            tx.execute(
                "DELETE FROM coverage WHERE region = $1",
                &[&coverage.region],
            )?;
            tx.execute(
                "INSERT INTO coverage_regions (region, checked_at, error_code, error_message)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (region) DO UPDATE SET checked_at = excluded.checked_at,
                    error_code = excluded.error_code, error_message = excluded.error_message",
                &[
                    &coverage.region,
                    &coverage.checked_at,
                    &coverage.error_code,
                    &coverage.error_message,
                ],
            )?;
            let insert = tx.prepare(
                "INSERT INTO coverage (region, account_id, administrator, relationship_status,
                    detector_present, features, checked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (region, account_id) DO UPDATE SET administrator = excluded.administrator,
                    relationship_status = excluded.relationship_status,
                    detector_present = excluded.detector_present, features = excluded.features,
                    checked_at = excluded.checked_at",
            )?;
            for r in &coverage.rows {
                tx.execute(
                    &insert,
                    &[
                        &coverage.region,
                        &r.account_id,
                        &i64::from(r.administrator),
                        &r.relationship_status,
                        &i64::from(r.detector_present),
                        &features_json(&r.features)?,
                        &r.checked_at,
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// See [`SqliteStore::coverage`].
    pub fn coverage(&self) -> Result<Vec<RegionCoverage>, StoreError> {
        self.read(|c| {
            let regions = c
                .query(SELECT_REGIONS, &[])?
                .iter()
                .map(|r| RegionCoverage {
                    region: r.get(0),
                    checked_at: r.get(1),
                    error_code: r.get(2),
                    error_message: r.get(3),
                    rows: Vec::new(),
                })
                .collect();
            let rows = c
                .query(SELECT_ROWS, &[])?
                .iter()
                .map(|r| {
                    Ok(CoverageRow {
                        region: r.get(0),
                        account_id: r.get(1),
                        administrator: r.get::<_, i64>(2) != 0,
                        relationship_status: r.get(3),
                        detector_present: r.get::<_, i64>(4) != 0,
                        features: parse_features(r.get(5))?,
                        checked_at: r.get(6),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(assemble(regions, rows))
        })
    }
}
