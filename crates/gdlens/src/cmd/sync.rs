//! `gdlens sync`: one incremental sync of GuardDuty findings (and Detective investigations)
//! from every configured region into the store.
//!
//! Exit status: 0 when at least one region synced (the others are reported in the table / JSON
//! and recorded as sync status), 1 when no region synced, or with `--strict` when any failed.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use gdlens_aws::{AwsConfig, AwsSource, SyncSink};

/// Arguments of `gdlens sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// Config file (TOML); only its `[aws]` table is read here.
    #[arg(long, env = "GDLENS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Regions to sync, comma-separated (overrides the config).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Regions synced at the same time.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Upper bound on AWS requests per second, all regions together.
    #[arg(long = "max-rps")]
    pub max_rps: Option<f64>,
    /// One endpoint URL for both GuardDuty and Detective (a local fixture server).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Skip Detective investigations.
    #[arg(long)]
    pub no_detective: bool,
    /// Exit non-zero when any region failed (default: only when none synced).
    #[arg(long)]
    pub strict: bool,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Builds the effective settings: the config file's `[aws]` table, then the flags.
pub fn settings(args: &Args) -> anyhow::Result<AwsConfig> {
    let mut config = match &args.config {
        Some(path) => AwsConfig::load(path)
            .with_context(|| format!("reading {}", path.display()))?
            .unwrap_or_default(),
        None => AwsConfig::default(),
    };
    if !args.regions.is_empty() {
        config.regions = args
            .regions
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
    }
    if let Some(n) = args.concurrency {
        config.concurrency = n;
    }
    if let Some(rps) = args.max_rps {
        config.max_requests_per_second = rps;
    }
    if let Some(url) = &args.endpoint_url {
        config.endpoint_url_guardduty = Some(url.clone());
        config.endpoint_url_detective = Some(url.clone());
    }
    if args.no_detective {
        config.detective = false;
    }
    if config.regions.is_empty() {
        anyhow::bail!("no regions to sync: pass --regions r1,r2 or set regions in the [aws] table of --config");
    }
    config
        .validate()
        .map_err(|m| anyhow::anyhow!("invalid sync settings: {m}"))?;
    Ok(config)
}

/// Runs `gdlens sync`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let config = settings(&args)?;
    let store = args.data_dir.open_store(None)?;
    let sink: Arc<dyn SyncSink> = Arc::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (report, detective) = runtime.block_on(async {
        let detective_on = config.detective;
        let source = AwsSource::from_default_chain(config).await;
        let report = source.sync(sink.clone(), None, None).await;
        let detective = if detective_on {
            let reachable: Vec<String> = report.succeeded().map(|r| r.region.clone()).collect();
            Some(
                source
                    .sync_investigations(sink.clone(), Some(&reachable))
                    .await,
            )
        } else {
            None
        };
        (report, detective)
    });
    if args.json {
        let doc = serde_json::json!({ "sync": report, "detective": detective });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", report.table());
        for d in detective.iter().flatten() {
            match &d.error {
                None => println!(
                    "detective {}: {} graph(s), {} investigation(s)",
                    d.region, d.graphs, d.investigations
                ),
                Some(e) => println!("detective {}: {}: {}", d.region, e.code.as_str(), e.message),
            }
        }
    }
    let failed: Vec<String> = report
        .failed()
        .map(|r| {
            format!(
                "{} ({})",
                r.region,
                r.error.as_ref().map_or("", |e| e.code.as_str())
            )
        })
        .collect();
    if report.succeeded().count() == 0 {
        anyhow::bail!("no region synced: {}", failed.join(", "));
    }
    if args.strict && !failed.is_empty() {
        anyhow::bail!("regions not synced: {}", failed.join(", "));
    }
    Ok(())
}
