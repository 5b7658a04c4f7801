//! Request-level hardening through the real router: `/metrics` behind a token, the `metrics`
//! role kept out of GraphQL, and the loopback-mode defences (Content-Type, Origin, Host).

mod common;
mod hardening_support;

use common::{ADMIN, VIEWER_ALL};
use hardening_support::{loopback, raw, start, with_tokens, METRICS};
use serde_json::{json, Value};

const QUERY: &str = r#"{"query":"{ summary { total } }"}"#;

#[tokio::test]
async fn metrics_needs_an_admin_or_metrics_token_once_tokens_exist() {
    let s = start(with_tokens()).await;
    let get = |token: Option<&'static str>| {
        let mut req = s.client.get(s.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap() }
    };
    for (token, status, code) in [
        (None, 401, "UNAUTHENTICATED"),
        (Some("not-a-token"), 401, "UNAUTHENTICATED"),
        (Some(VIEWER_ALL), 403, "FORBIDDEN"),
    ] {
        let resp = get(token).await;
        assert_eq!(resp.status().as_u16(), status, "{token:?}");
        if status == 401 {
            assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        }
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    }
    for token in [ADMIN, METRICS] {
        let resp = get(Some(token)).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.text().await.unwrap().contains("gdlens_findings 89"));
    }
}

#[tokio::test]
async fn a_metrics_token_cannot_use_graphql() {
    let s = start(with_tokens()).await;
    let (status, body) = s
        .post(Some(METRICS), "{ summary { total } }", json!(null))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(body.get("data").is_none(), "{body}");
    let resp = s
        .client
        .get(s.url("/graphql?query=%7B%20viewer%20%7B%20role%20%7D%20%7D"))
        .bearer_auth(METRICS)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // The other roles are unaffected.
    let data = s
        .data(VIEWER_ALL, "{ summary { total } }", json!(null))
        .await;
    assert!(data["summary"]["total"].as_u64().unwrap() > 0, "{data}");
}

#[tokio::test]
async fn loopback_mode_keeps_metrics_open() {
    let s = start(loopback()).await;
    let resp = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn post_without_a_json_or_graphql_content_type_is_refused() {
    for config in [loopback(), with_tokens()] {
        let s = start(config).await;
        let auth = format!("Bearer {ADMIN}");
        let host = s.addr.to_string();
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let mut headers = vec![("Host", host.as_str()), ("Authorization", auth.as_str())];
            if let Some(ct) = ct {
                headers.push(("Content-Type", ct));
            }
            let r = raw(s.addr, "POST", "/graphql", &headers, QUERY).await;
            assert_eq!(r.status, 415, "{ct:?}: {r:?}");
            assert_eq!(r.code(), "UNSUPPORTED_MEDIA_TYPE", "{ct:?}");
        }
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/graphql-response+json",
        ] {
            let headers = [
                ("Host", host.as_str()),
                ("Authorization", auth.as_str()),
                ("Content-Type", ct),
            ];
            let r = raw(s.addr, "POST", "/graphql", &headers, QUERY).await;
            assert_eq!(r.status, 200, "{ct}: {r:?}");
            assert!(
                r.body.contains("{\"data\":{\"summary\":{\"total\":"),
                "{ct}: {r:?}"
            );
        }
        let headers = [
            ("Host", host.as_str()),
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/graphql"),
        ];
        let r = raw(
            s.addr,
            "POST",
            "/graphql",
            &headers,
            "{ summary { total } }",
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
    }
}

/// Every route a browser could reach, as (method, path, body).
const ROUTES: [(&str, &str, &str); 4] = [
    ("POST", "/graphql", QUERY),
    (
        "GET",
        "/graphql?query=%7B%20summary%20%7B%20total%20%7D%20%7D",
        "",
    ),
    ("GET", "/metrics", ""),
    ("GET", "/", ""),
];

