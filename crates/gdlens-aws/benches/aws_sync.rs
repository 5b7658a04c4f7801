//! Sync throughput against the local GuardDuty fixture (a benchmark, never a test).
//!
//! R regions × N findings (gdlens-demo data, spread evenly over the regions), L ms added to
//! every reply. For each concurrency setting: a full first sync into a fresh SQLite store,
//! findings/s, CPU seconds, and the peak number of requests the fixture saw in any one-second
//! window. Then runs with rate caps low enough to bind (on R regions × `--capped-findings`, so
//! that a cap of 20 req/s does not take half an hour), peak against `max_requests_per_second`.
//!
//! Requests are counted on both ends: as they leave the rate limiter for the HTTP client (a
//! recording client under the limiter) and as they arrive at the fixture. The fixture runs on a
//! runtime (and thread) of its own, so that its arrival timestamps are not delayed by the sync's
//! own tasks; the two still share the machine's cores.
//!
//! ```text
//! cargo bench -p gdlens-aws --bench aws_sync -- [--regions 10] [--findings 20000] [--latency-ms 20]
//!     [--concurrency 1,2,4,8,10] [--max-rps 2000]
//!     [--capped-rps 20,100] [--capped-findings 4000] [--capped-concurrency 10]
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use gdlens_aws::transport::default_https_client;
use gdlens_aws::{AwsConfig, AwsSource, SyncSink};
use gdlens_aws_fixture::{serve, FixtureServer};
use gdlens_demo::{DemoOptions, Generator, REGIONS};
use gdlens_store::Store;
use serde_json::Value;

struct Args {
    regions: usize,
    findings: usize,
    latency_ms: u64,
    concurrency: Vec<usize>,
    max_rps: f64,
    capped_rps: Vec<f64>,
    capped_findings: usize,
    capped_concurrency: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        regions: 10,
        findings: 20_000,
        latency_ms: 20,
        concurrency: vec![1, 2, 4, 8, 10],
        max_rps: 2000.0,
        capped_rps: vec![20.0, 100.0],
        capped_findings: 4_000,
        capped_concurrency: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` passes `--bench`; libtest-style filters are not used here.
        if flag == "--bench" {
            continue;
        }
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--regions" => args.regions = value()?.parse()?,
            "--findings" => args.findings = value()?.parse()?,
            "--latency-ms" => args.latency_ms = value()?.parse()?,
            "--concurrency" => {
                args.concurrency = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--max-rps" => args.max_rps = value()?.parse()?,
            "--capped-rps" => {
                let v = value()?;
                args.capped_rps = if v.is_empty() || v == "0" {
                    Vec::new()
                } else {
                    v.split(',').map(str::parse).collect::<Result<_, _>>()?
                };
            }
            "--capped-findings" => args.capped_findings = value()?.parse()?,
            "--capped-concurrency" => args.capped_concurrency = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.regions == 0 || args.regions > REGIONS.len() {
        bail!("--regions must be 1..={}", REGIONS.len());
    }
    Ok(args)
}

/// `regions × per_region` distinct findings: the latest version of each demo finding, dealt to
/// the regions in turn (`region` and the ARN's region rewritten), so every region holds exactly
/// `per_region`.
fn demo_findings(regions: &[&str], per_region: usize) -> anyhow::Result<Vec<Vec<Value>>> {
    let wanted = regions.len() * per_region;
    // Some records are later versions of earlier ids: ask for a margin.
    let opts = DemoOptions {
        findings: wanted + wanted / 5 + 100,
        regions: 1,
        ..DemoOptions::default()
    };
    let mut order: Vec<String> = Vec::with_capacity(wanted);
    let mut latest: HashMap<String, Value> = HashMap::with_capacity(opts.findings);
    for record in Generator::new(&opts)? {
        let id = record.id().to_string();
        if latest.insert(id.clone(), record.to_value()).is_none() {
            order.push(id);
        }
    }
    if order.len() < wanted {
        bail!(
            "the demo generator gave {} distinct findings, {wanted} wanted",
            order.len()
        );
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::with_capacity(per_region); regions.len()];
    for (i, id) in order.into_iter().take(wanted).enumerate() {
        let region = regions[i % regions.len()];
        let mut f = latest.remove(&id).context("id just listed")?;
        f["region"] = region.into();
        if let Some(arn) = f["arn"].as_str() {
            let mut parts: Vec<&str> = arn.split(':').collect();
            if parts.len() > 3 {
                parts[3] = region;
            }
            f["arn"] = parts.join(":").into();
        }
        out[i % regions.len()].push(f);
    }
    Ok(out)
}

/// Serves `state` from a thread with a runtime of its own; returns the endpoint URL.
fn spawn_fixture(state: FixtureServer) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    std::thread::Builder::new()
        .name("fixture".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("fixture runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                serve(listener, state).await.expect("fixture server");
            });
        })?;
    Ok(endpoint)
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`; the
/// fixture's share is included.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // Linux reports in USER_HZ, 100 on every mainstream configuration.
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

/// The default HTTP client, noting when each request is handed to it (just after the rate
/// limiter let it through).
#[derive(Debug, Clone)]
struct RecordingClient {
    inner: SharedHttpClient,
    sent: Arc<Mutex<Vec<Instant>>>,
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    sent: Arc<Mutex<Vec<Instant>>>,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.sent.lock().unwrap().push(Instant::now());
        self.inner.call(request)
    }
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
            sent: self.sent.clone(),
        })
    }
}

