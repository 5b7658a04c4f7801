//! `gdlens serve`: the GraphQL API, GraphiQL, metrics and the web frontend over the embedded store.
//! With an empty store and no AWS configured, demo data is generated and imported first (through
//! the same ingest path as every other source) so a newcomer sees a populated dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use gdlens_api::adapters::StoreAdapter;
use gdlens_api::ports::IngestRecord;
use gdlens_api::{AppState, Config};
use gdlens_demo::{DemoOptions, Generator};

use super::DataDir;

/// Arguments of `gdlens serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data_dir: DataDir,
    /// Listen address (default: `[server] listen` from the config, else 127.0.0.1:8080).
    #[arg(long, env = "GDLENS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Configuration file (TOML: [server], [[tokens]], [[accounts]], [aws]); see docs/configuration.md.
    #[arg(long, env = "GDLENS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of the built web frontend (default: `[server] web_dir`, else web/dist).
    #[arg(long = "web-dir", env = "GDLENS_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Do not generate demo data into an empty store.
    #[arg(long)]
    pub no_demo: bool,
    /// Demo data: number of findings generated into an empty store.
    #[arg(long, default_value_t = 20_000)]
    pub demo_findings: usize,
    /// Demo data: generator seed (same seed, same findings).
    #[arg(long, default_value_t = 7)]
    pub demo_seed: u64,
}

/// Runs `gdlens serve` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &args.web_dir {
        config.server.web_dir = Some(dir.clone());
    }
    let listen: SocketAddr = match (args.listen, config.server.listen.as_deref()) {
        (Some(a), _) => a,
        (None, Some(s)) => s
            .parse()
            .with_context(|| format!("config `server.listen` = {s}"))?,
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, config, listen))
}

async fn serve(args: Args, config: Config, listen: SocketAddr) -> anyhow::Result<()> {
    let aws_configured = config.aws.is_some();
    // Refuse a public address without auth before doing any work.
    gdlens_api::check_listen_config(&config, listen)?;
    std::fs::create_dir_all(&args.data_dir.path).with_context(|| {
        format!(
            "cannot create data directory {}",
            args.data_dir.path.display()
        )
    })?;
    let store_url = config.store.url.clone();
    let store = Arc::new(open_store_blocking(&args.data_dir, store_url).await?);
    let aws = match &args.config {
        Some(path) if aws_configured => Some(
            super::serve_aws::AwsLink::connect(path, store.clone())
                .await
                .context("the [aws] table of the configuration")?,
        ),
        _ => None,
    };
    let correlator = gdlens_groups::Correlator::new(Default::default());
    let persist = config.server.startup_snapshot;
    let webhooks = gdlens_api::webhooks::Webhooks::new(store.clone(), &config)?;
    let mut state = AppState::new(
        config,
        Arc::new(StoreAdapter(store.clone())),
        correlator,
        aws.as_ref().map(|a| a.write_back()),
    )
    .with_webhooks(webhooks);
    // Only the embedded store: replicas on a shared store follow its change feed instead, and
    // another replica's change could land between our last apply and the snapshot.
    if persist && !store.is_shared() {
        state = state.with_startup_snapshot(&args.data_dir.path);
    }
    let state = Arc::new(state);
    if let Some(aws) = &aws {
        aws.attach(&state);
    }
    // Replicas on a shared store follow its change feed from the generation before the build.
    let feed = match state.store.change_feed() {
        Some(feed) => {
            let f = feed.clone();
            let from = tokio::task::spawn_blocking(move || f.head())
                .await?
                .map_err(|e| anyhow::anyhow!("reading the store's generation: {e}"))?;
            Some((feed, from))
        }
        None => None,
    };

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(addr = %listener.local_addr()?, "gdlens serving (GraphQL /graphql, GraphiQL /graphiql, web /)");

    // Build (and import demo data) in the background: /healthz answers at once, /readyz after.
    let builder = state.clone();
    let demo = (!args.no_demo && !aws_configured).then(|| demo_options(&args));
    let demo_store = store.clone();
    tokio::spawn(async move {
        match start_up(&builder, &demo_store, demo).await {
            Ok(()) => {
                if let Some((feed, from)) = feed {
                    if let Err(e) = gdlens_api::replica::spawn_follower(&builder, feed, from) {
                        tracing::error!(error = %e, "cannot start following the shared store");
                    }
                }
                builder.mark_ready();
                // The dashboard's first priority page or group list should not pay for it.
                builder.warm_all_view().await;
                // Periodic AWS sync starts once the initial build is in memory.
                if let Some(aws) = aws {
                    aws.spawn_periodic_sync(builder.clone());
                }
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "start-up build failed; /readyz stays 503")
            }
        }
    });

    gdlens_api::serve_on(state.clone(), listener, shutdown_signal()).await?;
    // Requests are drained: persist the state for a fast next start. Not with AWS sync, whose
    // commits reach the store before the index (their generation could be recorded early).
    if !aws_configured {
        state.save_startup_snapshot().await;
    }
    tracing::info!("gdlens stopped");
    Ok(())
}

