//! TLS to PostgreSQL through a real server with a certificate from a test CA: `verify-full` with
//! `sslrootcert` connects over TLS; a certificate the trust store does not know is refused,
//! even with libpq's `require`; `disable` still connects without TLS.

use std::path::Path;
use std::process::Command;

use gdlens_store::testing::test_database_with_tls;
use gdlens_store::Store;

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`, readable by the server.
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=gdlens test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
    run(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    run(dir, &csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    );
    // The server runs as `postgres` when the tests run as root (initdb refuses root).
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

#[test]
fn tls_is_verified_against_sslrootcert() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let db = test_database_with_tls(
        &dir.path().join("server.crt"),
        &dir.path().join("server.key"),
    );
    let ca = dir.path().join("ca.crt");

    let store = Store::open_postgres(&format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        db.url,
        ca.display()
    ))
    .expect("verify-full with the test CA connects");
    assert_eq!(store.generation().unwrap(), 0);
    // Every connection the store holds is TLS (looked at from outside, without TLS).
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let name = db.url.rsplit('/').next().unwrap();
    let row = admin
        .query_one(
            "SELECT count(*), coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s
             JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND a.application_name = 'gdlens'",
            &[&name],
        )
        .unwrap();
    let (connections, all_tls): (i64, bool) = (row.get(0), row.get(1));
    assert!(connections >= 1, "the store holds a connection");
    assert!(all_tls, "a store connection is not TLS");
    drop(store);

    // A certificate the system's trust store does not know is refused, also under libpq's
    // `require` (which would accept any certificate), with the reason in the error.
    for mode in ["require", "verify-full"] {
        let e = Store::open_postgres(&format!("{}?sslmode={mode}", db.url))
            .err()
            .unwrap_or_else(|| panic!("sslmode={mode} without the CA must be refused"));
        assert_eq!(e.code(), "store_unavailable", "{e}");
        assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    }

    // Without TLS, on request.
    let plain = Store::open_postgres(&format!("{}?sslmode=disable", db.url))
        .expect("sslmode=disable connects without TLS");
    assert_eq!(plain.generation().unwrap(), 0);
}
