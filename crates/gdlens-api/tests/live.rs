//! GraphQL subscriptions through the real server: graphql-transport-ws on `/graphql` with a real
//! WebSocket client (tokio-tungstenite), graphql-sse on `/graphql/stream` with a streaming HTTP
//! client; auth in `connection_init`, scope on every event, limits, slow consumers.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use gdlens_api::{Config, IngestRecord};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A safety net so a broken server fails the test instead of hanging it (not a timing check).
const WAIT: Duration = Duration::from_secs(30);

fn record(v: &Value) -> IngestRecord {
    IngestRecord {
        finding: gdlens_domain::normalize(v).unwrap(),
        raw: v.to_string(),
        source: "live-test".into(),
    }
}

/// The `more_findings.ndjson` records (6 new findings: 2 each in 111, 222, 333).
fn more() -> Vec<Value> {
    fixture_json("more_findings.ndjson")
}

/// A newer version of `v` (one hour later), optionally archived, with a new severity.
fn newer(v: &Value, severity: f64, archived: bool) -> Value {
    let mut v = v.clone();
    let updated = chrono::DateTime::parse_from_rfc3339(v["updatedAt"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(1);
    v["updatedAt"] = json!(updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    v["severity"] = json!(severity);
    v["service"]["archived"] = json!(archived);
    v
}

async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config::load(&fixture("config.toml")).unwrap();
    tweak(&mut config);
    TestServer::start_in(
        tempfile::tempdir().unwrap(),
        config,
        None,
        "findings.ndjson",
    )
    .await
}

async fn ws_open(s: &TestServer) -> Ws {
    let mut req = format!("ws://{}/graphql", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next protocol message (text), or the close frame as `{"close": code}`.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .map(|m| m.unwrap());
        match msg {
            Some(Message::Text(t)) => return serde_json::from_str(&t).unwrap(),
            Some(Message::Close(frame)) => {
                return json!({"close": frame.map(|f| u16::from(f.code)), "reason": ""})
            }
            Some(_) => continue,
            None => return json!({"close": null}),
        }
    }
}

/// Opens, initialises with `token` and expects `connection_ack`.
async fn ws_init(s: &TestServer, token: &str) -> Ws {
    let mut ws = ws_open(s).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "connection_ack");
    ws
}

async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    send(
        ws,
        json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}),
    )
    .await;
}

const FINDINGS: &str =
    "subscription($f: FindingFilter) { findingsChanged(filter: $f) { kind finding { id accountId severity archived triage { status } } } }";
const GROUPS: &str =
    "subscription { findingGroupsChanged { kind group { id findingCount accounts findings { id accountId } } } }";

/// Reads `next` messages of subscription `id` until `n` arrived.
async fn nexts(ws: &mut Ws, id: &str, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let m = recv(ws).await;
        assert_eq!(m["type"], "next", "{m}");
        assert_eq!(m["id"], id, "{m}");
        assert!(m["payload"].get("errors").is_none(), "{m}");
        out.push(m["payload"]["data"].clone());
    }
    out
}

