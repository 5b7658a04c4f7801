//! `gdlens dev …`: developer tools.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use gdlens_aws_fixture::{load_findings, region_of_finding, FaultKind, FaultRule, FixtureState};

/// Developer subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run a local GuardDuty/Detective-compatible server serving findings from files.
    AwsFixture(AwsFixtureArgs),
}

/// Arguments of `gdlens dev aws-fixture`.
#[derive(Debug, clap::Args)]
pub struct AwsFixtureArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:4580")]
    pub listen: SocketAddr,
    /// Findings file (NDJSON, JSON array or `{"findings":[…]}`); `REGION=FILE` serves the whole
    /// file in REGION, plain `FILE` serves each finding in its own `region`. Repeatable.
    #[arg(long)]
    pub findings: Vec<String>,
    /// A region with a detector even if no finding names it. Repeatable.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// A region where GuardDuty is not enabled. Repeatable.
    #[arg(long)]
    pub no_detector: Vec<String>,
    /// A region answering 403 AccessDenied. Repeatable.
    #[arg(long)]
    pub access_denied: Vec<String>,
    /// Detective investigations `REGION=FILE` (JSON array, GetInvestigation shape + `Indicators`).
    #[arg(long)]
    pub investigations: Vec<String>,
    /// Member accounts `REGION=FILE` (JSON array of ListMembers `Member` objects); a member with a
    /// `features` list (GetMemberDetectors shape) has a detector GetMemberDetectors reports.
    #[arg(long)]
    pub members: Vec<String>,
    /// Delay added to every reply.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Throttle (429) every Nth request.
    #[arg(long)]
    pub throttle_every: Option<u64>,
    /// Answer 500 to every Nth request.
    #[arg(long)]
    pub error_every: Option<u64>,
    /// Make every Nth ListFindings page overlap the next one (repeated nextToken).
    #[arg(long)]
    pub repeat_token_every: Option<u64>,
}

fn split_region(spec: &str) -> (Option<&str>, PathBuf) {
    match spec.split_once('=') {
        Some((region, file)) if !region.is_empty() && !region.contains('/') => {
            (Some(region), PathBuf::from(file))
        }
        _ => (None, PathBuf::from(spec)),
    }
}

/// Builds the fixture state from the arguments.
pub fn fixture_state(args: &AwsFixtureArgs) -> anyhow::Result<FixtureState> {
    let mut builder = FixtureState::builder();
    let mut total = 0;
    for spec in &args.findings {
        let (region, path) = split_region(spec);
        let raws = load_findings(&path).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let mut by_region: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (i, raw) in raws.into_iter().enumerate() {
            let r = match region {
                Some(r) => r.to_string(),
                None => region_of_finding(&raw).with_context(|| {
                    format!(
                        "{}: finding #{} has no region; use REGION=FILE",
                        path.display(),
                        i + 1
                    )
                })?,
            };
            by_region.entry(r).or_default().push(raw);
        }
        for (r, raws) in by_region {
            total += raws.len();
            builder = builder.region_raw(&r, None, raws);
        }
    }
    for r in &args.regions {
        builder = builder.region(r, None, vec![]);
    }
    for r in &args.no_detector {
        builder = builder.no_detector(r);
    }
    for r in &args.access_denied {
        builder = builder.access_denied(r);
    }
    for spec in &args.investigations {
        let (region, path) = split_region(spec);
        let region = region.context("--investigations takes REGION=FILE")?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let list: Vec<serde_json::Value> = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected a JSON array", path.display()))?;
        let graph = format!("arn:aws:detective:{region}:000000000000:graph:fixture");
        builder = builder.detective(region, &graph, list);
    }
    for spec in &args.members {
        let (region, path) = split_region(spec);
        let region = region.context("--members takes REGION=FILE")?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut list: Vec<serde_json::Value> = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected a JSON array", path.display()))?;
        let mut features = Vec::new();
        for m in &mut list {
            let account = m["accountId"].as_str().unwrap_or_default().to_string();
            if let Some(f) = m.as_object_mut().and_then(|o| o.remove("features")) {
                let f = f.as_array().cloned().unwrap_or_default();
                features.push((account, f));
            }
        }
        builder = builder.members(region, list);
        for (account, f) in features {
            builder = builder.member_features(region, &account, f);
        }
    }
    if let Some(n) = args.throttle_every {
        builder = builder.fault(FaultRule::new(FaultKind::Throttle, n));
    }
    if let Some(n) = args.error_every {
        builder = builder.fault(FaultRule::new(FaultKind::ServerError, n));
    }
    if let Some(n) = args.repeat_token_every {
        builder = builder.fault(FaultRule::new(FaultKind::RepeatNextToken, n));
    }
    tracing::info!(findings = total, "fixture data loaded");
    Ok(builder
        .latency(Duration::from_millis(args.latency_ms))
        .build())
}

/// Runs a developer subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::AwsFixture(args) => {
            let state = fixture_state(&args)?;
            if !args.listen.ip().is_loopback() {
                tracing::warn!(listen = %args.listen, "the fixture has no authentication; prefer a loopback address");
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("binding {}", args.listen))?;
                let addr = listener.local_addr()?;
                for r in state.regions() {
                    eprintln!("region {r}: {} findings, detector {}", state.finding_count(&r), state.detector_id(&r).unwrap_or_default());
                }
                eprintln!("GuardDuty/Detective fixture on http://{addr}");
                eprintln!(
                    "try: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test gdlens sync --endpoint-url http://{addr} --regions {}",
                    state.regions().join(",")
                );
                tokio::select! {
                    served = gdlens_aws_fixture::serve(listener, state) => served.context("fixture server failed"),
                    _ = tokio::signal::ctrl_c() => Ok(()),
                }
            })
        }
    }
}
