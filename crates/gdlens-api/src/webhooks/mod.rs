//! Signed webhooks over the store's durable outbox (docs/webhooks.md).
//!
//! ```text
//! upsert / set_triage ─(same transaction)─► outbox_events
//! AppState::write ─(groups touched, after commit)─► Store::record_groups ─► outbox_events
//! worker: pending events ─► filter (the index's compiled FindingFilter) + format ─► webhook_deliveries
//!         due deliveries (claimed) ─► POST, Standard Webhooks signature ─► delivered | retry | dead
//! ```
//!
//! At least once: a delivery is marked delivered only after the receiver answered 2xx, so a
//! crash (SIGKILL) between the POST and that mark sends it again with the same `webhook-id`,
//! which the receiver de-duplicates. Nothing is lost: events commit with their change, and
//! fan-out and delivery state are store rows. Group events come from the write path after the
//! commit; a crash in between is made good at the next start, which compares every group with
//! the severity last announced (`webhook_groups`) and announces what was missed.

pub mod config;
mod render;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use gdlens_domain::{Finding, FindingFilter, Scope};
use gdlens_groups::FindingGroup;
use gdlens_store::outbox::{
    AttemptResult, Delivery, GroupState, NewDelivery, TicketRequest, EVENT_TICKET_REQUESTED,
    EVENT_TRIAGE_CHANGED,
};
use gdlens_store::{Store, StoreError};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};

pub use config::{
    OutboxConfig, TicketRuleConfig, WebhookConfig, WebhookFormat, WebhookSecret, EVENTS,
};

use crate::config::{Config, ConfigError};
use crate::snapshot::Snapshot;
use crate::state::{now_ms, AppState};

/// Events read per fan-out step.
const FAN_OUT_BATCH: usize = 1_000;
/// Longest reply body kept (a ticket key and URL fit many times over).
const MAX_RESPONSE: usize = 4_096;
/// Upper bounds (seconds) of the attempt-duration histogram.
const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// `local_state` key: the groups of this store were recorded once (later starts announce).
const GROUPS_SEEDED: &str = "webhooks.groups_seeded";

/// `webhook-signature` for a message: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<sha2_11::Sha256> as KeyInit>::new_from_slice(key)
        .expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// One ticket rule, its filter parsed.
#[derive(Debug, Clone)]
struct Rule {
    config: TicketRuleConfig,
    filter: Option<FindingFilter>,
}

impl Rule {
    /// Whether an account of this criticality qualifies.
    fn account_ok(&self, snap: &Snapshot, account_id: &str) -> bool {
        self.config.account_criticality_min.is_none_or(|min| {
            snap.accounts
                .get(account_id)
                .is_some_and(|a| a.criticality >= min)
        })
    }

    /// The request for a group this (group) rule matches.
    fn group_request(&self, snap: &Snapshot, g: &FindingGroup) -> Option<TicketRequest> {
        let min = self.config.group_severity_min?;
        if g.severity < min || !g.accounts.iter().any(|a| self.account_ok(snap, a)) {
            return None;
        }
        let group = group_state(g).detail;
        Some(TicketRequest {
            rule: self.config.name.clone(),
            subject: g.id.clone(),
            detail: json!({
                "rule": self.config.name,
                "webhook": self.config.webhook,
                "system": self.config.system,
                "title": g.title,
                "severity": g.severity,
                "findingIds": g.finding_ids,
                "group": group,
            }),
        })
    }
}

/// One configured webhook, ready to deliver.
struct Hook {
    config: WebhookConfig,
    filter: FindingFilter,
    key: WebhookSecret,
    client: reqwest::Client,
    stats: HookStats,
}

#[derive(Debug, Default)]
struct HookStats {
    delivered: AtomicU64,
    failed_attempts: AtomicU64,
    dead_lettered: AtomicU64,
    latency_micros: AtomicU64,
    latency_count: AtomicU64,
    /// Attempt durations by [`LATENCY_BUCKETS`] (not cumulative; summed when rendered).
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    /// Fan-out to delivered, summed over delivered ones (how far behind the receiver is).
    lag_millis: AtomicU64,
    queue_depth: AtomicU64,
}