/// The most instants in any half-open window of `window`.
fn peak_in_window(times: &mut [Instant], window: Duration) -> usize {
    times.sort_unstable();
    let (mut best, mut start) = (0, 0);
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

async fn source(config: AwsConfig, sent: Arc<Mutex<Vec<Instant>>>) -> AwsSource {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "AKIDGDLENSBENCH",
            "gdlens-bench-secret",
            None,
            None,
            "gdlens-bench",
        ))
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let http = RecordingClient {
        inner: default_https_client(),
        sent,
    };
    AwsSource::with_http_client(config, sdk, SharedHttpClient::new(http))
}

struct Run {
    concurrency: usize,
    max_rps: f64,
    findings: u64,
    seconds: f64,
    cpu_seconds: f64,
    requests: u64,
    /// Peaks as requests left the limiter.
    sent_peak_1s: usize,
    sent_peak_10s: usize,
    /// Peaks as requests arrived at the fixture.
    peak_1s: usize,
    peak_10s: usize,
}

async fn run(
    state: &FixtureServer,
    endpoint: &str,
    regions: &[&str],
    concurrency: usize,
    max_rps: f64,
    expected: u64,
) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path())?);
    let config = AwsConfig {
        regions: regions.iter().map(|r| r.to_string()).collect(),
        concurrency,
        max_requests_per_second: max_rps,
        endpoint_url_guardduty: Some(endpoint.to_string()),
        endpoint_url_detective: Some(endpoint.to_string()),
        detective: false,
        ..AwsConfig::default()
    };
    let sent = Arc::new(Mutex::new(Vec::new()));
    let source = source(config, sent.clone()).await;
    state.reset_counters();
    let sink: Arc<dyn SyncSink> = store.clone();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = source.sync(sink, None, None).await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu;
    if let Some(failed) = report.failed().next() {
        bail!("{} did not sync: {:?}", failed.region, failed.error);
    }
    let stored = store.count()?;
    if stored != expected || report.fetched() != expected {
        bail!(
            "stored {stored}, fetched {}, expected {expected}",
            report.fetched()
        );
    }
    let mut sent = std::mem::take(&mut *sent.lock().unwrap());
    Ok(Run {
        sent_peak_1s: peak_in_window(&mut sent, Duration::from_secs(1)),
        sent_peak_10s: peak_in_window(&mut sent, Duration::from_secs(10)),
        concurrency,
        max_rps,
        findings: stored,
        seconds,
        cpu_seconds,
        requests: state.total_requests(),
        peak_1s: state.max_requests_in_window(Duration::from_secs(1)),
        peak_10s: state.max_requests_in_window(Duration::from_secs(10)),
    })
}

