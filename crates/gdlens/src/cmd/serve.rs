//! `gdlens serve`: the GraphQL API, GraphiQL, metrics and the web frontend over the embedded store.
//! With an empty store and no AWS configured, demo data is generated and imported first (through
//! the same ingest path as every other source) so a newcomer sees a populated dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use gdlens_api::adapters::{CorrelatorAdapter, StoreAdapter};
use gdlens_api::{AppState, Config};

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
    let store = gdlens_store::Store::open(&args.data_dir.path)
        .with_context(|| format!("cannot open the store in {}", args.data_dir.path.display()))?;
    let correlator = gdlens_groups::Correlator::new(Default::default());
    let state = Arc::new(AppState::new(
        config,
        Arc::new(StoreAdapter::new(store)),
        Box::new(CorrelatorAdapter::new(correlator)),
        None,
    ));

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(addr = %listener.local_addr()?, "gdlens serving (GraphQL /graphql, GraphiQL /graphiql, web /)");

    // Build (and import demo data) in the background: /healthz answers at once, /readyz after.
    let builder = state.clone();
    let demo = !args.no_demo && !aws_configured;
    let demo_findings = args.demo_findings;
    tokio::spawn(async move {
        match start_up(&builder, demo, demo_findings).await {
            Ok(()) => builder.mark_ready(),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "start-up build failed; /readyz stays 503")
            }
        }
    });

    gdlens_api::serve_on(state, listener, shutdown_signal()).await?;
    tracing::info!("gdlens stopped");
    Ok(())
}

async fn start_up(state: &Arc<AppState>, demo: bool, demo_findings: usize) -> anyhow::Result<()> {
    let n = state
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if n == 0 && demo {
        // An empty but working server beats one that never turns ready.
        if let Err(e) = import_demo(state, demo_findings).await {
            tracing::error!(error = %format!("{e:#}"), "demo data not imported; serving an empty store");
        }
    }
    Ok(())
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

/// Generates demo findings and imports them through the ingest path.
async fn import_demo(_state: &Arc<AppState>, _findings: usize) -> anyhow::Result<()> {
    anyhow::bail!("the demo data generator (gdlens-demo) is not available in this build; import findings with `gdlens import` first")
}