#[tokio::test]
async fn loopback_mode_refuses_foreign_origins_on_every_route() {
    let mut config = loopback();
    config.server.cors_origins = vec!["http://localhost:5173".into()];
    let s = start(config).await;
    let host = s.addr.to_string();
    let same = format!("http://{host}");
    for (method, path, body) in ROUTES {
        let send = |origin: Option<&str>| {
            let mut headers = vec![
                ("Host", host.as_str()),
                ("Content-Type", "application/json"),
            ];
            if let Some(o) = origin {
                headers.push(("Origin", o));
            }
            let headers: Vec<(String, String)> = headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            async move {
                let h: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                raw(s.addr, method, path, &h, body).await
            }
        };
        for origin in ["https://evil.example", "null", "http://localhost:1"] {
            let r = send(Some(origin)).await;
            assert_eq!(r.status, 403, "{method} {path} from {origin}: {r:?}");
            assert_eq!(r.code(), "FORBIDDEN_ORIGIN");
        }
        for origin in [None, Some(same.as_str()), Some("http://localhost:5173")] {
            let r = send(origin).await;
            assert_eq!(r.status, 200, "{method} {path} from {origin:?}: {r:?}");
        }
    }
}

#[tokio::test]
async fn loopback_mode_refuses_foreign_host_names_on_every_route() {
    let mut config = loopback();
    config.server.allowed_hosts = vec!["gdlens.internal".into()];
    let s = start(config).await;
    let port = s.addr.port();
    let good = [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("gdlens.internal:{port}"),
    ];
    for (method, path, body) in ROUTES {
        // A DNS-rebinding page: its own name, now resolving to 127.0.0.1.
        let evil = format!("rebind.evil.example:{port}");
        let headers = [
            ("Host", evil.as_str()),
            ("Content-Type", "application/json"),
        ];
        let r = raw(s.addr, method, path, &headers, body).await;
        assert_eq!(r.status, 421, "{method} {path}: {r:?}");
        assert_eq!(r.code(), "HOST_NOT_ALLOWED");
        for host in &good {
            let headers = [
                ("Host", host.as_str()),
                ("Content-Type", "application/json"),
            ];
            let r = raw(s.addr, method, path, &headers, body).await;
            assert_eq!(r.status, 200, "{method} {path} Host {host}: {r:?}");
        }
    }
    // Probes address the server by whatever name; their answers hold nothing.
    let headers = [("Host", "10.1.2.3:8080")];
    assert_eq!(
        raw(s.addr, "GET", "/healthz", &headers, "").await.status,
        200
    );
}

#[tokio::test]
async fn with_tokens_the_host_check_is_opt_in_and_cors_decides_origins() {
    // Fixture: tokens and cors_origins = ["https://portal.example"]; no allowed_hosts.
    let s = start(with_tokens()).await;
    let auth = format!("Bearer {ADMIN}");
    let headers = [
        ("Host", "gdlens.example.com"),
        ("Origin", "https://elsewhere.example"),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = raw(s.addr, "POST", "/graphql", &headers, QUERY).await;
    assert_eq!(r.status, 200, "{r:?}");

    // Without CORS, a foreign Origin is refused even with a valid token.
    let mut config = with_tokens();
    config.server.cors_origins.clear();
    config.server.allowed_hosts = vec!["gdlens.example.com".into()];
    let s = start(config).await;
    let r = raw(s.addr, "POST", "/graphql", &headers, QUERY).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "FORBIDDEN_ORIGIN"),
        "{r:?}"
    );
    let same = [
        ("Host", "gdlens.example.com"),
        ("Origin", "https://gdlens.example.com"),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    assert_eq!(
        raw(s.addr, "POST", "/graphql", &same, QUERY).await.status,
        200
    );
    // allowed_hosts set: other names are refused.
    let other = [
        ("Host", "other.example.com"),
        ("Authorization", auth.as_str()),
    ];
    let r = raw(s.addr, "GET", "/metrics", &other, "").await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (421, "HOST_NOT_ALLOWED"),
        "{r:?}"
    );
}
