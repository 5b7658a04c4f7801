//! Helpers of the `hardening_*` tests: servers in loopback mode or with a `metrics` token, and a
//! raw HTTP/1.1 client that sends exactly the headers a test names (`Host`, `Origin`, none).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use gdlens_api::config::{AccountsScope, TokenConfig};
use gdlens_api::{token_sha256_hex, Config, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{fixture, TestServer};

/// Secret of the `metrics`-role token that [`with_tokens`] adds.
pub const METRICS: &str = "metrics-scraper-secret";

/// The fixture config (four tokens, CORS for https://portal.example) plus a `metrics` token.
pub fn with_tokens() -> Config {
    let mut config = Config::load(&fixture("config.toml")).unwrap();
    config.tokens.push(TokenConfig {
        name: "prometheus".into(),
        sha256: token_sha256_hex(METRICS),
        role: Role::Metrics,
        accounts: AccountsScope::Star("*".into()),
    });
    config.server.web_dir = Some("/nonexistent".into());
    config
}

/// The fixture config without tokens or CORS: loopback mode.
pub fn loopback() -> Config {
    let mut config = with_tokens();
    config.tokens.clear();
    config.server.cors_origins.clear();
    config
}

/// Starts a server with `config` and the fixture findings.
pub async fn start(config: Config) -> TestServer {
    TestServer::start_in(
        tempfile::tempdir().unwrap(),
        config,
        None,
        "findings.ndjson",
    )
    .await
}

/// A parsed response.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Raw {
    /// The `extensions.code` of the first error in a JSON body, or "".
    pub fn code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v["errors"][0]["extensions"]["code"]
                    .as_str()
                    .map(String::from)
            })
            .unwrap_or_default()
    }
}

/// Sends one request with exactly `headers` (plus `Content-Length` and `Connection: close`).
pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Raw {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .expect("no response within 30 s")
        .unwrap();
    parse(&out).expect("a complete HTTP response")
}

/// Parses one response (Content-Length or chunked body).
pub fn parse(bytes: &[u8]) -> Option<Raw> {
    let text = String::from_utf8_lossy(bytes);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.push_str(tail.get(..n)?);
            rest = tail.get(n + 2..)?;
        }
        out
    } else {
        let len = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(rest.len());
        rest.get(..len)?.to_string()
    };
    Some(Raw {
        status,
        head: head.to_string(),
        body,
    })
}

/// Reads one whole response from a kept-alive connection.
pub async fn read_response(s: &mut TcpStream) -> Raw {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(r) = parse(&buf) {
            if complete(&buf, &r) {
                return r;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk))
            .await
            .expect("no response within 30 s")
            .unwrap();
        assert!(
            n > 0,
            "connection closed mid-response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn complete(buf: &[u8], r: &Raw) -> bool {
    let text = String::from_utf8_lossy(buf);
    if r.head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        text.ends_with("0\r\n\r\n")
    } else {
        true // `parse` returned the full Content-Length
    }
}

/// Waits (at most `within`) for the server to close `s`; true if it did.
pub async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}
