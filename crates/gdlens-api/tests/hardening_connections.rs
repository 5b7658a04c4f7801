//! Connection-level hardening of `serve_on`: the header-read timeout, the keep-alive idle
//! timeout, the connection cap and the graceful drain. Bounds are generous on purpose: these
//! tests check that things happen, not how fast.

mod common;
mod hardening_support;

use std::time::Duration;

use hardening_support::{closed_within, loopback, read_response, start};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const GENEROUS: Duration = Duration::from_secs(15);

fn get(path: &str, connection: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\n\r\n")
}

#[tokio::test]
async fn a_half_sent_request_is_disconnected_after_the_header_timeout() {
    let mut config = loopback();
    config.server.header_read_timeout_seconds = 1;
    config.server.keep_alive_idle_seconds = 1;
    let s = start(config).await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /graph").await.unwrap();
    assert!(
        closed_within(&mut slow, GENEROUS).await,
        "a half-sent request line held the connection open"
    );
    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    assert!(closed_within(&mut silent, GENEROUS).await);
    // The server still answers.
    let mut ok = TcpStream::connect(s.addr).await.unwrap();
    ok.write_all(get("/healthz", "close").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_response(&mut ok).await.status, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let mut config = loopback();
    // Long header timeout: only the idle timeout can close the connection within the bound.
    config.server.header_read_timeout_seconds = 120;
    config.server.keep_alive_idle_seconds = 1;
    let s = start(config).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    for _ in 0..2 {
        c.write_all(get("/healthz", "keep-alive").as_bytes())
            .await
            .unwrap();
        assert_eq!(read_response(&mut c).await.status, 200);
    }
    assert!(closed_within(&mut c, GENEROUS).await);
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let mut config = loopback();
    config.server.max_connections = 2;
    config.server.header_read_timeout_seconds = 120;
    config.server.keep_alive_idle_seconds = 120;
    let s = start(config).await;
    let first = TcpStream::connect(s.addr).await.unwrap();
    let _second = TcpStream::connect(s.addr).await.unwrap();
    // The kernel completes the handshake (listen backlog); the server does not accept it yet.
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third
        .write_all(get("/healthz", "close").as_bytes())
        .await
        .unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(500), read_response(&mut third)).await;
    assert!(waiting.is_err(), "served over the cap: {waiting:?}");
    drop(first);
    let served = tokio::time::timeout(GENEROUS, read_response(&mut third))
        .await
        .expect("not served after a slot freed");
    assert_eq!(served.status, 200);
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests_and_closes_idle_connections() {
    let s = start(loopback()).await;
    // A second serve_on on the same state, whose shutdown and end this test controls.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gdlens_api::serve_on(
        s.state.clone(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));

    // Idle: one request served, kept alive.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(get("/healthz", "keep-alive").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.status, 200);
    // In flight: the head and half the body are sent.
    let body = r#"{"query":"{ summary { total } }"}"#;
    let (head_half, tail_half) = body.split_at(body.len() / 2);
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{head_half}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.send(()).unwrap();
    assert!(
        closed_within(&mut idle, GENEROUS).await,
        "idle connection kept open"
    );
    // No longer accepting (the listener is closed once the loop stops).
    let refused = async {
        loop {
            if TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(GENEROUS, refused)
        .await
        .expect("still accepting after shutdown");
    assert!(!server.is_finished(), "returned with a request in flight");

    busy.write_all(tail_half.as_bytes()).await.unwrap();
    let r = read_response(&mut busy).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("\"total\""), "{r:?}");
    tokio::time::timeout(GENEROUS, server)
        .await
        .expect("serve_on did not return after draining")
        .unwrap()
        .unwrap();
}