const HEADER: &str = "| concurrency | max rps | findings | wall s | findings/s | CPU s | CPU µs/finding | requests | mean rps | sent: peak in 1 s | sent: peak in 10 s ÷ 10 | arrived: peak in 1 s | arrived: peak in 10 s ÷ 10 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn print_row(r: &Run) {
    println!(
        "| {} | {} | {} | {:.1} | {:.0} | {:.1} | {:.0} | {} | {:.1} | {} | {:.1} | {} | {:.1} |",
        r.concurrency,
        r.max_rps,
        r.findings,
        r.seconds,
        r.findings as f64 / r.seconds,
        r.cpu_seconds,
        r.cpu_seconds * 1e6 / r.findings as f64,
        r.requests,
        r.requests as f64 / r.seconds,
        r.sent_peak_1s,
        r.sent_peak_10s as f64 / 10.0,
        r.peak_1s,
        r.peak_10s as f64 / 10.0
    );
}

/// A fixture serving the first `take` findings of each region.
fn fixture_of(
    per_region: impl IntoIterator<Item = Vec<Value>>,
    regions: &[&str],
    take: usize,
    latency_ms: u64,
) -> FixtureServer {
    let mut builder = FixtureServer::builder().latency(Duration::from_millis(latency_ms));
    for (region, mut findings) in regions.iter().zip(per_region) {
        findings.truncate(take);
        builder = builder.region(region, None, findings);
    }
    builder.build()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let regions: Vec<&str> = REGIONS[..args.regions].to_vec();
    let generated = Instant::now();
    let per_region = demo_findings(&regions, args.findings.max(args.capped_findings))?;
    let generation_seconds = generated.elapsed().as_secs_f64();
    let total = (args.regions * args.findings) as u64;
    let raw_bytes: usize = per_region
        .iter()
        .flat_map(|r| r.iter().take(args.findings))
        .map(|f| f.to_string().len())
        .sum();
    // The capped runs' smaller copy first; the full set then moves into the main fixture (the
    // fixture keeps each finding twice, as JSON tree and text: memory is what limits R × N).
    let capped_state = (!args.capped_rps.is_empty()).then(|| {
        let subset = per_region
            .iter()
            .map(|r| r[..args.capped_findings].to_vec());
        fixture_of(subset, &regions, args.capped_findings, args.latency_ms)
    });
    let state = fixture_of(per_region, &regions, args.findings, args.latency_ms);
    let endpoint = spawn_fixture(state.clone())?;
    println!(
        "{} regions × {} findings ({total} total, {:.2} KB each on average, generated in {generation_seconds:.1} s), {} ms added per call",
        args.regions,
        args.findings,
        raw_bytes as f64 / total as f64 / 1000.0,
        args.latency_ms
    );
    println!();
    println!("{HEADER}");
    for &c in &args.concurrency {
        let r = run(&state, &endpoint, &regions, c, args.max_rps, total).await?;
        print_row(&r);
    }
    let Some(capped_state) = capped_state else {
        return Ok(());
    };
    let capped_total = (args.regions * args.capped_findings) as u64;
    let capped_endpoint = spawn_fixture(capped_state.clone())?;
    println!();
    println!(
        "Rate caps: {} regions × {} findings, concurrency {}",
        args.regions, args.capped_findings, args.capped_concurrency
    );
    println!();
    println!("{HEADER}");
    let mut verdicts = Vec::new();
    for &cap in &args.capped_rps {
        let r = run(
            &capped_state,
            &capped_endpoint,
            &regions,
            args.capped_concurrency,
            cap,
            capped_total,
        )
        .await?;
        print_row(&r);
        verdicts.push(format!(
            "cap {cap} req/s: sent at most {} in any 1 s window and {:.1}/s in the busiest 10 s; the fixture saw at most {} arrive in 1 s ({:+.0} %) and {:.1}/s in the busiest 10 s; {:.1} req/s over the run",
            r.sent_peak_1s,
            r.sent_peak_10s as f64 / 10.0,
            r.peak_1s,
            (r.peak_1s as f64 / cap - 1.0) * 100.0,
            r.peak_10s as f64 / 10.0,
            r.requests as f64 / r.seconds
        ));
    }
    println!();
    for v in verdicts {
        println!("{v}");
    }
    Ok(())
}