/// Waits until the subscriptions are registered with the hub (a subscribe message is handled
/// asynchronously; changes before it are not the subscription's).
async fn await_subscribers(s: &TestServer, n: u64) {
    tokio::time::timeout(WAIT, async {
        loop {
            let text = s
                .client
                .get(s.url("/metrics"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let open = metric(&text, "gdlens_live_subscriptions");
            if open >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("subscriptions registered");
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_changed_reports_each_kind_in_scope_only() {
    let s = start(|_| {}).await;
    let mut admin = ws_init(&s, ADMIN).await;
    let mut scoped = ws_init(&s, VIEWER_222_333).await;
    subscribe(&mut admin, "a", FINDINGS, json!(null)).await;
    subscribe(&mut scoped, "s", FINDINGS, json!(null)).await;
    await_subscribers(&s, 2).await;

    // CREATED: six new findings, two per account.
    let more = more();
    s.state
        .ingest(more.iter().map(record).collect())
        .await
        .unwrap();
    let got = nexts(&mut admin, "a", 6).await;
    let mut ids: Vec<&str> = got
        .iter()
        .map(|d| d["findingsChanged"]["finding"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = more.iter().map(|v| v["id"].as_str().unwrap()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(got
        .iter()
        .all(|d| d["findingsChanged"]["kind"] == "CREATED"));
    // The scoped viewer hears of its four, never of account 111's.
    let got = nexts(&mut scoped, "s", 4).await;
    for d in &got {
        let acct = d["findingsChanged"]["finding"]["accountId"]
            .as_str()
            .unwrap();
        assert!(acct == "222222222222" || acct == "333333333333", "{d}");
    }

    // A hidden change (account 111) then a visible one: the scoped viewer's next event is the
    // visible one, so the hidden one never reached it.
    s.state
        .ingest(vec![record(&newer(&more[0], 8.9, false))])
        .await
        .unwrap();
    let d = &nexts(&mut admin, "a", 1).await[0];
    assert_eq!(d["findingsChanged"]["kind"], "UPDATED");
    assert_eq!(d["findingsChanged"]["finding"]["id"], "f0500eeee");
    assert_eq!(d["findingsChanged"]["finding"]["severity"], 8.9);

    // ARCHIVED: reported although the default filter lists only active findings.
    s.state
        .ingest(vec![record(&newer(&more[1], 5.0, true))])
        .await
        .unwrap();
    let d = &nexts(&mut scoped, "s", 1).await[0];
    assert_eq!(d["findingsChanged"]["kind"], "ARCHIVED", "{d}");
    assert_eq!(d["findingsChanged"]["finding"]["id"], "f0501ffff");
    assert_eq!(d["findingsChanged"]["finding"]["archived"], true);
    let d = &nexts(&mut admin, "a", 1).await[0];
    assert_eq!(d["findingsChanged"]["kind"], "ARCHIVED");

    // TRIAGED through the real mutation: the triager of 111 triages its finding; the scoped
    // viewer of 222/333 hears nothing of it (its next event is the 222 triage after it).
    let m =
        "mutation($ids: [ID!]) { setTriage(findingIds: $ids, status: ACKNOWLEDGED) { findingId } }";
    s.data(TRIAGER_111, m, json!({"ids": ["f0500eeee"]})).await;
    let d = &nexts(&mut admin, "a", 1).await[0];
    assert_eq!(d["findingsChanged"]["kind"], "TRIAGED");
    assert_eq!(
        d["findingsChanged"]["finding"]["triage"]["status"],
        "ACKNOWLEDGED"
    );
    s.data(ADMIN, m, json!({"ids": ["f05042222"]})).await;
    let d = &nexts(&mut scoped, "s", 1).await[0];
    assert_eq!(d["findingsChanged"]["kind"], "TRIAGED");
    assert_eq!(d["findingsChanged"]["finding"]["id"], "f05042222");

    // The filter applies to every event: only severity ≥ 9 from here on.
    subscribe(
        &mut scoped,
        "hi",
        FINDINGS,
        json!({"f": {"severityMin": 9.0}}),
    )
    .await;
    await_subscribers(&s, 3).await;
    s.state
        .ingest(vec![
            record(&newer(&more[4], 2.0, false)), // 222, low: not for "hi"
            record(&newer(&more[2], 9.9, false)), // 333, critical
        ])
        .await
        .unwrap();
    let mut hi = None;
    let mut plain = 0;
    while hi.is_none() || plain < 2 {
        let m = recv(&mut scoped).await;
        assert_eq!(m["type"], "next", "{m}");
        if m["id"] == "hi" {
            assert!(hi.is_none(), "one event for `hi`: {m}");
            hi = Some(m["payload"]["data"]["findingsChanged"]["finding"]["id"].clone());
        } else {
            plain += 1;
        }
    }
    assert_eq!(hi.unwrap(), "f05020000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_groups_changed_shows_only_visible_members() {
    let s = start(|_| {}).await;
    let mut scoped = ws_init(&s, VIEWER_222_333).await;
    let mut admin = ws_init(&s, ADMIN).await;
    subscribe(&mut scoped, "g", GROUPS, json!(null)).await;
    subscribe(&mut admin, "g", GROUPS, json!(null)).await;
    await_subscribers(&s, 2).await;
    // A group with a member in 222 whose severity is below 8.9: a newer version of that member
    // at 8.9 escalates it, for both.
    let d = s
        .data(
            ADMIN,
            "{ findingGroups(first: 100) { nodes { id severity findings { id accountId severity } } } }",
            json!(null),
        )
        .await;
    let (group_id, member) = d["findingGroups"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["severity"].as_f64().unwrap() < 8.9)
        .find_map(|g| {
            g["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["accountId"] == "222222222222")
                .map(|f| (g["id"].clone(), f["id"].as_str().unwrap().to_string()))
        })
        .expect("a fixture group with a member in 222 below 8.9");
    let original = fixture_json("findings.ndjson")
        .into_iter()
        .find(|v| v["id"] == member.as_str())
        .unwrap();
    s.state
        .ingest(vec![record(&newer(&original, 8.9, false))])
        .await
        .unwrap();
    for ws in [&mut scoped, &mut admin] {
        let d = &nexts(ws, "g", 1).await[0];
        let c = &d["findingGroupsChanged"];
        assert_eq!(c["kind"], "ESCALATED", "{d}");
        assert_eq!(c["group"]["id"], group_id, "{d}");
    }
    // What the scoped viewer sees of the group lists members of 222/333 only.
    s.state
        .ingest(vec![record(&newer(
            &newer(&original, 9.0, false),
            9.0,
            false,
        ))])
        .await
        .unwrap();
    let d = &nexts(&mut scoped, "g", 1).await[0];
    let g = &d["findingGroupsChanged"]["group"];
    for a in g["accounts"].as_array().unwrap() {
        assert!(a == "222222222222" || a == "333333333333", "{d}");
    }
    for f in g["findings"].as_array().unwrap() {
        assert_ne!(f["accountId"], "111111111111", "{d}");
    }
    assert_eq!(
        g["findingCount"].as_u64().unwrap() as usize,
        g["findings"].as_array().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_init_authenticates() {
    let s = start(|_| {}).await;
    // No token.
    let mut ws = ws_open(&s).await;
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut ws).await["close"], 4401);
    // Unknown token.
    let mut ws = ws_open(&s).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["close"], 4401);
    // Subscribing before connection_init.
    let mut ws = ws_open(&s).await;
    subscribe(&mut ws, "x", FINDINGS, json!(null)).await;
    let m = recv(&mut ws).await;
    assert!(
        m["close"].as_u64().is_some_and(|c| c >= 4000 || c == 1011),
        "{m}"
    );
    // A subscribe id already in use.
    let mut ws = ws_init(&s, VIEWER_ALL).await;
    subscribe(&mut ws, "same", FINDINGS, json!(null)).await;
    subscribe(&mut ws, "same", FINDINGS, json!(null)).await;
    assert_eq!(recv(&mut ws).await["close"], 4409);
    // A second connection_init.
    let mut ws = ws_init(&s, VIEWER_ALL).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"token": VIEWER_ALL}}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["close"], 4429);
    // Without the graphql-transport-ws subprotocol: refused before the upgrade.
    let req = format!("ws://{}/graphql", s.addr)
        .into_client_request()
        .unwrap();
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_per_connection_and_per_token() {
    let s = start(|c| {
        c.live.max_subscriptions_per_connection = 2;
        c.live.max_connections_per_token = 1;
    })
    .await;
    let mut ws = ws_init(&s, VIEWER_ALL).await;
    subscribe(&mut ws, "1", FINDINGS, json!(null)).await;
    subscribe(&mut ws, "2", FINDINGS, json!(null)).await;
    subscribe(&mut ws, "3", FINDINGS, json!(null)).await;
    let m = recv(&mut ws).await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["id"], "3");
    assert_eq!(
        m["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    // Completing one frees its place.
    send(&mut ws, json!({"id": "1", "type": "complete"})).await;
    subscribe(&mut ws, "4", FINDINGS, json!(null)).await;
    await_subscribers(&s, 2).await;
    s.state.ingest(vec![record(&more()[0])]).await.unwrap();
    let mut ids = vec![];
    while ids.len() < 2 {
        let m = recv(&mut ws).await;
        if m["type"] == "complete" && m["id"] == "1" {
            continue; // the server confirms the client's `complete`
        }
        assert_eq!(m["type"], "next", "{m}");
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    assert_eq!(ids, ["2", "4"]);

    // A second live connection for the same token: closed with 4502; SSE gets 429.
    let mut second = ws_open(&s).await;
    send(
        &mut second,
        json!({"type": "connection_init", "payload": {"token": VIEWER_ALL}}),
    )
    .await;
    assert_eq!(recv(&mut second).await["close"], 4502);
    let resp = s
        .client
        .post(s.url("/graphql/stream"))
        .bearer_auth(VIEWER_ALL)
        .json(&json!({"query": FINDINGS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    // Another token is not affected; once the first closes, the token connects again.
    let _other = ws_init(&s, ADMIN).await;
    ws.close(None).await.unwrap();
    drop(ws);
    tokio::time::timeout(WAIT, async {
        loop {
            let mut again = ws_open(&s).await;
            send(
                &mut again,
                json!({"type": "connection_init", "payload": {"token": VIEWER_ALL}}),
            )
            .await;
            if recv(&mut again).await["type"] == "connection_ack" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the slot is released when the connection closes");
    let text = s
        .client
        .get(s.url("/metrics"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("gdlens_live_refused_total{what=\"subscription\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_closed_as_slow_consumer() {
    let s = start(|c| {
        c.live.outgoing_queue = 4;
        c.live.event_buffer = 4;
    })
    .await;
    // A client with a small receive buffer that subscribes to every finding's raw JSON, then
    // stops reading.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(s.addr).await.unwrap();
    let mut req = format!("ws://{}/graphql", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"token": ADMIN}}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "connection_ack");
    subscribe(
        &mut ws,
        "raw",
        "subscription { findingsChanged { finding { id raw } } }",
        json!(null),
    )
    .await;
    await_subscribers(&s, 1).await;

    // 2,000 findings of ~2 KB each: far more than socket buffers and the queue hold.
    let base = more()[0].clone();
    let batch: Vec<IngestRecord> = (0..2000)
        .map(|i| {
            let mut v = base.clone();
            v["id"] = json!(format!("slow{i:05}"));
            v["description"] = json!("x".repeat(1500));
            record(&v)
        })
        .collect();
    s.state.ingest(batch).await.unwrap();
    // The server gives up on the client.
    tokio::time::timeout(WAIT, async {
        loop {
            let text = s
                .client
                .get(s.url("/metrics"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if metric(&text, "gdlens_live_slow_consumers_total") == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the slow client is given up on");
    // Now it reads: what was already on its way, fewer events than were produced, then close
    // code 4501 (the queued rest was dropped).
    let mut events = 0;
    let code = loop {
        let m = recv(&mut ws).await;
        if m.get("close").is_some() {
            break m["close"].clone();
        }
        assert_eq!(m["type"], "next", "{m}");
        events += 1;
    };
    assert_eq!(code, json!(4501));
    assert!(events < 2000, "{events} events");
    // Its connection slot is released.
    tokio::time::timeout(WAIT, async {
        loop {
            let text = s
                .client
                .get(s.url("/metrics"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if metric(&text, "gdlens_live_connections") == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the connection is released");
}

/// Reads server-sent events until `n` `next` events arrived (or `complete`).
async fn sse_events(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    n: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if event.is_empty() {
                continue; // keep-alive comment
            }
            let done = event == "complete";
            out.push((event, data));
            if done || out.len() == n {
                return out;
            }
        }
        let chunk = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_subscriptions_with_the_authorization_header() {
    // Idle connections close after a second: a stream waiting for events is not idle.
    let s = start(|c| {
        c.server.keep_alive_idle_seconds = 1;
        c.server.header_read_timeout_seconds = 1;
    })
    .await;
    let url = s.url("/graphql/stream");
    // No token: 401; a query: 400 (it belongs on /graphql); a form post: 415.
    let r = s
        .client
        .post(&url)
        .json(&json!({"query": FINDINGS}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .post(&url)
        .bearer_auth(ADMIN)
        .json(&json!({"query": "{ findings { totalCount } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .post(&url)
        .bearer_auth(ADMIN)
        .header("content-type", "text/plain")
        .body(FINDINGS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    let resp = s
        .client
        .post(&url)
        .bearer_auth(VIEWER_222_333)
        .header("accept", "text/event-stream")
        .json(&json!({"query": FINDINGS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    await_subscribers(&s, 1).await;
    // Longer than the idle timeout without an event.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.state
        .ingest(more().iter().map(record).collect())
        .await
        .unwrap();
    let got = sse_events(&mut stream, &mut buf, 4).await;
    for (event, data) in &got {
        assert_eq!(event, "next");
        let v: Value = serde_json::from_str(data).unwrap();
        let acct = v["data"]["findingsChanged"]["finding"]["accountId"]
            .as_str()
            .unwrap();
        assert!(acct == "222222222222" || acct == "333333333333", "{v}");
    }
    // Server shutdown completes the stream and closes WebSockets (1001, going away).
    let mut ws = ws_init(&s, ADMIN).await;
    s.state.live.shutdown();
    let rest = sse_events(&mut stream, &mut buf, usize::MAX).await;
    assert_eq!(rest.last().unwrap().0, "complete", "{rest:?}");
    assert_eq!(recv(&mut ws).await["close"], 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_changed_starts_with_the_summary_and_follows_visible_changes() {
    let s = start(|_| {}).await;
    let q = "subscription { summaryChanged { total accountsAffected } }";
    let resp = s
        .client
        .post(s.url("/graphql/stream"))
        .bearer_auth(VIEWER_222_333)
        .json(&json!({"query": q}))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let total = |data: &str| -> u64 {
        let v: Value = serde_json::from_str(data).unwrap();
        v["data"]["summaryChanged"]["total"].as_u64().unwrap()
    };
    let first = sse_events(&mut stream, &mut buf, 1).await;
    let before = total(&first[0].1);
    let d = s
        .data(VIEWER_222_333, "{ summary { total } }", json!(null))
        .await;
    assert_eq!(before, d["summary"]["total"].as_u64().unwrap());
    await_subscribers(&s, 1).await;

    let more = more();
    // A change in account 111 only, then one in 222: the next event is after the visible one
    // and counts it (the hidden change moved nothing the viewer can see).
    s.state.ingest(vec![record(&more[0])]).await.unwrap();
    s.state.ingest(vec![record(&more[1])]).await.unwrap();
    let next = sse_events(&mut stream, &mut buf, 1).await;
    assert_eq!(total(&next[0].1), before + 1);
    // Two changes in quick succession end up in one summary (or two, the last one counting both).
    s.state.ingest(vec![record(&more[2])]).await.unwrap();
    s.state.ingest(vec![record(&more[4])]).await.unwrap();
    let mut last = before + 1;
    while last != before + 3 {
        let e = sse_events(&mut stream, &mut buf, 1).await;
        let t = total(&e[0].1);
        assert!(t > last && t <= before + 3, "{t} after {last}");
        last = t;
    }
}
