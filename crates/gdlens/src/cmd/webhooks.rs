//! `gdlens webhooks`: the configured webhooks and their deliveries (docs/webhooks.md). `list`
//! prints each webhook with its delivery counts, `test` sends a signed test event now,
//! `replay --since T` sends deliveries again (same webhook id), `dead-letter` lists (and with
//! `--retry` re-queues) the deliveries that used up their attempts. A running server picks
//! re-queued deliveries up at its next poll.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use gdlens_api::webhooks::Webhooks;
use gdlens_api::Config;
use gdlens_store::{DeliveryQuery, Store};

/// `gdlens webhooks …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Each configured webhook: URL host, format, events, and its deliveries by status.
    List(Common),
    /// Send a signed `com.gdlens.webhook.test` event to NAME now (not through the outbox).
    Test(TestArgs),
    /// Send every delivery fanned out since T again, with the same webhook id.
    Replay(ReplayArgs),
    /// Deliveries that used up their attempts (newest first); `--retry` queues them again.
    DeadLetter(DeadLetterArgs),
}

/// The data directory (or store URL) and the config file.
#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// Configuration file holding the `[[webhooks]]`.
    #[arg(long, env = "GDLENS_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Arguments of `gdlens webhooks test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub common: Common,
    /// The webhook's name.
    pub name: String,
}

/// Arguments of `gdlens webhooks replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub common: Common,
    /// From when: RFC 3339 (`2026-12-05T09:00:00Z`) or epoch milliseconds.
    #[arg(long)]
    pub since: String,
    /// Only this webhook's deliveries.
    #[arg(long)]
    pub webhook: Option<String>,
}

/// Arguments of `gdlens webhooks dead-letter`.
#[derive(Debug, clap::Args)]
pub struct DeadLetterArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only this webhook's.
    #[arg(long)]
    pub webhook: Option<String>,
    /// Queue them again (attempts start over, same webhook id).
    #[arg(long)]
    pub retry: bool,
    /// At most this many listed.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// Runs a `gdlens webhooks` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List(c) => list(c),
        Command::Test(a) => test(a),
        Command::Replay(a) => replay(a),
        Command::DeadLetter(a) => dead_letter(a),
    }
}

fn config(common: &Common) -> anyhow::Result<Config> {
    Ok(match &common.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    })
}

fn open(common: &Common, config: &Config) -> anyhow::Result<Store> {
    common.data_dir.open_store(config.store.url.as_deref())
}

fn list(c: Common) -> anyhow::Result<()> {
    let config = config(&c)?;
    let store = open(&c, &config)?;
    let counts = store.delivery_counts()?;
    println!(
        "{:<20} {:<12} {:<28} {:>8} {:>10} {:>6}  events",
        "NAME", "FORMAT", "HOST", "PENDING", "DELIVERED", "DEAD"
    );
    for w in &config.webhooks {
        // The host only: a webhook URL's path or query can be a credential (Slack's are).
        let host = reqwest_host(&w.url);
        let n = counts
            .iter()
            .find(|x| x.webhook == w.name)
            .cloned()
            .unwrap_or_default();
        println!(
            "{:<20} {:<12} {:<28} {:>8} {:>10} {:>6}  {}",
            w.name,
            w.format.as_str(),
            host,
            n.pending,
            n.delivered,
            n.dead,
            w.events.join(",")
        );
    }
    for n in counts
        .iter()
        .filter(|n| !config.webhooks.iter().any(|w| w.name == n.webhook))
    {
        println!(
            "{:<20} {:<12} {:<28} {:>8} {:>10} {:>6}  (no longer configured)",
            n.webhook, "-", "-", n.pending, n.delivered, n.dead
        );
    }
    println!(
        "outbox events not yet fanned out: {}",
        store.outbox_backlog()?
    );
    Ok(())
}

fn reqwest_host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .map(|h| h.rsplit('@').next().unwrap_or(h).to_string())
        .unwrap_or_default()
}

fn test(a: TestArgs) -> anyhow::Result<()> {
    let config = config(&a.common)?;
    if !config.webhooks.iter().any(|w| w.name == a.name) {
        bail!("no webhook named `{}` in the configuration", a.name);
    }
    let store = Arc::new(open(&a.common, &config)?);
    let hooks = Webhooks::new(store, &config)?.context("no [[webhooks]] configured")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sent = runtime
        .block_on(hooks.send_test(&a.name))
        .context("webhook not found")?;
    match sent.outcome {
        Ok(status) if (200..300).contains(&status) => {
            println!("{}: delivered {} (HTTP {status})", a.name, sent.message_id);
            Ok(())
        }
        Ok(status) => bail!(
            "{}: the receiver answered HTTP {status} to {}",
            a.name,
            sent.message_id
        ),
        Err(e) => bail!("{}: {e}", a.name),
    }
}

/// Parses RFC 3339 or epoch milliseconds.
fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let t = chrono::DateTime::parse_from_rfc3339(s).with_context(|| {
        format!("`{s}`: expected RFC 3339 (2026-12-05T09:00:00Z) or epoch milliseconds")
    })?;
    Ok(t.timestamp_millis())
}

fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let since = parse_time(&a.since)?;
    let config = config(&a.common)?;
    let store = open(&a.common, &config)?;
    let n = store.replay_deliveries(since, a.webhook.as_deref(), false)?;
    println!("{n} deliveries queued again (same webhook ids)");
    Ok(())
}

fn dead_letter(a: DeadLetterArgs) -> anyhow::Result<()> {
    let config = config(&a.common)?;
    let store = open(&a.common, &config)?;
    let dead = store.deliveries(&DeliveryQuery {
        status: Some(gdlens_store::outbox::STATUS_DEAD.into()),
        webhook: a.webhook.clone(),
        since: None,
        limit: a.limit,
    })?;
    for d in &dead {
        println!(
            "{}\t{}\t{}\t{}\tattempts={}\t{}",
            d.message_id,
            d.webhook,
            d.kind,
            d.subject,
            d.attempts,
            d.last_error.as_deref().unwrap_or("")
        );
    }
    if a.retry {
        let n = store.replay_deliveries(i64::MIN, a.webhook.as_deref(), true)?;
        println!("{n} dead-lettered deliveries queued again");
    } else {
        println!("{} dead-lettered deliveries", dead.len());
    }
    Ok(())
}
