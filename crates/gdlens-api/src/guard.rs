//! The request guard: refuses requests a browser was tricked into sending, before any route runs.
//!
//! Without tokens the server trusts every request that reaches it (loopback only), so a web page
//! the operator visits must not be able to reach it through the browser:
//!
//! - **`Host`** must be a loopback name or address (`localhost`, `127.0.0.0/8`, `[::1]`, any
//!   port) or one of `server.allowed_hosts`. This defeats DNS rebinding, where an attacker's name
//!   starts resolving to 127.0.0.1 and the browser treats the server as the attacker's origin.
//!   With tokens configured this check runs only when `allowed_hosts` is set.
//! - **`Origin`**, when present, must be the request's own origin or listed in
//!   `server.cors_origins`. With tokens configured and CORS on, the CORS layer decides instead.
//!
//! `/healthz` and `/readyz` skip the `Host` check (probes address a pod by its IP; the answers
//! hold nothing). A request without `Host` (HTTP/1.0) passes it: browsers always send one.
//! The `Content-Type` rule for `POST /graphql` lives in the handler (see `http.rs`).

use crate::error::ErrorCode;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::ServerConfig;

/// Stable code: the `Host` header names neither a loopback address nor an allowed host.
pub const HOST_NOT_ALLOWED: &str = ErrorCode::HostNotAllowed.as_str();
/// Stable code: the `Origin` header is neither the request's own origin nor an allowed one.
pub const FORBIDDEN_ORIGIN: &str = ErrorCode::ForbiddenOrigin.as_str();

/// Which origins pass.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginRule {
    /// Not checked here (tokens and CORS configured: the CORS layer and the token decide).
    Unchecked,
    /// Any origin (`cors_origins = ["*"]` without tokens: the operator asked for it).
    Any,
    /// The request's own origin, or one of these (lower-case, no trailing `/`).
    SameOr(Vec<String>),
}

/// The guard's settings, fixed when the router is built.
#[derive(Debug, Clone)]
pub(crate) struct RequestGuard {
    /// `Host` names accepted besides loopback ones (lower-case, IPv6 without brackets);
    /// `None` = no `Host` check.
    hosts: Option<Vec<String>>,
    origins: OriginRule,
}

impl RequestGuard {
    /// The guard for a server whose authentication is on (`auth_on`) or off.
    pub(crate) fn new(server: &ServerConfig, auth_on: bool) -> Self {
        let hosts = (!auth_on || !server.allowed_hosts.is_empty()).then(|| {
            server
                .allowed_hosts
                .iter()
                .map(|h| normalize_host(h))
                .collect()
        });
        let cors = &server.cors_origins;
        let origins = if auth_on && !cors.is_empty() {
            OriginRule::Unchecked
        } else if cors.iter().any(|o| o == "*") {
            OriginRule::Any
        } else {
            OriginRule::SameOr(cors.iter().map(|o| normalize_origin(o)).collect())
        };
        RequestGuard { hosts, origins }
    }

