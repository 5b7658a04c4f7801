//! Throwaway PostgreSQL databases for tests (this crate's, the API's and the CLI's).
//!
//! [`test_database`] hands out a fresh, empty database per call. The server is the one named by
//! `GDLENS_TEST_PG_URL` (`scripts/test.sh` starts one with `scripts/pg.sh` for the whole run), or
//! else a cluster this process starts itself with `scripts/pg.sh` (initdb into a temporary
//! directory, a free port on 127.0.0.1) and stops once the last database handed out is dropped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A fresh database; dropped at the end of the test.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL (`postgres://postgres@127.0.0.1:PORT/NAME`).
    pub url: String,
    name: String,
    server: Arc<Server>,
}

#[derive(Debug)]
struct Server {
    /// URL of the server's maintenance database (`…/postgres`).
    admin_url: String,
    /// The cluster directory when this process started it (stopped and removed on drop).
    owned: Option<PathBuf>,
}

impl Server {
    /// Stops the cluster now (tests that take PostgreSQL away) — see [`TestDb::stop_server`].
    fn pg_ctl(&self, action: &str) {
        let Some(dir) = &self.owned else {
            panic!("stopping PostgreSQL needs a cluster this test process owns (unset GDLENS_TEST_PG_URL)");
        };
        let bin = std::fs::read_to_string(dir.join("bin")).expect("pg.sh wrote bin");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(format!("{}/pg_ctl", bin.trim()));
            c
        } else {
            Command::new(format!("{}/pg_ctl", bin.trim()))
        };
        cmd.arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-m", "immediate"]);
        if action == "start" {
            // The same port and socket directory as the first start.
            let opts = std::fs::read_to_string(dir.join("opts")).expect("pg.sh wrote opts");
            cmd.args(["-o", opts.trim()]);
        }
        let status = cmd
            .arg(action)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {action} failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(dir) = &self.owned {
            let _ = Command::new(pg_sh()).arg("stop").arg(dir).status();
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.server.owned.is_none() {
            // A shared server outlives this process: leave it clean.
            if let Ok(mut c) = postgres::Client::connect(&self.server.admin_url, postgres::NoTls) {
                let _ = c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ));
            }
        }
    }
}

impl TestDb {
    /// Stops the PostgreSQL server of this database (immediate shutdown, like a crash).
    pub fn stop_server(&self) {
        self.server.pg_ctl("stop");
    }

    /// Starts it again on the same port and data.
    pub fn start_server(&self) {
        self.server.pg_ctl("start");
    }
}

static SERVER: Mutex<Weak<Server>> = Mutex::new(Weak::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh")
}

/// The shared test server, or (`own`) a cluster of this caller's started with `pg_opts` (more
/// `-c name=value` server settings).
fn server(own: bool, pg_opts: &str) -> Arc<Server> {
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if !own {
        if let Some(s) = slot.upgrade() {
            return s;
        }
    }
    let shared = std::env::var("GDLENS_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let server = match shared {
        Some(url) if !own => Server {
            admin_url: url,
            owned: None,
        },
        _ => {
            let dir = std::env::temp_dir().join(format!(
                "gdlens-pg-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            let out = Command::new(pg_sh())
                .env("PG_OPTS", pg_opts)
                .arg("start")
                .arg(&dir)
                .output()
                .expect("scripts/pg.sh runs");
            assert!(
                out.status.success(),
                "scripts/pg.sh start failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Server {
                admin_url: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                owned: Some(dir),
            }
        }
    };
    let server = Arc::new(server);
    if !own {
        *slot = Arc::downgrade(&server);
    }
    server
}

fn database_on(server: Arc<Server>) -> TestDb {
    let name = format!(
        "gdlens_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&server.admin_url, postgres::NoTls)
        .expect("connect to the test PostgreSQL server");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    let base = server
        .admin_url
        .rsplit_once('/')
        .map_or(server.admin_url.as_str(), |(b, _)| b);
    TestDb {
        url: format!("{base}/{name}"),
        name,
        server,
    }
}

/// A fresh, empty database on the shared test server.
pub fn test_database() -> TestDb {
    database_on(server(false, ""))
}

/// A fresh database on a cluster of its own, which the test may stop and start
/// ([`TestDb::stop_server`]) without disturbing other tests.
pub fn test_database_own_server() -> TestDb {
    database_on(server(true, ""))
}

/// A fresh database on a cluster of its own that also accepts TLS, with this certificate and
/// key (PEM files the server's user can read; the key readable by it alone). Connections
/// without TLS are still accepted, so tests can look at `pg_stat_ssl` from outside.
pub fn test_database_with_tls(cert: &std::path::Path, key: &std::path::Path) -> TestDb {
    let opts = format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        cert.display(),
        key.display()
    );
    database_on(server(true, &opts))
}
