//! Webhooks through the real `gdlens serve` binary: a local receiver (plain HTTP on
//! 127.0.0.1:0) fails, times out and recovers; every delivery is checked against its Standard
//! Webhooks signature, computed here independently, and its CloudEvents shape. A SIGKILL in the
//! middle of a delivery loses no event, and only what was in flight arrives twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{KeyInit, Mac};

mod common;
use common::{free_port, http, Server};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the receiver does with the next requests (then it answers 200).
#[derive(Debug, Clone, Copy)]
enum Action {
    Accept,
    Fail,
    /// Answers only after this long (longer than the webhook's timeout).
    Hang(Duration),
    /// Blocks until the test calls [`Receiver::release`].
    Block,
}

#[derive(Debug, Clone)]
struct Message {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    accepted: bool,
}

#[derive(Default)]
struct ReceiverState {
    script: VecDeque<Action>,
    always_fail: bool,
    messages: Vec<Message>,
    blocked: bool,
    released: bool,
}

struct Receiver {
    addr: String,
    state: Arc<(Mutex<ReceiverState>, Condvar)>,
}

impl Receiver {
    fn start(script: Vec<Action>, always_fail: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new((
            Mutex::new(ReceiverState {
                script: script.into(),
                always_fail,
                ..Default::default()
            }),
            Condvar::new(),
        ));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || handle(conn, &s));
            }
        });
        Receiver { addr, state }
    }

    fn messages(&self) -> Vec<Message> {
        self.state.0.lock().unwrap().messages.clone()
    }

    /// Waits until a request is blocked.
    fn wait_blocked(&self) {
        let (lock, cv) = &*self.state;
        let mut g = lock.lock().unwrap();
        while !g.blocked {
            g = cv.wait(g).unwrap();
        }
    }

    fn release(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap().released = true;
        cv.notify_all();
    }
}

fn handle(conn: TcpStream, state: &(Mutex<ReceiverState>, Condvar)) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut headers = HashMap::new();
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (lock, cv) = state;
    let action = {
        let mut g = lock.lock().unwrap();
        if g.always_fail {
            Some(Action::Fail)
        } else {
            g.script.pop_front()
        }
    };
    let mut message = Message {
        id: headers.get("webhook-id").cloned().unwrap_or_default(),
        timestamp: headers
            .get("webhook-timestamp")
            .cloned()
            .unwrap_or_default(),
        signature: headers
            .get("webhook-signature")
            .cloned()
            .unwrap_or_default(),
        body: String::from_utf8(body).unwrap(),
        accepted: false,
    };
    let status = match action {
        Some(Action::Fail) => "500 Internal Server Error",
        Some(Action::Hang(d)) => {
            std::thread::sleep(d);
            "200 OK" // too late: the sender gave up
        }
        Some(Action::Accept) => {
            message.accepted = true;
            "200 OK"
        }
        Some(Action::Block) => {
            let mut g = lock.lock().unwrap();
            g.blocked = true;
            cv.notify_all();
            while !g.released {
                g = cv.wait(g).unwrap();
            }
            "200 OK"
        }
        None => {
            message.accepted = true;
            "200 OK"
        }
    };
    lock.lock().unwrap().messages.push(message);
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
}

/// Verifies a Standard Webhooks signature with the secret's key (independently of gdlens).
fn verify(m: &Message) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = <hmac::Hmac<sha2_11::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", m.id, m.timestamp, m.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    m.signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