    /// `Ok` or the refusal (status, stable code, message).
    fn check(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<(), (StatusCode, &'static str, String)> {
        let authority = request_authority(uri, headers);
        if let (Some(allowed), Some(authority)) = (&self.hosts, &authority) {
            let probe = matches!(uri.path(), "/healthz" | "/readyz");
            let host = normalize_host(authority.host());
            if !probe && !is_loopback(&host) && !allowed.contains(&host) {
                return Err((
                    StatusCode::MISDIRECTED_REQUEST,
                    HOST_NOT_ALLOWED,
                    format!(
                        "Host `{host}` is not served here: use localhost or 127.0.0.1, or add it \
                         to server.allowed_hosts"
                    ),
                ));
            }
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let allowed = match &self.origins {
            OriginRule::Unchecked | OriginRule::Any => true,
            OriginRule::SameOr(list) => origin.to_str().is_ok_and(|o| {
                let o = normalize_origin(o);
                list.contains(&o) || authority.as_ref().is_some_and(|a| same_origin(&o, a))
            }),
        };
        if allowed {
            Ok(())
        } else {
            Err((
                StatusCode::FORBIDDEN,
                FORBIDDEN_ORIGIN,
                format!(
                    "Origin `{}` may not call this server: add it to server.cors_origins",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            ))
        }
    }
}

/// The axum middleware (`from_fn_with_state`).
pub(crate) async fn guard(
    State(guard): State<Arc<RequestGuard>>,
    req: Request,
    next: Next,
) -> Response {
    match guard.check(req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err((status, code, message)) => {
            tracing::warn!(
                code,
                host = ?req.headers().get(header::HOST),
                origin = ?req.headers().get(header::ORIGIN),
                path = req.uri().path(),
                "request refused by the request guard"
            );
            let body =
                serde_json::json!({"errors": [{"message": message, "extensions": {"code": code}}]});
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
    }
}

/// The authority the client addressed: the URI's (HTTP/2, absolute form) or the `Host` header.
/// `None` when absent or unparsable (an unparsable `Host` is then refused by hyper or harmless).
fn request_authority(uri: &Uri, headers: &HeaderMap) -> Option<Authority> {
    if let Some(a) = uri.authority() {
        return Some(a.clone());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    host.parse().ok()
}

/// Lower case, IPv6 brackets and a trailing dot removed.
fn normalize_host(host: &str) -> String {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Lower case, no trailing `/`.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `localhost` or a loopback address (127.0.0.0/8, ::1).
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a (normalized) `Origin` has the host and port the request was sent to. The scheme
/// is not visible behind a TLS proxy; it only picks the default port.
fn same_origin(origin: &str, authority: &Authority) -> bool {
    let (scheme, rest) = match origin.split_once("://") {
        Some((s @ ("http" | "https"), rest)) => (s, rest),
        _ => return false, // `null`, `file://`, extensions…
    };
    let Ok(origin_authority) = rest.parse::<Authority>() else {
        return false;
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    normalize_host(origin_authority.host()) == normalize_host(authority.host())
        && origin_authority.port_u16().unwrap_or(default_port)
            == authority.port_u16().unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(cors: &[&str], hosts: &[&str]) -> ServerConfig {
        ServerConfig {
            cors_origins: cors.iter().map(|s| s.to_string()).collect(),
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            ..ServerConfig::default()
        }
    }

    fn check(
        g: &RequestGuard,
        path: &str,
        host: Option<&str>,
        origin: Option<&str>,
    ) -> Result<(), &'static str> {
        let mut headers = HeaderMap::new();
        if let Some(h) = host {
            headers.insert(header::HOST, h.parse().unwrap());
        }
        if let Some(o) = origin {
            headers.insert(header::ORIGIN, o.parse().unwrap());
        }
        g.check(&path.parse().unwrap(), &headers)
            .map_err(|(_, code, _)| code)
    }

    #[test]
    fn loopback_mode_accepts_only_loopback_hosts() {
        let g = RequestGuard::new(&server(&[], &[]), false);
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.1.2.3:9",
            "[::1]:8080",
        ] {
            assert_eq!(check(&g, "/graphql", Some(host), None), Ok(()), "{host}");
        }
        for host in [
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1",
            "0.0.0.0",
        ] {
            assert_eq!(
                check(&g, "/graphql", Some(host), None),
                Err(HOST_NOT_ALLOWED),
                "{host}"
            );
        }
        // Probes and Host-less requests pass the Host check.
        assert_eq!(check(&g, "/healthz", Some("10.0.0.1:8080"), None), Ok(()));
        assert_eq!(check(&g, "/graphql", None, None), Ok(()));
        let g = RequestGuard::new(&server(&[], &["gdlens.internal", "[fd00::1]"]), false);
        assert_eq!(check(&g, "/", Some("GDLENS.internal:443"), None), Ok(()));
        assert_eq!(check(&g, "/", Some("[fd00::1]:80"), None), Ok(()));
    }

    #[test]
    fn loopback_mode_accepts_same_origin_and_listed_origins_only() {
        let g = RequestGuard::new(&server(&["http://localhost:5173"], &[]), false);
        let host = Some("localhost:8080");
        assert_eq!(
            check(&g, "/graphql", host, Some("http://localhost:8080")),
            Ok(())
        );
        assert_eq!(
            check(&g, "/graphql", host, Some("http://localhost:5173/")),
            Ok(())
        );
        for origin in [
            "http://evil.example",
            "null",
            "http://localhost:8081",
            "http://127.0.0.1:8080",
        ] {
            assert_eq!(
                check(&g, "/graphql", host, Some(origin)),
                Err(FORBIDDEN_ORIGIN),
                "{origin}"
            );
        }
        // Default ports follow the origin's scheme.
        assert_eq!(
            check(&g, "/", Some("localhost"), Some("http://localhost:80")),
            Ok(())
        );
        assert_eq!(
            check(&g, "/", Some("localhost:443"), Some("https://localhost")),
            Ok(())
        );
    }

    #[test]
    fn with_tokens_host_check_is_opt_in_and_cors_decides_origins() {
        let g = RequestGuard::new(&server(&[], &[]), true);
        assert_eq!(check(&g, "/graphql", Some("gdlens.example"), None), Ok(()));
        assert_eq!(
            check(
                &g,
                "/graphql",
                Some("gdlens.example"),
                Some("https://gdlens.example")
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &g,
                "/graphql",
                Some("gdlens.example"),
                Some("https://evil.example")
            ),
            Err(FORBIDDEN_ORIGIN)
        );
        let g = RequestGuard::new(
            &server(&["https://portal.example"], &["gdlens.example"]),
            true,
        );
        assert_eq!(
            check(
                &g,
                "/graphql",
                Some("gdlens.example"),
                Some("https://evil.example")
            ),
            Ok(())
        );
        assert_eq!(
            check(&g, "/metrics", Some("other.example"), None),
            Err(HOST_NOT_ALLOWED)
        );
    }
}
