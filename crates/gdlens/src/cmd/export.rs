//! `gdlens export`: writes the store's findings as NDJSON (the original GuardDuty JSON), CSV or
//! OCSF Detection Findings, to a file or stdout. Same selection and bytes as `GET /export`
//! (gdlens_api::export); docs/export.md describes the formats.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use gdlens_api::adapters::StoreAdapter;
use gdlens_api::export::{export_from_store, parse_filter_json, ExportFormat};
use gdlens_domain::Scope;

/// Arguments of `gdlens export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// `ndjson` (original GuardDuty JSON), `csv` (RFC 4180) or `ocsf` (Detection Finding 2004).
    #[arg(long, value_parser = ["ndjson", "csv", "ocsf"])]
    pub format: String,
    /// A GraphQL `FindingFilter` as JSON, e.g. '{"severityMin":7,"accountIds":["111122223333"]}'.
    #[arg(long, value_name = "JSON")]
    pub filter: Option<String>,
    /// Output file, or `-` for stdout (the default).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub out: PathBuf,
    /// The server's config file: its `[sla]` targets decide `"overdue"` in `--filter`
    /// (defaults without it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs the export.
pub fn run(args: Args) -> anyhow::Result<()> {
    let format = ExportFormat::parse(&args.format)
        .with_context(|| format!("unknown format `{}`", args.format))?;
    let filter = parse_filter_json(args.filter.as_deref().unwrap_or(""))
        .map_err(|e| anyhow::anyhow!("--filter: {}", e.message))?;
    let config = args
        .config
        .as_deref()
        .map(gdlens_api::config::Config::load)
        .transpose()?;
    let sla = config
        .as_ref()
        .map_or_else(gdlens_domain::SlaTargets::default, |c| c.sla.targets());
    let store = args
        .data_dir
        .open_store(config.as_ref().and_then(|c| c.store.url.as_deref()))?;
    let store = StoreAdapter(Arc::new(store));
    let mut out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?,
        )
    };
    let mut io_error = None;
    let started = std::time::Instant::now();
    let rows = export_from_store(
        &store,
        &Scope::All,
        &filter,
        sla,
        format,
        &mut |chunk| match out.write_all(&chunk) {
            Ok(()) => true,
            Err(e) => {
                io_error = Some(e);
                false
            }
        },
    )
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if let Some(e) = io_error {
        // A closed pipe (`| head`) is a normal end for a CLI.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write the export");
        }
    }
    out.flush().context("cannot write the export")?;
    tracing::info!(
        rows,
        format = args.format.as_str(),
        secs = started.elapsed().as_secs_f64(),
        "exported"
    );
    Ok(())
}