/// Opens the store off the async threads (the PostgreSQL client blocks on its own runtime).
async fn open_store_blocking(
    data_dir: &super::DataDir,
    configured: Option<String>,
) -> anyhow::Result<gdlens_store::Store> {
    let data_dir = data_dir.clone();
    tokio::task::spawn_blocking(move || data_dir.open_store(configured.as_deref())).await?
}

/// Demo options for this run: the flags, "now" at today's UTC midnight like `gdlens generate`
/// (so the demo looks current and agrees with a `generate` run of the same day and seed).
fn demo_options(args: &Args) -> DemoOptions {
    DemoOptions {
        seed: args.demo_seed,
        findings: args.demo_findings,
        now_ms: super::generate::today_midnight_ms(),
        ..DemoOptions::default()
    }
}

/// Key in the store's local state under which the demo options are kept, so a restart on the
/// same data directory knows the demo accounts (names, owners, criticality) again.
pub(crate) const DEMO_STATE_KEY: &str = "demo.options";

async fn start_up(
    state: &Arc<AppState>,
    store: &Arc<gdlens_store::Store>,
    demo: Option<DemoOptions>,
) -> anyhow::Result<()> {
    let n = state
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    // Webhooks: the outbox is on before anything below writes; deliveries start now.
    if let Some(hooks) = &state.webhooks {
        hooks
            .prepare(state)
            .await
            .context("preparing the webhook outbox")?;
        hooks.spawn(state.clone());
        tracing::info!(webhooks = ?hooks.names(), "webhook delivery started");
    }
    let Some(opts) = demo else { return Ok(()) };
    if n == 0 {
        // An empty but working server beats one that never turns ready.
        if let Err(e) = import_demo(state, store, &opts).await {
            tracing::error!(error = %format!("{e:#}"), "demo data not imported; serving an empty store");
        }
    } else if let Some(saved) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.get_state(DEMO_STATE_KEY)).await??
    } {
        // Earlier demo data: bring its accounts back (configured accounts win).
        let saved = DemoOptions {
            now_ms: opts.now_ms,
            findings: opts.findings,
            ..saved_demo_options(&saved)
        };
        add_demo_accounts(state, &saved);
    }
    Ok(())
}

/// The demo options saved with earlier demo data (the organization's shape: seed, accounts,
/// regions); defaults for what is missing.
pub(crate) fn saved_demo_options(saved: &serde_json::Value) -> DemoOptions {
    let defaults = DemoOptions::default();
    DemoOptions {
        seed: saved["seed"].as_u64().unwrap_or(defaults.seed),
        accounts: saved["accounts"]
            .as_u64()
            .map_or(defaults.accounts, |n| n as usize),
        regions: saved["regions"]
            .as_u64()
            .map_or(defaults.regions, |n| n as usize),
        ..defaults
    }
}

