//! TLS to PostgreSQL. RDS and Aurora require it (`rds.force_ssl` is on by default from
//! PostgreSQL 15), so the store speaks it with rustls, the same TLS stack the rest of gdlens uses.
//!
//! The URL takes libpq's parameters, so a DBA's connection string works as it is:
//! - `sslmode`: `disable` (plain TCP), `prefer` (the default: TLS when the server offers it),
//!   `require`, `verify-ca` and `verify-full` (TLS or no connection).
//! - `sslrootcert`: a PEM file of the certificate authorities to trust (for RDS, the region's
//!   certificate bundle); without it, the system's trust store.
//!
//! Whenever TLS is used, gdlens verifies the server's certificate chain and host name, whatever
//! the mode says: libpq's `require` accepts any certificate, which lets anyone on the path read
//! the findings and the triage. A private CA is trusted by naming it in `sslrootcert`.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::StoreError;

/// A parsed store URL: the client configuration and its TLS connector.
pub(crate) struct Target {
    pub(crate) config: postgres::Config,
    pub(crate) tls: MakeRustlsConnect,
}

/// Parses `url` (URL or key=value form), taking out the parameters the PostgreSQL client does
/// not know (`sslrootcert`, the `verify-*` modes). `redacted` names the URL in errors.
pub(crate) fn parse(url: &str, redacted: &str) -> Result<Target, StoreError> {
    let (rest, params) = take_tls_params(url);
    let mut config: postgres::Config = rest
        .parse()
        .map_err(|e| StoreError::Url(format!("{redacted}: {e}")))?;
    if params.verify {
        // Verification is always on; what remains of the mode is "TLS or nothing".
        config.ssl_mode(SslMode::Require);
    }
    let roots = match &params.root_cert {
        Some(path) => roots_from_file(path, redacted)?,
        None => system_roots(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::Url(format!("{redacted}: TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Target {
        config,
        tls: MakeRustlsConnect::new(tls),
    })
}

/// The TLS parameters taken out of a URL.
#[derive(Debug, Default, PartialEq, Eq)]
struct TlsParams {
    root_cert: Option<PathBuf>,
    /// The URL said `sslmode=verify-ca` or `verify-full`.
    verify: bool,
}

/// Splits off `sslrootcert=…` and `sslmode=verify-ca|verify-full` from a URL's query or a
/// key=value string; everything else is left as it was.
fn take_tls_params(url: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    let mut take = |key: &str, value: &str| -> bool {
        match (key, value) {
            ("sslrootcert", v) => {
                params.root_cert = Some(PathBuf::from(v));
                true
            }
            ("sslmode", "verify-ca" | "verify-full") => {
                params.verify = true;
                true
            }
            _ => false,
        }
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), params);
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(
                    k,
                    &percent_encoding::percent_decode_str(v).decode_utf8_lossy(),
                )
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rest, params)
    } else {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k, v.trim_matches('\''))
            })
            .collect();
        (kept.join(" "), params)
    }
}

fn roots_from_file(path: &PathBuf, redacted: &str) -> Result<RootCertStore, StoreError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| StoreError::Url(format!("{redacted}: sslrootcert {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(StoreError::Url(format!(
            "{redacted}: sslrootcert {} holds no PEM certificate",
            path.display()
        )));
    }
    let mut roots = RootCertStore::empty();
    let (_, rejected) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        return Err(StoreError::Url(format!(
            "{redacted}: sslrootcert {}: none of its {rejected} certificates can be a trust anchor",
            path.display()
        )));
    }
    Ok(roots)
}

/// The system's trust store (what corporate machines and the RDS images install CAs into).
fn system_roots() -> RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for e in &loaded.errors {
        tracing::warn!(error = %e, "a system certificate could not be read");
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(loaded.certs);
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_the_url_and_the_rest_stays() {
        let (rest, p) = take_tls_params(
            "postgres://gd:pw@db:5432/gdlens?sslmode=verify-full&sslrootcert=%2Fetc%2Frds%20ca.pem&application_name=x",
        );
        assert_eq!(rest, "postgres://gd:pw@db:5432/gdlens?application_name=x");
        assert_eq!(p.root_cert, Some(PathBuf::from("/etc/rds ca.pem")));
        assert!(p.verify);

        let (rest, p) = take_tls_params("postgres://db/gdlens?sslmode=require");
        assert_eq!(rest, "postgres://db/gdlens?sslmode=require");
        assert_eq!(p, TlsParams::default());

        let (rest, p) = take_tls_params("postgres://db/gdlens?sslrootcert=/ca.pem");
        assert_eq!(rest, "postgres://db/gdlens");
        assert_eq!(p.root_cert, Some(PathBuf::from("/ca.pem")));

        let (rest, p) =
            take_tls_params("host=db dbname=gdlens sslmode=verify-ca sslrootcert='/ca.pem'");
        assert_eq!(rest, "host=db dbname=gdlens");
        assert_eq!(p.root_cert, Some(PathBuf::from("/ca.pem")));
        assert!(p.verify);
    }

    #[test]
    fn verify_modes_require_tls_and_a_missing_root_file_is_named() {
        let t = parse("postgres://db/gdlens?sslmode=verify-full", "u").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        let t = parse("postgres://db/gdlens", "u").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        let e = parse("postgres://db/gdlens?sslrootcert=/nonexistent/ca.pem", "u")
            .err()
            .expect("a missing file fails");
        assert_eq!(e.code(), "store_url");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let e = parse("postgres://db/gdlens?sslmode=sometimes", "u")
            .err()
            .expect("an unknown mode fails");
        assert_eq!(e.code(), "store_url");
    }
}
