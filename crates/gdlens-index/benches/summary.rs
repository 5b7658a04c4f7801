//! Summary engine at organization scale: 1,000,000 findings (100 accounts, 17 regions, 90 days).
//!
//! Measures the full summary (every widget, no cache) and the summary filtered to one region with
//! severity ≥ 7, against the same aggregations as SQL `GROUP BY` queries over a SQLite table of the
//! same data (temp file, WAL, indexed, warm page cache), in the same run. Also reports index memory:
//! the `memory_bytes()` estimate and the process RSS growth while building the index.
//!
//! `GDLENS_BENCH_FINDINGS` overrides the number of findings (default 1,000,000);
//! `GDLENS_BENCH_SQLITE=0` skips the SQLite reference (for profiling the index alone).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gdlens_domain::{FindingFilter, Scope};
use gdlens_index::{FindingIndex, Summary, SummaryOptions};
use rusqlite::{params, Connection};

fn findings_count() -> usize {
    std::env::var("GDLENS_BENCH_FINDINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Resident set size of this process in bytes (Linux `/proc/self/status`).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) of this process so far, in ms, from `/proc/self/stat` (clock ticks;
/// coarse, so only meaningful summed over many runs). Reported beside wall time because the
/// benchmark machine is shared: CPU time is what the summary itself costs.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of proc(5) (utime, stime); `fields[0]` is field 3. USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) * 10.0
}

struct Timing {
    wall_ms: f64,
    cpu_ms: f64,
}

/// Median wall time of `runs` runs, and mean CPU time per run.
fn time_runs(runs: usize, mut f: impl FnMut()) -> Timing {
    let cpu_start = cpu_ms();
    let mut walls: Vec<f64> = (0..runs)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let cpu = (cpu_ms() - cpu_start) / runs as f64;
    walls.sort_by(f64::total_cmp);
    Timing {
        wall_ms: walls[runs / 2],
        cpu_ms: cpu,
    }
}

fn filtered() -> FindingFilter {
    FindingFilter {
        regions: Some(vec!["us-east-1".into()]),
        severity_min: Some(7.0),
        ..FindingFilter::default()
    }
}

/// The reference: the same data in one flat SQLite table (the columns the widgets need, no JSON to
/// decode: friendlier to SQL than the store's own layout), with indexes for the selective filters.
fn sqlite_reference(shape: support::Shape) -> (Connection, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("gdlens-index-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("findings.sqlite");
    let _ = std::fs::remove_file(&path);
    let conn = Connection::open(&path).expect("open sqlite");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -2000000;
         PRAGMA mmap_size = 4000000000;
         PRAGMA temp_store = MEMORY;
         CREATE TABLE findings (
            id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, region TEXT NOT NULL,
            type TEXT NOT NULL, severity REAL NOT NULL, title TEXT NOT NULL,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL, count INTEGER NOT NULL, archived INTEGER NOT NULL,
            sample INTEGER NOT NULL, resource_type TEXT NOT NULL, resource_key TEXT,
            triage TEXT NOT NULL DEFAULT 'NEW'
         );",
    )
    .expect("schema");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO findings (id, account_id, region, type, severity, title, created_at,
                 updated_at, first_seen, last_seen, count, archived, sample, resource_type, resource_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .expect("prepare insert");
        for f in support::findings_iter(shape) {
            insert
                .execute(params![
                    f.id,
                    f.account_id,
                    f.region,
                    f.finding_type,
                    f.severity,
                    f.title,
                    f.created_at,
                    f.updated_at,
                    f.first_seen(),
                    f.last_seen(),
                    f.count as i64,
                    f.archived,
                    f.sample,
                    f.resource_type,
                    f.resource_key
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch(
        // Indexes for selective filters; the unfiltered widgets read most rows, where a table
        // scan beats index lookups (SQLite's planner decides, with ANALYZE statistics).
        "CREATE INDEX findings_region_severity ON findings (region, severity);
         CREATE INDEX findings_updated ON findings (updated_at);
         CREATE INDEX findings_type ON findings (type);
         CREATE INDEX findings_account ON findings (account_id);
         ANALYZE;",
    )
    .expect("indexes");
    (conn, dir)
}

/// What the SQL reference computes: the widgets' numbers, compared with the index's once.
#[derive(Debug, PartialEq)]
struct SqlSummary {
    total: u64,
    by_label: [u64; 4],
    accounts: u64,
    resources: u64,
    attack_sequences: u64,
    trend_days: usize,
    top_types: Vec<(String, u64)>,
    top_resources: Vec<(String, u64, u64)>,
    top_accounts: Vec<(String, u64)>,
    least_frequent: Vec<(String, u64)>,
}

fn sql_summary(conn: &Connection, region_sev7: bool, limit: usize) -> SqlSummary {
    let filter = if region_sev7 {
        "archived = 0 AND sample = 0 AND region = 'us-east-1' AND severity >= 7"
    } else {
        "archived = 0 AND sample = 0"
    };
    let labels = "SUM(severity < 4), SUM(severity >= 4 AND severity < 7), \
                  SUM(severity >= 7 AND severity < 9), SUM(severity >= 9)";
    let u = |v: i64| v as u64;
    let (total, by_label, accounts, attack_sequences) = conn
        .query_row(
            &format!(
                "SELECT COUNT(*), {labels}, COUNT(DISTINCT account_id),
                 SUM(type LIKE 'AttackSequence:%') FROM findings WHERE {filter}"
            ),
            [],
            |r| {
                let g = |i| r.get::<_, Option<i64>>(i).map(|v| v.unwrap_or(0) as u64);
                Ok((g(0)?, [g(1)?, g(2)?, g(3)?, g(4)?], g(5)?, g(6)?))
            },
        )
        .expect("overview");
    let resources: i64 = conn
        .query_row(
            &format!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT account_id, resource_type, resource_key
                 FROM findings WHERE {filter} AND resource_key IS NOT NULL)"
            ),
            [],
            |r| r.get(0),
        )
        .expect("resources");
    let mut trend = conn
        .prepare(&format!(
            "SELECT updated_at / 86400000 AS day, {labels} FROM findings WHERE {filter}
             GROUP BY day ORDER BY day"
        ))
        .expect("trend");
    let trend_days = trend.query_map([], |_| Ok(())).expect("trend").count();
    let pairs = |sql: String| -> Vec<(String, u64)> {
        let mut st = conn.prepare(&sql).expect("prepare");
        st.query_map([], |r| Ok((r.get::<_, String>(0)?, u(r.get(1)?))))
            .expect("query")
            .map(Result::unwrap)
            .collect()
    };
    let top_types = pairs(format!(
        "SELECT type, COUNT(*) AS n, MAX(severity), COUNT(DISTINCT account_id), MAX(last_seen)
         FROM findings WHERE {filter} GROUP BY type ORDER BY n DESC, type ASC LIMIT {limit}"
    ));
    let top_accounts = pairs(format!(
        "SELECT account_id, COUNT(*) AS n, {labels} FROM findings WHERE {filter}
         GROUP BY account_id ORDER BY n DESC, account_id ASC LIMIT {limit}"
    ));
    let least_frequent = pairs(format!(
        "SELECT type, COUNT(*) AS n, MAX(severity), COUNT(DISTINCT account_id), MAX(last_seen)
         FROM findings WHERE {filter} AND severity >= 7
         GROUP BY type ORDER BY n ASC, type ASC LIMIT {limit}"
    ));
    let mut st = conn
        .prepare(&format!(
            "SELECT resource_key, account_id, resource_type, COUNT(*) AS n, COUNT(DISTINCT type),
             MAX(severity) FROM findings WHERE {filter} AND resource_key IS NOT NULL
             GROUP BY resource_key, account_id, resource_type
             ORDER BY n DESC, resource_key, account_id, resource_type LIMIT {limit}"
        ))
        .expect("top resources");
    let top_resources = st
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, u(r.get(3)?), u(r.get(4)?)))
        })
        .expect("top resources")
        .map(Result::unwrap)
        .collect();
    SqlSummary {
        total,
        by_label,
        accounts,
        resources: u(resources),
        attack_sequences,
        trend_days,
        top_types,
        top_resources,
        top_accounts,
        least_frequent,
    }
}