fn start(dir: &Path, config: &Path, log: &Path, demo_findings: usize) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .arg("--config")
        .arg(config)
        .args(["--listen", &addr, "--web-dir", "/nonexistent"])
        .args(["--demo-findings", &demo_findings.to_string()])
        .env("GDLENS_LOG", "info,gdlens_api::webhooks=debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(300);
    while !matches!(http(&server.addr, "GET", "/readyz", ""), Some((200, _))) {
        assert!(Instant::now() < deadline, "gdlens serve not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn write_config(dir: &Path, hooks: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("soc.secret"), format!("{SECRET}\n")).unwrap();
    let path = dir.join("gdlens.toml");
    std::fs::write(
        &path,
        format!("[outbox]\npoll_interval_ms = 50\nconcurrency = 4\n\n{hooks}"),
    )
    .unwrap();
    path
}

/// Waits until `done` holds for the store (opened read-side next to the running server).
fn wait_for(data: &Path, what: &str, done: impl Fn(&gdlens_store::Store) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let store = gdlens_store::Store::open(data).unwrap();
        if done(&store) {
            return;
        }
        drop(store);
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn counts(store: &gdlens_store::Store, webhook: &str) -> gdlens_store::DeliveryCounts {
    store
        .delivery_counts()
        .unwrap()
        .into_iter()
        .find(|c| c.webhook == webhook)
        .unwrap_or_default()
}

#[test]
fn a_failing_then_timing_out_receiver_gets_every_event_signed_once_it_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let soc = Receiver::start(
        vec![
            Action::Fail,
            Action::Fail,
            Action::Hang(Duration::from_millis(1_500)),
            Action::Fail,
        ],
        false,
    );
    let chat = Receiver::start(Vec::new(), true);
    let config = write_config(
        tmp.path(),
        &format!(
            r#"
[[webhooks]]
name = "soc"
url = "http://{}/hooks/gdlens"
secret_file = "soc.secret"
events = ["finding.created", "group.created", "triage.changed"]
filter = {{ severityMin = 7.0 }}
format = "cloudevents"
timeout_ms = 500
retry_base_ms = 20
retry_max_ms = 200
max_attempts = 50

[[webhooks]]
name = "chat"
url = "http://{}/slack"
secret_env = "GDLENS_TEST_CHAT_SECRET"
events = ["finding.created"]
filter = {{ severityMin = 8.0 }}
format = "slack"
retry_base_ms = 10
retry_max_ms = 20
max_attempts = 2
"#,
            soc.addr, chat.addr
        ),
    );
    std::env::set_var("GDLENS_TEST_CHAT_SECRET", SECRET);
    let data = tmp.path().join("data");
    let log = tmp.path().join("serve.log");
    let server = start(&data, &config, &log, 300);

    // A triage change is an event too (loopback: the caller is admin).
    let store = gdlens_store::Store::open(&data).unwrap();
    let high: Vec<String> = store
        .latest_findings()
        .unwrap()
        .into_iter()
        .filter(|f| f.severity >= 7.0 && !f.archived && !f.sample)
        .map(|f| f.id)
        .collect();
    drop(store);
    assert!(!high.is_empty(), "the demo has high-severity findings");
    let mutation = serde_json::json!({
        "query": format!("mutation {{ setTriage(findingIds: [\"{}\"], status: ACKNOWLEDGED) {{ version }} }}", high[0])
    });
    let (status, text) = http(&server.addr, "POST", "/graphql", &mutation.to_string()).unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("\"errors\""), "{text}");

    wait_for(&data, "every soc delivery", |s| {
        let c = counts(s, "soc");
        c.pending == 0 && c.delivered > high.len() as u64 && s.outbox_backlog().unwrap() == 0
    });
    wait_for(&data, "chat's dead letters", |s| {
        let c = counts(s, "chat");
        c.pending == 0 && c.dead > 0
    });

    let store = gdlens_store::Store::open(&data).unwrap();
    let delivered = store
        .deliveries(&gdlens_store::DeliveryQuery {
            webhook: Some("soc".into()),
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    let messages = soc.messages();
    assert!(
        messages.iter().any(|m| !m.accepted),
        "the receiver failed first"
    );
    let accepted: HashSet<&str> = messages
        .iter()
        .filter(|m| m.accepted)
        .map(|m| m.id.as_str())
        .collect();
    for d in &delivered {
        assert_eq!(d.status, "delivered");
        assert!(
            accepted.contains(d.message_id.as_str()),
            "{} arrived",
            d.message_id
        );
    }
    let kinds: HashSet<&str> = delivered.iter().map(|d| d.kind.as_str()).collect();
    assert!(
        kinds.contains("finding.created")
            && kinds.contains("group.created")
            && kinds.contains("triage.changed"),
        "{kinds:?}"
    );
    let created: HashSet<&str> = delivered
        .iter()
        .filter(|d| d.kind == "finding.created")
        .map(|d| d.subject.as_str())
        .collect();
    assert_eq!(
        created.len(),
        high.len(),
        "exactly the findings the filter matches"
    );
    for m in &messages {
        assert!(verify(m), "signature of {}", m.id);
        let ev: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        assert_eq!(ev["specversion"], "1.0");
        assert_eq!(ev["id"], m.id.as_str(), "CloudEvents id = webhook id");
        assert_eq!(ev["source"], "gdlens");
        assert!(ev["type"].as_str().unwrap().starts_with("com.gdlens."));
        if ev["type"] == "com.gdlens.finding.created" {
            assert!(ev["data"]["finding"]["severity"].as_f64().unwrap() >= 7.0);
            assert_eq!(ev["subject"], ev["data"]["finding"]["id"]);
        }
    }
    // Slack-shaped, signed, dead-lettered after its two attempts.
    let chat_messages = chat.messages();
    assert!(chat_messages.iter().all(verify));
    let slack: serde_json::Value = serde_json::from_str(&chat_messages[0].body).unwrap();
    assert!(slack["text"]
        .as_str()
        .unwrap()
        .starts_with("gdlens finding.created"));
    let dead = store
        .deliveries(&gdlens_store::DeliveryQuery {
            status: Some("dead".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(dead.iter().all(|d| d.webhook == "chat"
        && d.attempts == 2
        && d.last_error.as_deref() == Some("HTTP 500")));

    // Metrics, and the CLI over the same store.
    let (_, metrics) = http(&server.addr, "GET", "/metrics", "").unwrap();
    assert!(
        metrics.contains("gdlens_webhook_delivered_total{webhook=\"soc\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "gdlens_webhook_dead_lettered_total{{webhook=\"chat\"}} {}",
            dead.len()
        )),
        "{metrics}"
    );
    assert!(metrics.contains("gdlens_webhook_queue_depth{webhook=\"soc\"} 0"));
    assert!(
        metrics.contains(
            "gdlens_webhook_attempt_duration_seconds_bucket{webhook=\"soc\",le=\"+Inf\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("gdlens_webhook_delivery_lag_seconds_sum{webhook=\"soc\"}"),
        "{metrics}"
    );
    let cli = |args: &[&str]| {
        common::stdout_of(
            Command::new(env!("CARGO_BIN_EXE_gdlens"))
                .arg("webhooks")
                .args(args)
                .arg("--data-dir")
                .arg(&data)
                .arg("--config")
                .arg(&config),
        )
    };
    let list = cli(&["list"]);
    assert!(
        list.contains("soc") && list.contains("cloudevents"),
        "{list}"
    );
    assert!(
        !list.contains("/hooks/gdlens"),
        "only the host of a URL is shown: {list}"
    );
    let dead_list = cli(&["dead-letter"]);
    assert!(
        dead_list.contains(&format!("{} dead-lettered deliveries", dead.len())),
        "{dead_list}"
    );
    let test = cli(&["test", "soc"]);
    assert!(test.contains("delivered msg_test_"), "{test}");
    let replayed = cli(&["replay", "--since", "0", "--webhook", "soc"]);
    assert!(
        replayed.contains(&format!("{} deliveries queued again", delivered.len())),
        "{replayed}"
    );
    wait_for(&data, "the replay", |s| counts(s, "soc").pending == 0);
    let again = soc.messages().iter().filter(|m| m.accepted).count();
    assert!(
        again >= accepted.len() + delivered.len(),
        "replayed with the same ids"
    );

    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("webhook delivery failed; will retry"),
        "failures are logged"
    );
    assert!(
        !log.contains(SECRET) && !log.contains(SECRET.trim_start_matches("whsec_")),
        "secrets are never logged"
    );
}

#[test]
fn sigkill_mid_delivery_loses_no_event_and_repeats_only_what_was_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    // Twenty deliveries go through, then one hangs until after the kill.
    let mut script = vec![Action::Accept; 20];
    script.push(Action::Block);
    let receiver = Receiver::start(script, false);
    let config = write_config(
        tmp.path(),
        &format!(
            r#"
[[webhooks]]
name = "soc"
url = "http://{}/"
secret_file = "soc.secret"
events = ["finding.created"]
filter = {{ archived = false }}
retry_base_ms = 20
retry_max_ms = 100
"#,
            receiver.addr
        ),
    );
    let data = tmp.path().join("data");
    let log = tmp.path().join("serve.log");
    let mut server = start(&data, &config, &log, 200);
    receiver.wait_blocked();
    // SIGKILL while a delivery is in flight (Child::kill sends SIGKILL).
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    receiver.release();
    let in_flight_max = 4; // `[outbox] concurrency`

    let _server = start(&data, &config, &log, 200);
    let store = gdlens_store::Store::open(&data).unwrap();
    let ids: HashSet<String> = store
        .latest_findings()
        .unwrap()
        .into_iter()
        .filter(|f| !f.archived)
        .map(|f| f.id)
        .collect();
    drop(store);
    wait_for(&data, "every delivery after the restart", |s| {
        let c = counts(s, "soc");
        c.pending == 0 && c.delivered as usize == ids.len() && s.outbox_backlog().unwrap() == 0
    });
    let messages = receiver.messages();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut subjects = HashSet::new();
    for m in &messages {
        assert!(verify(m));
        *seen.entry(m.id.clone()).or_default() += 1;
        let ev: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        subjects.insert(ev["subject"].as_str().unwrap().to_string());
    }
    assert_eq!(subjects, ids, "every finding's event arrived at least once");
    let twice = seen.values().filter(|&&n| n > 1).count();
    assert!(
        twice >= 1,
        "the delivery in flight at the kill is sent again"
    );
    assert!(
        twice <= in_flight_max,
        "only what was in flight repeats: {twice}"
    );
}

/// The repository root (examples/ lives there).
fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Python(Child);

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ticket_rules_open_one_ticket_per_match_through_the_example_receiver_and_link_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("soc.secret"), format!("{SECRET}\n")).unwrap();
    let tickets = tmp.path().join("tickets.json");
    // The example receiver; it loses its reply to the first two tickets it opens (as if it died
    // mid-reply), so gdlens retries those with the same webhook-id.
    let mut child = Command::new("python3")
        .arg(repo_root().join("examples/ticketing/receiver.py"))
        .args(["--port", "0", "--fail-after-create", "2", "--secret-file"])
        .arg(tmp.path().join("soc.secret"))
        .arg("--tickets")
        .arg(&tickets)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _receiver = Python(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let config = write_config(
        tmp.path(),
        &format!(
            r#"
[[webhooks]]
name = "tickets"
url = "http://{addr}/gdlens"
secret_file = "soc.secret"
retry_base_ms = 20
retry_max_ms = 100

[[ticket_rules]]
name = "critical-groups"
webhook = "tickets"
system = "standin"
group_severity_min = 7.0
account_criticality_min = "low"

[[ticket_rules]]
name = "severe-findings"
webhook = "tickets"
system = "standin"
filter = {{ severityMin = 8.0 }}
"#
        ),
    );
    let data = tmp.path().join("data");
    let log = tmp.path().join("serve.log");
    let server = start(&data, &config, &log, 300);
    wait_for(&data, "every ticket request", |s| {
        let c = counts(s, "tickets");
        c.pending == 0 && c.delivered > 0 && s.outbox_backlog().unwrap() == 0
    });
    let store = gdlens_store::Store::open(&data).unwrap();
    let requests = store
        .deliveries(&gdlens_store::DeliveryQuery {
            webhook: Some("tickets".into()),
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    let rules: HashSet<String> = requests
        .iter()
        .map(|d| {
            let e = store.outbox_event(d.event_id).unwrap().unwrap();
            e.detail["rule"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(rules.len(), 2, "both rules matched: {rules:?}");
    assert!(
        requests.iter().any(|d| d.attempts > 1),
        "a lost reply was retried"
    );
    let system: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tickets).unwrap()).unwrap();
    assert_eq!(
        system["tickets"].as_object().unwrap().len(),
        requests.len(),
        "one ticket per request, retries included"
    );
    for d in &requests {
        let key = system["messages"][&d.message_id].as_str().unwrap();
        let event = store.outbox_event(d.event_id).unwrap().unwrap();
        let ids: Vec<String> = serde_json::from_value(event.detail["findingIds"].clone()).unwrap();
        assert!(!ids.is_empty());
        let links = store.ticket_links(&ids).unwrap();
        for id in &ids {
            let link = links
                .iter()
                .find(|l| &l.finding_id == id && l.key == key)
                .unwrap_or_else(|| panic!("{id} linked to {key}"));
            assert_eq!(link.system, "standin");
            assert_eq!(
                link.url.as_deref(),
                Some(format!("https://tickets.example/browse/{key}").as_str())
            );
            assert_eq!(link.created_by, "webhook:tickets");
        }
    }
    drop(store);
    // A restart recomputes the group rules and requests nothing twice.
    drop(server);
    let _server = start(&data, &config, &log, 300);
    let store = gdlens_store::Store::open(&data).unwrap();
    assert_eq!(store.outbox_backlog().unwrap(), 0);
    assert_eq!(counts(&store, "tickets").delivered as usize, requests.len());
}

/// Two replicas on one PostgreSQL store, both running the delivery worker: every event is
/// delivered, and (nothing killed) each exactly once — the claims keep the replicas apart.
#[test]
fn two_replicas_on_postgres_deliver_each_event_exactly_once() {
    let db = gdlens_store::testing::test_database();
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(Vec::new(), false);
    let config = write_config(
        tmp.path(),
        &format!(
            r#"
[[webhooks]]
name = "soc"
url = "http://{}/"
secret_file = "soc.secret"
events = ["finding.created", "group.created"]
"#,
            receiver.addr
        ),
    );
    let replica = |name: &str| {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
            .args(["serve", "--no-demo", "--data-dir"])
            .arg(tmp.path().join(name))
            .arg("--config")
            .arg(&config)
            .args(["--listen", &addr, "--web-dir", "/nonexistent"])
            .env("GDLENS_STORE_URL", &db.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(300);
        while !matches!(http(&server.addr, "GET", "/readyz", ""), Some((200, _))) {
            assert!(Instant::now() < deadline, "replica not ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    };
    let _a = replica("a");
    let _b = replica("b");
    // `gdlens generate | gdlens import -` straight into the shared store: the events commit with
    // the import; both replicas follow it and race to deliver.
    let mut generate = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args([
            "generate",
            "--seed",
            "5",
            "--accounts",
            "12",
            "--regions",
            "2",
            "--findings",
            "400",
        ])
        .args(["--now", "2026-06-01T00:00:00Z", "--out", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    common::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_gdlens"))
            .args(["import", "--json", "--store-url", &db.url, "-"])
            .stdin(generate.stdout.take().unwrap()),
    );
    assert!(generate.wait().unwrap().success());

    let store = gdlens_store::Store::open_postgres(&db.url).unwrap();
    let expected: HashSet<String> = store
        .latest_findings()
        .unwrap()
        .into_iter()
        .filter(|f| !f.archived && !f.sample)
        .map(|f| f.id)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let c = counts(&store, "soc");
        let created: HashSet<String> = receiver
            .messages()
            .iter()
            .filter(|m| m.body.contains("com.gdlens.finding.created"))
            .map(|m| {
                serde_json::from_str::<serde_json::Value>(&m.body).unwrap()["subject"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        if c.pending == 0 && store.outbox_backlog().unwrap() == 0 && created == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out: {c:?}, {} of {} findings",
            created.len(),
            expected.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let messages = receiver.messages();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for m in &messages {
        assert!(verify(m));
        *seen.entry(m.id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.body.contains("com.gdlens.group.created")),
        "group events, announced once"
    );
    assert_eq!(seen.len() as u64, counts(&store, "soc").delivered);
}