/// Adds the demo organization's accounts that the configuration does not already name.
fn add_demo_accounts(state: &AppState, opts: &DemoOptions) {
    let known = state.snapshot().accounts.clone();
    let extra: Vec<_> = gdlens_demo::accounts(opts)
        .into_iter()
        .filter(|a| !known.contains_key(&a.id))
        .collect();
    state.set_accounts(extra);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}

/// Generates demo findings and imports them through the one ingest path, in batches, while a
/// generator thread keeps producing (bounded channel: memory does not grow with the count).
async fn import_demo(
    state: &Arc<AppState>,
    store: &Arc<gdlens_store::Store>,
    opts: &DemoOptions,
) -> anyhow::Result<()> {
    let generator =
        Generator::new(opts).map_err(|e| anyhow::anyhow!("demo options: {e} ({})", e.code()))?;
    let started = std::time::Instant::now();
    add_demo_accounts(state, opts);
    let investigations: Vec<gdlens_store::Investigation> = generator
        .investigations()
        .iter()
        .map(demo_investigation)
        .collect();
    const BATCH: usize = 2_000;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<IngestRecord>>>(2);
    std::thread::Builder::new()
        .name("demo-generator".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for demo in generator {
                // Serialize once and normalize those bytes, as an import does.
                let (finding, raw) = match demo.to_record() {
                    Ok(record) => record,
                    Err(e) => {
                        let _ = tx
                            .blocking_send(Err(anyhow::anyhow!("demo finding {}: {e}", demo.id())));
                        return;
                    }
                };
                batch.push(IngestRecord {
                    finding,
                    raw,
                    source: "demo".to_string(),
                });
                if batch.len() == BATCH
                    && tx
                        .blocking_send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))))
                        .is_err()
                {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = tx.blocking_send(Ok(batch));
            }
        })?;
    let (mut offered, mut changed) = (0, 0);
    while let Some(batch) = rx.recv().await {
        let report = state
            .ingest(batch?)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        offered += report.offered;
        changed += report.changed;
    }
    // Detective investigations of the planted credential stories and the organization's
    // coverage, stored as a sync stores them.
    let demo_state = serde_json::json!({
        "seed": opts.seed,
        "accounts": opts.accounts,
        "regions": opts.regions,
        "findings": opts.findings,
        "nowMs": opts.now_ms,
    });
    // Coverage of the demo organization, with its planted gaps, as a sync records it.
    let coverage = gdlens_demo::coverage(opts);
    let st = store.clone();
    tokio::task::spawn_blocking(move || -> Result<(), gdlens_store::StoreError> {
        st.replace_investigations(&investigations)?;
        for region in &coverage {
            st.replace_coverage(region)?;
        }
        st.put_state(DEMO_STATE_KEY, &demo_state)
    })
    .await??;
    tracing::info!(
        records = offered,
        changed,
        accounts = opts.accounts,
        seed = opts.seed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data generated and imported"
    );
    Ok(())
}

/// A demo Detective investigation (fixture shape) as the store keeps it: the related finding
/// ids and Detective finding-group ids read from its indicators, like a sync.
fn demo_investigation(v: &serde_json::Value) -> gdlens_store::Investigation {
    let text = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let time = |k: &str| gdlens_domain::time::parse_iso(&text(k));
    let indicators = v
        .get("Indicators")
        .cloned()
        .unwrap_or(serde_json::Value::Array(Vec::new()));
    let link = gdlens_groups::Investigation::from_indicators(
        &text("InvestigationId"),
        &text("EntityArn"),
        &indicators,
    );
    gdlens_store::Investigation {
        graph_arn: text("GraphArn"),
        investigation_id: text("InvestigationId"),
        entity_arn: text("EntityArn"),
        entity_type: text("EntityType"),
        status: text("Status"),
        severity: text("Severity"),
        state: text("State"),
        created_at: time("CreatedTime").unwrap_or(0),
        scope_start: time("ScopeStartTime"),
        scope_end: time("ScopeEndTime"),
        indicators_json: indicators.to_string(),
        related_finding_ids: link.finding_ids,
        related_finding_group_ids: link.finding_group_ids,
    }
}
