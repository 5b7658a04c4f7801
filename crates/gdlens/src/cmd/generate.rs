//! `gdlens generate`: deterministic demo findings (NDJSON, GetFindings shape), the truth about
//! the planted stories, and the account config.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gdlens_demo::DemoOptions;

/// Arguments of `gdlens generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seed: the same arguments give the same bytes.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Number of AWS accounts in the organization.
    #[arg(long, default_value_t = 60)]
    pub accounts: usize,
    /// Number of regions in use.
    #[arg(long, default_value_t = 4)]
    pub regions: usize,
    /// Number of finding records to write (updated versions included).
    #[arg(long, default_value_t = 20_000)]
    pub findings: usize,
    /// Timestamps fall within this many days before `--now`.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// "Now" as RFC 3339 (default: today's UTC midnight, so a day's runs agree).
    #[arg(long)]
    pub now: Option<String>,
    /// Output NDJSON file, or `-` for stdout.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the planted stories and decoys (finding ids) as JSON here.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Also write the accounts (name, owner, criticality) as TOML here.
    #[arg(long = "account-config")]
    pub account_config: Option<PathBuf>,
}

/// Today's UTC midnight in epoch ms (the default "now" of demo data, here and in `serve`).
pub(crate) fn today_midnight_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    now - now.rem_euclid(86_400_000)
}

/// Writes `bytes` to `path` through a temporary sibling, so a failed run leaves nothing half-written.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let result = write(&mut file).and_then(|()| file.sync_all().map_err(Into::into));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("writing {}", path.display())));
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Runs `gdlens generate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let now_ms = match &args.now {
        Some(s) => gdlens_domain::time::parse_iso(s).with_context(|| {
            format!("--now: `{s}` is not an RFC 3339 timestamp (e.g. 2026-01-01T00:00:00Z)")
        })?,
        None => today_midnight_ms(),
    };
    let opts = DemoOptions {
        seed: args.seed,
        accounts: args.accounts,
        regions: args.regions,
        findings: args.findings,
        days: args.days,
        now_ms,
    };
    opts.validate()
        .map_err(|e| anyhow::anyhow!("{e} [{}]", e.code()))?;

    let truth = if args.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        gdlens_demo::write_ndjson(&opts, stdout.lock())?
    } else {
        let mut truth = None;
        write_atomically(&args.out, |file| {
            truth = Some(gdlens_demo::write_ndjson(&opts, &mut *file)?);
            Ok(())
        })?;
        truth.context("generator returned no truth")?
    };
    if let Some(path) = &args.truth {
        write_atomically(path, |file| {
            serde_json::to_writer_pretty(&mut *file, &truth)?;
            file.write_all(b"\n")?;
            Ok(())
        })?;
    }
    if let Some(path) = &args.account_config {
        let toml = gdlens_demo::account_config_toml(&gdlens_demo::accounts(&opts))?;
        write_atomically(path, |file| Ok(file.write_all(toml.as_bytes())?))?;
    }
    tracing::info!(
        findings = opts.findings,
        stories = truth.stories.len(),
        decoys = truth.decoys.len(),
        "generated demo data"
    );
    Ok(())
}