fn as_sql_summary(s: &Summary) -> SqlSummary {
    let b = s.by_severity;
    SqlSummary {
        total: s.total,
        by_label: [b.low, b.medium, b.high, b.critical],
        accounts: s.accounts_affected,
        resources: s.resources_affected,
        attack_sequences: s.attack_sequences,
        trend_days: s
            .severity_trend
            .iter()
            .filter(|p| p.low + p.medium + p.high + p.critical > 0)
            .count(),
        top_types: s
            .top_finding_types
            .iter()
            .map(|t| (t.finding_type.clone(), t.count))
            .collect(),
        top_resources: s
            .top_resources
            .iter()
            .map(|r| (r.resource_key.clone(), r.count, r.distinct_types))
            .collect(),
        top_accounts: s
            .top_accounts
            .iter()
            .map(|a| (a.account_id.clone(), a.count))
            .collect(),
        least_frequent: s
            .least_frequent_types
            .iter()
            .map(|t| (t.finding_type.clone(), t.count))
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let n = findings_count();
    let shape = support::Shape::org(42, n);

    let rss_before = rss_bytes();
    let started = std::time::Instant::now();
    let mut index = FindingIndex::build(support::findings_iter(shape));
    index.set_accounts(&support::accounts(&shape));
    index.shrink_to_fit();
    let build = started.elapsed();
    let rss_growth = rss_bytes().saturating_sub(rss_before);
    println!(
        "index: {n} findings built in {build:.2?}; memory_bytes() {} B = {:.1} B/finding; \
         RSS growth {} B = {:.1} B/finding",
        index.memory_bytes(),
        index.memory_bytes() as f64 / n as f64,
        rss_growth,
        rss_growth as f64 / n as f64
    );

    let with_sqlite = std::env::var("GDLENS_BENCH_SQLITE").map_or(true, |v| v != "0");
    let started = std::time::Instant::now();
    let reference = with_sqlite.then(|| sqlite_reference(shape));
    println!(
        "sqlite reference: loaded and indexed in {:.2?}",
        started.elapsed()
    );

    let options = SummaryOptions::new(support::NOW_MS);
    let scenarios = [
        ("full", FindingFilter::default(), false),
        ("region_sev7", filtered(), true),
    ];
    for (name, filter, region_sev7) in scenarios.iter().filter(|_| with_sqlite) {
        let conn = &reference.as_ref().expect("sqlite reference").0;
        // The reference must compute the same numbers, or the comparison means nothing.
        let ours = index.summary(filter, &Scope::All, &options);
        assert_eq!(
            as_sql_summary(&ours),
            sql_summary(conn, *region_sev7, options.limit),
            "{name}"
        );
        println!("{name}: {} findings match", ours.total);
    }

    let last_30_days = FindingFilter {
        updated_since: Some(support::NOW_MS - 30 * 86_400_000),
        ..FindingFilter::default()
    };
    let mut group = c.benchmark_group("summary_1m");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    for (name, filter) in [
        ("full", &scenarios[0].1),
        ("region_sev7", &scenarios[1].1),
        ("last_30_days_with_new_types_and_change", &last_30_days),
    ] {
        group.bench_with_input(BenchmarkId::new("index", name), filter, |b, f| {
            b.iter(|| index.summary(f, &Scope::All, &options))
        });
    }
    let one_thread = SummaryOptions {
        parallel_min_rows: usize::MAX,
        ..options
    };
    group.bench_function(BenchmarkId::new("index_one_thread", "full"), |b| {
        b.iter(|| index.summary(&scenarios[0].1, &Scope::All, &one_thread))
    });
    group.finish();

    // SQLite takes seconds per summary: timed by hand (median of a few runs) in the same process,
    // next to the index timed the same way; wall time and process CPU time per summary.
    let Some((conn, dir)) = reference else { return };
    for (name, filter, region_sev7) in &scenarios {
        let ours = time_runs(31, || {
            std::hint::black_box(index.summary(filter, &Scope::All, &options));
        });
        let sql = time_runs(3, || {
            std::hint::black_box(sql_summary(&conn, *region_sev7, options.limit));
        });
        println!(
            "compare/{name}: index median {:.2} ms wall, {:.2} ms CPU; sqlite median {:.0} ms wall, \
             {:.0} ms CPU; ratio {:.0}x wall, {:.0}x CPU",
            ours.wall_ms,
            ours.cpu_ms,
            sql.wall_ms,
            sql.cpu_ms,
            sql.wall_ms / ours.wall_ms,
            sql.cpu_ms / ours.cpu_ms.max(f64::MIN_POSITIVE)
        );
    }
    drop(conn);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