/// The webhooks of a server: fan-out, delivery worker, metrics.
pub struct Webhooks {
    store: Arc<Store>,
    hooks: Vec<Hook>,
    outbox: OutboxConfig,
    wake: tokio::sync::Notify,
    wants_groups: bool,
    rules: Vec<Rule>,
    backlog: AtomicU64,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field(
                "hooks",
                &self
                    .hooks
                    .iter()
                    .map(|h| &h.config.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What one [`Webhooks::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Events fanned out.
    pub dispatched: usize,
    /// Events left for later (their finding is not in this server's index yet).
    pub deferred: usize,
    /// Delivery attempts made.
    pub attempted: usize,
}

/// The result of `gdlens webhooks test`.
#[derive(Debug, Clone)]
pub struct TestDelivery {
    /// The webhook id sent.
    pub message_id: String,
    /// HTTP status, or the transport error.
    pub outcome: Result<u16, String>,
}

impl Webhooks {
    /// The webhooks of `config` over `store` (`None` without `[[webhooks]]`). Secrets must have
    /// been read ([`Config::load`]).
    pub fn new(store: Arc<Store>, config: &Config) -> Result<Option<Arc<Self>>, ConfigError> {
        if config.webhooks.is_empty() {
            return Ok(None);
        }
        let mut hooks = Vec::new();
        for (i, c) in config.webhooks.iter().enumerate() {
            let key = format!("webhooks[{i}]");
            let secret = c.secret.clone().ok_or_else(|| {
                ConfigError::invalid(format!("{key}.secret_file"), "the secret was not read")
            })?;
            let client = reqwest::Client::builder()
                .timeout(Duration::from_millis(c.timeout_ms))
                .user_agent(concat!("gdlens-webhooks/", env!("CARGO_PKG_VERSION")))
                // A redirect would re-send the signed body elsewhere: treat it as a failure.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| ConfigError::invalid(key.clone(), e.to_string()))?;
            hooks.push(Hook {
                filter: c.finding_filter(&key)?,
                config: c.clone(),
                key: secret,
                client,
                stats: HookStats::default(),
            });
        }
        let wants_groups = hooks
            .iter()
            .any(|h| h.config.events.iter().any(|e| e.starts_with("group.")));
        let mut rules = Vec::new();
        for (i, r) in config.ticket_rules.iter().enumerate() {
            rules.push(Rule {
                filter: r.finding_filter(&format!("ticket_rules[{i}]"))?,
                config: r.clone(),
            });
        }
        Ok(Some(Arc::new(Webhooks {
            store,
            hooks,
            outbox: config.outbox.clone(),
            wake: tokio::sync::Notify::new(),
            wants_groups,
            rules,
            backlog: AtomicU64::new(0),
        })))
    }

    /// Names of the configured webhooks.
    pub fn names(&self) -> Vec<String> {
        self.hooks.iter().map(|h| h.config.name.clone()).collect()
    }

    /// Before the worker starts, after the index is built: turns the outbox on, drops claims of
    /// a previous process (embedded store), and records every active group: silently the first
    /// time, announcing what a crash left unannounced afterwards.
    pub async fn prepare(self: &Arc<Self>, state: &Arc<AppState>) -> Result<(), StoreError> {
        let me = self.clone();
        let snap = state.snapshot();
        tokio::task::spawn_blocking(move || {
            me.store.set_outbox_enabled(true)?;
            me.store.release_claims()?;
            if me.wants_groups {
                let groups: Vec<GroupState> = snap
                    .groups
                    .active()
                    .iter()
                    .map(|g| group_state(g))
                    .collect();
                let announce = me.store.get_state(GROUPS_SEEDED)?.is_some();
                let n = me.store.record_groups(&groups, announce)?;
                me.store.put_state(GROUPS_SEEDED, &json!(true))?;
                if n > 0 {
                    tracing::info!(events = n, "group events recomputed at start");
                }
            }
            // Group ticket rules over every group: what a crash left unrequested is requested
            // now; a rule's first start records the groups it already matches silently.
            for rule in me.rules.iter().filter(|r| r.config.group_severity_min.is_some()) {
                let requests: Vec<TicketRequest> = snap
                    .groups
                    .active()
                    .iter()
                    .filter_map(|g| rule.group_request(&snap, g))
                    .collect();
                let key = format!("webhooks.ticket_rule_seeded.{}", rule.config.name);
                let announce = me.store.get_state(&key)?.is_some();
                let n = me.store.request_tickets(&requests, announce)?;
                me.store.put_state(&key, &json!(true))?;
                if n > 0 {
                    tracing::info!(rule = %rule.config.name, tickets = n, "ticket requests recomputed at start");
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::InvalidInput(e.to_string()))?
    }

    /// Runs the worker until the process ends.
    pub fn spawn(self: &Arc<Self>, state: Arc<AppState>) {
        let me = self.clone();
        tokio::spawn(async move {
            let poll = Duration::from_millis(me.outbox.poll_interval_ms.max(10));
            loop {
                let step = me.run_once(&state).await;
                if step.attempted >= me.outbox.concurrency.max(1)
                    || step.dispatched >= FAN_OUT_BATCH
                {
                    continue; // more is waiting
                }
                tokio::select! {
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
    }

    /// The write path's hook: records the groups holding `ids` (group events), wakes the worker.
    pub(crate) fn on_write(&self, next: &Snapshot, ids: &[&str], findings_changed: bool) {
        let group_rules = self
            .rules
            .iter()
            .any(|r| r.config.group_severity_min.is_some());
        if (self.wants_groups || group_rules) && findings_changed {
            let mut seen = std::collections::HashSet::new();
            let touched: Vec<&Arc<FindingGroup>> = ids
                .iter()
                .filter_map(|id| next.index.row_id(id))
                .filter_map(|row| next.groups.of_row(row))
                .filter(|g| g.active && seen.insert(g.id.clone()))
                .collect();
            if self.wants_groups && !touched.is_empty() {
                let groups: Vec<GroupState> = touched.iter().map(|g| group_state(g)).collect();
                if let Err(e) = self.store.record_groups(&groups, true) {
                    // Made good at the next start (see the module docs).
                    tracing::warn!(error = %e, code = e.code(), "group events not written; recomputed at the next start");
                }
            }
            let requests: Vec<TicketRequest> = self
                .rules
                .iter()
                .flat_map(|r| touched.iter().filter_map(move |g| r.group_request(next, g)))
                .collect();
            if !requests.is_empty() {
                if let Err(e) = self.store.request_tickets(&requests, true) {
                    tracing::warn!(error = %e, code = e.code(), "ticket requests not written; recomputed at the next start");
                }
            }
        }
        self.wake.notify_one();
    }

    /// One step: fan out pending events, then attempt the deliveries that are due.
    pub async fn run_once(&self, state: &AppState) -> StepReport {
        let mut report = StepReport::default();
        let snap = state.snapshot();
        match self.fan_out_blocking(snap).await {
            Ok((d, deferred)) => {
                report.dispatched = d;
                report.deferred = deferred;
            }
            Err(e) => tracing::warn!(error = %e, "webhook fan-out failed; retrying"),
        }
        report.attempted = self.deliver_due(state).await;
        self.refresh_gauges().await;
        report
    }

    async fn fan_out_blocking(&self, snap: Arc<Snapshot>) -> Result<(usize, usize), StoreError> {
        // The store calls block: run them where blocking is allowed, on a clone of what they need.
        let store = self.store.clone();
        let plan: Vec<(String, FindingFilter, Vec<String>, WebhookConfig)> = self
            .hooks
            .iter()
            .map(|h| {
                (
                    h.config.name.clone(),
                    h.filter.clone(),
                    h.config.events.clone(),
                    h.config.clone(),
                )
            })
            .collect();
        let source = self.outbox.source.clone();
        let rules = self.rules.clone();
        tokio::task::spawn_blocking(move || fan_out(&store, &snap, &plan, &rules, &source))
            .await
            .map_err(|e| StoreError::InvalidInput(e.to_string()))?
    }

    async fn deliver_due(&self, state: &AppState) -> usize {
        let claim_ms = self
            .hooks
            .iter()
            .map(|h| h.config.timeout_ms)
            .max()
            .unwrap_or(10_000) as i64
            + 30_000;
        let store = self.store.clone();
        let limit = self.outbox.concurrency.max(1);
        let claimed = match tokio::task::spawn_blocking(move || {
            store.claim_deliveries(now_ms(), claim_ms, limit)
        })
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot claim webhook deliveries; retrying");
                return 0;
            }
            Err(_) => return 0,
        };
        let n = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|d| self.attempt(d, state))).await;
        n
    }

    async fn attempt(&self, d: Delivery, state: &AppState) {
        let Some(hook) = self.hooks.iter().find(|h| h.config.name == d.webhook) else {
            let result = AttemptResult::Failed {
                error: "webhook no longer configured".into(),
                next_attempt_at: None,
            };
            self.finish(&d, result).await;
            return;
        };
        let started = Instant::now();
        let mut outcome = post(hook, &d.message_id, &d.body).await;
        if d.kind == EVENT_TICKET_REQUESTED {
            if let Ok(reply) = &outcome {
                // The ticket is linked before the delivery counts as done: a crash in between
                // re-sends the same webhook-id, the receiver answers the same key, and the link
                // is idempotent.
                if let Err(e) = self.link_ticket(state, &d, reply.as_deref()).await {
                    outcome = Err(e);
                }
            }
        }
        let micros = started.elapsed().as_micros() as u64;
        hook.stats
            .latency_micros
            .fetch_add(micros, Ordering::Relaxed);
        hook.stats.latency_count.fetch_add(1, Ordering::Relaxed);
        let secs = micros as f64 / 1e6;
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            hook.stats.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let result = match outcome {
            Ok(response) => {
                hook.stats.delivered.fetch_add(1, Ordering::Relaxed);
                let lag = (now_ms() - d.created_at).max(0) as u64;
                hook.stats.lag_millis.fetch_add(lag, Ordering::Relaxed);
                tracing::debug!(webhook = %hook.config.name, id = %d.message_id, "webhook delivered");
                AttemptResult::Delivered { response }
            }
            Err(error) => {
                hook.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                let attempts = d.attempts + 1;
                let next = (attempts < hook.config.max_attempts)
                    .then(|| now_ms() + backoff_ms(&hook.config, attempts) as i64);
                if next.is_none() {
                    hook.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(webhook = %hook.config.name, id = %d.message_id, attempts, error = %error, "webhook delivery dead-lettered");
                } else {
                    tracing::info!(webhook = %hook.config.name, id = %d.message_id, attempts, error = %error, "webhook delivery failed; will retry");
                }
                AttemptResult::Failed {
                    error,
                    next_attempt_at: next,
                }
            }
        };
        self.finish(&d, result).await;
    }

    /// Links the ticket a receiver answered (`{"key", "url"}`; Jira's `self` as the URL) to the
    /// findings of the request, through the `linkTicket` write path.
    async fn link_ticket(
        &self,
        state: &AppState,
        d: &Delivery,
        reply: Option<&str>,
    ) -> Result<(), String> {
        let reply: Value = reply
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or(Value::Null);
        let Some(key) = reply["key"]
            .as_str()
            .filter(|k| !k.trim().is_empty())
            .map(str::to_string)
        else {
            return Err("reply without a ticket key (expected {\"key\": …, \"url\": …})".into());
        };
        let url = reply["url"]
            .as_str()
            .or(reply["self"].as_str())
            .map(str::to_string);
        let store = self.store.clone();
        let event_id = d.event_id;
        let event = tokio::task::spawn_blocking(move || store.outbox_event(event_id))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the ticket request: {e}"))?
            .ok_or("the ticket request event is gone")?;
        let ids: Vec<String> =
            serde_json::from_value(event.detail["findingIds"].clone()).unwrap_or_default();
        let system = event.detail["system"]
            .as_str()
            .unwrap_or("ticket")
            .to_string();
        let actor = format!("webhook:{}", d.webhook);
        let (k, u) = (key.clone(), url.clone());
        state
            .with_store(move |s| s.link_ticket(&ids, &system, &k, u.as_deref(), &actor, now_ms()))
            .await
            .map_err(|e| format!("cannot link ticket {key}: {}", e.message))?;
        state.bump();
        tracing::info!(webhook = %d.webhook, id = %d.message_id, ticket = %key, "ticket linked");
        Ok(())
    }

    async fn finish(&self, d: &Delivery, result: AttemptResult) {
        let store = self.store.clone();
        let id = d.id;
        let done =
            tokio::task::spawn_blocking(move || store.finish_delivery(id, now_ms(), &result)).await;
        if let Ok(Err(e)) = done {
            // The claim expires and the delivery is attempted again (same id): at least once.
            tracing::warn!(error = %e, id = %d.message_id, "cannot record a webhook attempt");
        }
    }

    async fn refresh_gauges(&self) {
        let store = self.store.clone();
        let Ok(Ok((counts, backlog))) = tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((store.delivery_counts()?, store.outbox_backlog()?))
        })
        .await
        else {
            return;
        };
        for h in &self.hooks {
            let pending = counts
                .iter()
                .find(|c| c.webhook == h.config.name)
                .map_or(0, |c| c.pending);
            h.stats.queue_depth.store(pending, Ordering::Relaxed);
        }
        self.backlog.store(backlog, Ordering::Relaxed);
    }

    /// Sends a signed `com.gdlens.webhook.test` event to `name` now (not through the outbox).
    pub async fn send_test(&self, name: &str) -> Option<TestDelivery> {
        let hook = self.hooks.iter().find(|h| h.config.name == name)?;
        let message_id = format!("msg_test_{}", now_ms());
        let view = render::EventView {
            message_id: &message_id,
            kind: "webhook.test",
            subject: name,
            at: now_ms(),
            data: json!({ "webhook": name, "test": true }),
            summary: format!("test event for webhook {name}"),
            severity: None,
        };
        let body = render::body(&hook.config, &self.outbox.source, &view).to_string();
        let outcome = match send(hook, &message_id, &body).await {
            Ok(r) => Ok(r.status().as_u16()),
            Err(e) => Err(e),
        };
        Some(TestDelivery {
            message_id,
            outcome,
        })
    }

    /// Prometheus text for `/metrics`.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let metric = |out: &mut String,
                      name: &str,
                      kind: &str,
                      help: &str,
                      f: &dyn Fn(&HookStats) -> String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for h in &self.hooks {
                let _ = writeln!(
                    out,
                    "{name}{{webhook=\"{}\"}} {}",
                    h.config.name,
                    f(&h.stats)
                );
            }
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        metric(
            out,
            "gdlens_webhook_delivered_total",
            "counter",
            "Webhook deliveries the receiver accepted (2xx).",
            &|s| load(&s.delivered),
        );
        metric(
            out,
            "gdlens_webhook_failed_attempts_total",
            "counter",
            "Webhook delivery attempts that failed (non-2xx, timeout, connection).",
            &|s| load(&s.failed_attempts),
        );
        metric(
            out,
            "gdlens_webhook_dead_lettered_total",
            "counter",
            "Webhook deliveries that used up their attempts.",
            &|s| load(&s.dead_lettered),
        );
        metric(
            out,
            "gdlens_webhook_queue_depth",
            "gauge",
            "Webhook deliveries waiting (pending in the store).",
            &|s| load(&s.queue_depth),
        );
        let name = "gdlens_webhook_attempt_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Webhook delivery attempt latency (request to reply).\n# TYPE {name} histogram");
        for h in &self.hooks {
            let (w, s) = (&h.config.name, &h.stats);
            let mut cumulative = 0;
            for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
                cumulative += s.latency_buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "{name}_bucket{{webhook=\"{w}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let count = s.latency_count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{webhook=\"{w}\",le=\"+Inf\"}} {count}");
            let sum = s.latency_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "{name}_sum{{webhook=\"{w}\"}} {sum}\n{name}_count{{webhook=\"{w}\"}} {count}"
            );
        }
        metric(
            out,
            "gdlens_webhook_delivery_lag_seconds_sum",
            "counter",
            "Fan-out to accepted delivery, summed over delivered ones (divide by delivered_total).",
            &|s| (s.lag_millis.load(Ordering::Relaxed) as f64 / 1e3).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP gdlens_webhook_outbox_backlog Outbox events not yet fanned out.\n# TYPE gdlens_webhook_outbox_backlog gauge\ngdlens_webhook_outbox_backlog {}",
            self.backlog.load(Ordering::Relaxed)
        );
    }
}

/// POSTs a signed body; `Ok(reply)` on 2xx, else why it failed (never the URL: it can hold a
/// token, as Slack's do).
async fn post(hook: &Hook, message_id: &str, body: &str) -> Result<Option<String>, String> {
    let response = send(hook, message_id, body).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    let text = response.text().await.unwrap_or_default();
    Ok((!text.is_empty()).then(|| text.chars().take(MAX_RESPONSE).collect()))
}

async fn send(hook: &Hook, message_id: &str, body: &str) -> Result<reqwest::Response, String> {
    let timestamp = now_ms() / 1000;
    let signature = sign(hook.key.key(), message_id, timestamp, body);
    hook.client
        .post(&hook.config.url)
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header(
            reqwest::header::CONTENT_TYPE,
            render::content_type(hook.config.format),
        )
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".to_string()
            } else {
                format!("connection failed: {}", e.without_url())
            }
        })
}

/// Exponential backoff with jitter: `base · 2^(attempts-1)`, capped, then a random point in its
/// upper half (replicas and receivers coming back are not hit in lockstep).
fn backoff_ms(hook: &WebhookConfig, attempts: u32) -> u64 {
    let exp = hook
        .retry_base_ms
        .saturating_mul(1u64 << (attempts.saturating_sub(1)).min(30));
    let delay = exp.min(hook.retry_max_ms.max(hook.retry_base_ms));
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    delay / 2 + random % (delay / 2 + 1)
}

/// A group as its events describe it.
fn group_state(g: &FindingGroup) -> GroupState {
    GroupState {
        id: g.id.clone(),
        severity: g.severity,
        detail: json!({
            "id": g.id,
            "title": g.title,
            "severity": g.severity,
            "score": g.score,
            "firstSeen": g.first_seen,
            "lastSeen": g.last_seen,
            "accountIds": g.accounts,
            "regions": g.regions,
            "tactics": g.tactics.iter().map(|t| t.name).collect::<Vec<_>>(),
            "findingCount": g.finding_ids.len(),
            "findingIds": g.finding_ids.iter().take(100).collect::<Vec<_>>(),
        }),
    }
}

/// A finding as its events describe it.
fn finding_data(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "arn": f.arn,
        "accountId": f.account_id,
        "region": f.region,
        "type": f.finding_type,
        "severity": f.severity,
        "title": f.title,
        "description": f.description,
        "createdAt": f.created_at,
        "updatedAt": f.updated_at,
        "count": f.count,
        "archived": f.archived,
        "resourceType": f.resource_type,
        "resourceKey": f.resource_key,
    })
}

/// Fans pending events out into deliveries, in one store transaction per batch.
fn fan_out(
    store: &Store,
    snap: &Snapshot,
    hooks: &[(String, FindingFilter, Vec<String>, WebhookConfig)],
    rules: &[Rule],
    source: &str,
) -> Result<(usize, usize), StoreError> {
    let events = store.pending_events(FAN_OUT_BATCH)?;
    if events.is_empty() {
        return Ok((0, 0));
    }
    let compiled: Vec<_> = hooks
        .iter()
        .map(|(_, filter, _, _)| snap.index.compile(filter, &Scope::All))
        .collect();
    let rule_filters: Vec<_> = rules
        .iter()
        .map(|r| {
            r.filter
                .as_ref()
                .map(|f| snap.index.compile(f, &Scope::All))
        })
        .collect();
    let mut tickets = Vec::new();
    let finding_ids: Vec<String> = events
        .iter()
        .filter(|e| !e.kind.starts_with("group.") && e.kind != EVENT_TICKET_REQUESTED)
        .map(|e| e.subject.clone())
        .collect();
    let findings: HashMap<String, Finding> = store
        .latest_by_id(&finding_ids)?
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect();
    let mut done = Vec::with_capacity(events.len());
    let mut deliveries = Vec::new();
    let mut deferred = 0;
    for ev in &events {
        if ev.kind == EVENT_TICKET_REQUESTED {
            // Decided when it was requested: to the rule's webhook, whatever its filter.
            let webhook = ev.detail["webhook"].as_str().unwrap_or_default();
            if let Some((name, _, _, config)) = hooks.iter().find(|h| h.0 == webhook) {
                let message_id = gdlens_store::outbox::message_id(ev.id, name);
                let view = render::EventView {
                    message_id: &message_id,
                    kind: &ev.kind,
                    subject: &ev.subject,
                    at: ev.at,
                    data: ev.detail.clone(),
                    summary: ev.detail["title"]
                        .as_str()
                        .unwrap_or(&ev.subject)
                        .to_string(),
                    severity: ev.detail["severity"].as_f64(),
                };
                deliveries.push(NewDelivery {
                    event_id: ev.id,
                    webhook: name.clone(),
                    kind: ev.kind.clone(),
                    subject: ev.subject.clone(),
                    body: render::body(config, source, &view).to_string(),
                });
            }
            done.push(ev.id);
            continue;
        }
        let (rows, data, summary, severity): (Vec<u32>, Value, String, Option<f64>) = if ev
            .kind
            .starts_with("group.")
        {
            let ids: Vec<String> = match snap.groups.get(&ev.subject) {
                Some(g) => g.finding_ids.clone(),
                None => serde_json::from_value(ev.detail["findingIds"].clone()).unwrap_or_default(),
            };
            let rows = ids.iter().filter_map(|id| snap.index.row_id(id)).collect();
            let title = ev.detail["title"]
                .as_str()
                .unwrap_or(&ev.subject)
                .to_string();
            let severity = ev.detail["severity"].as_f64();
            (rows, ev.detail.clone(), title, severity)
        } else {
            // Not in this server's index yet (committed, not yet applied, or written by
            // another process): wait, so the filter is judged on the finding itself.
            let (Some(row), Some(f)) = (snap.index.row_id(&ev.subject), findings.get(&ev.subject))
            else {
                deferred += 1;
                continue;
            };
            let mut data = json!({ "finding": finding_data(f) });
            if ev.kind == EVENT_TRIAGE_CHANGED {
                data["triage"] = ev.detail.clone();
            } else {
                // Finding ticket rules: judged on the finding as created or updated.
                for (rule, compiled) in rules.iter().zip(&rule_filters) {
                    let Some(compiled) = compiled else { continue };
                    if compiled.matches(row) && rule.account_ok(snap, &f.account_id) {
                        tickets.push(TicketRequest {
                            rule: rule.config.name.clone(),
                            subject: f.id.clone(),
                            detail: json!({
                                "rule": rule.config.name,
                                "webhook": rule.config.webhook,
                                "system": rule.config.system,
                                "title": f.title,
                                "severity": f.severity,
                                "findingIds": [f.id],
                                "finding": finding_data(f),
                            }),
                        });
                    }
                }
            }
            (vec![row], data, f.title.clone(), Some(f.severity))
        };
        for (i, (name, _, events, config)) in hooks.iter().enumerate() {
            if !events.contains(&ev.kind) || !rows.iter().any(|&r| compiled[i].matches(r)) {
                continue;
            }
            let message_id = gdlens_store::outbox::message_id(ev.id, name);
            let view = render::EventView {
                message_id: &message_id,
                kind: &ev.kind,
                subject: &ev.subject,
                at: ev.at,
                data: data.clone(),
                summary: summary.clone(),
                severity,
            };
            deliveries.push(NewDelivery {
                event_id: ev.id,
                webhook: name.clone(),
                kind: ev.kind.clone(),
                subject: ev.subject.clone(),
                body: render::body(config, source, &view).to_string(),
            });
        }
        done.push(ev.id);
    }
    // Requested before the events are marked dispatched: a crash in between requests them
    // again, which (rule, finding) being unique makes a no-op.
    if !tickets.is_empty() {
        store.request_tickets(&tickets, true)?;
    }
    if !done.is_empty() {
        store.dispatch_events(&done, &deliveries)?;
    }
    Ok((done.len(), deferred))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own example.
    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        let key = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            key.key(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_doubles_within_its_cap_with_jitter() {
        let hook: WebhookConfig = toml::from_str(
            "name = \"h\"\nurl = \"https://x\"\nsecret_env = \"S\"\nevents = [\"finding.created\"]\nretry_base_ms = 1000\nretry_max_ms = 5000",
        )
        .unwrap();
        for _ in 0..50 {
            let first = backoff_ms(&hook, 1);
            assert!((500..=1000).contains(&first), "{first}");
            let third = backoff_ms(&hook, 3);
            assert!((2000..=4000).contains(&third), "{third}");
            let capped = backoff_ms(&hook, 20);
            assert!((2500..=5000).contains(&capped), "{capped}");
        }
    }
}
