//! `gdlens suppress`: suppression rules (GuardDuty filters) as code. `add` saves a gdlens rule
//! (criteria validated against GuardDuty's limits), `list` prints the stored rules, `export`
//! prints one as a GuardDuty `CreateFilter` request, Terraform or CloudFormation
//! (docs/suppression.md); `apply` / `unapply` / `sync-filters` talk to GuardDuty through the
//! delegated administrator. Dry runs and suggestions need the finding groups: use the GraphQL API.

use std::path::PathBuf;

use anyhow::{bail, Context};
use gdlens_store::{NewSuppressionRule, Store, SuppressionRuleRow, ORIGIN_GDLENS};
use gdlens_suppress::{export, ExportFormat, FilterAction, FindingCriteria, SuppressionRule};

/// `gdlens suppress …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Save a gdlens suppression rule (replaces a gdlens rule of the same name).
    Add(AddArgs),
    /// List the stored rules (gdlens's own and those synced from GuardDuty).
    List(ListArgs),
    /// Print a rule as code.
    Export(ExportArgs),
    /// Create or update a gdlens rule as a GuardDuty filter in every configured region
    /// (delegated administrator credentials). Audited.
    Apply(AwsArgs),
    /// Delete a filter of that name in every configured region. Audited.
    Unapply(AwsArgs),
    /// Read every region's filters (ListFilters + GetFilter) into the store.
    SyncFilters(SyncFiltersArgs),
}

/// The AWS side: the `[aws]` table of a config file, overridden by flags.
#[derive(Debug, clap::Args)]
pub struct AwsSettings {
    /// Config file (TOML); only its `[aws]` table is read here.
    #[arg(long, env = "GDLENS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Regions, comma-separated (overrides the config).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// GuardDuty endpoint URL (a local fixture server).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

/// Arguments of `gdlens suppress apply` / `unapply`.
#[derive(Debug, clap::Args)]
pub struct AwsArgs {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// The gdlens rule's name.
    pub rule: String,
    #[command(flatten)]
    pub aws: AwsSettings,
}

/// Arguments of `gdlens suppress sync-filters`.
#[derive(Debug, clap::Args)]
pub struct SyncFiltersArgs {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    #[command(flatten)]
    pub aws: AwsSettings,
}

fn aws_config(a: &AwsSettings) -> anyhow::Result<gdlens_aws::AwsConfig> {
    let mut config = match &a.config {
        Some(path) => gdlens_aws::AwsConfig::load(path)
            .with_context(|| format!("reading {}", path.display()))?
            .unwrap_or_default(),
        None => gdlens_aws::AwsConfig::default(),
    };
    if !a.regions.is_empty() {
        config.regions = a
            .regions
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
    }
    if let Some(url) = &a.endpoint_url {
        config.endpoint_url_guardduty = Some(url.clone());
    }
    config.detective = false;
    if config.regions.is_empty() {
        bail!("no regions: pass --regions r1,r2 or set regions in the [aws] table of --config");
    }
    config
        .validate()
        .map_err(|m| anyhow::anyhow!("invalid AWS settings: {m}"))?;
    Ok(config)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn actor() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

/// Prints one line per region; fails when any region failed.
fn region_lines(reports: Vec<gdlens_aws::RegionFilterReport>, rule: &str) -> anyhow::Result<()> {
    let mut failed = 0;
    for r in reports {
        match r.result {
            Ok(change) => println!("{}	{rule}	{change:?}", r.region),
            Err(e) => {
                failed += 1;
                println!(
                    "{}	{rule}	error {}: {}",
                    r.region,
                    e.code.as_str(),
                    e.message
                );
            }
        }
    }
    if failed > 0 {
        bail!("{failed} region(s) failed");
    }
    Ok(())
}

/// Arguments of `gdlens suppress add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// Filter name (3–64 letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// GuardDuty `findingCriteria` JSON, or `@FILE` to read it from a file.
    #[arg(long, value_name = "JSON|@FILE")]
    pub criteria: String,
    /// Rank among the detector's filters (1–100).
    #[arg(long, default_value_t = 1)]
    pub rank: u32,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
}

/// Arguments of `gdlens suppress list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub data_dir: super::DataDir,
}

/// Arguments of `gdlens suppress export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// The rule: its name (a gdlens rule first, else a synced one) or its id.
    pub rule: String,
    /// `guardduty` (CreateFilter request), `terraform` (aws_guardduty_filter) or
    /// `cloudformation` (AWS::GuardDuty::Filter).
    #[arg(long, value_parser = ["guardduty", "terraform", "cloudformation"])]
    pub format: String,
    /// Detector id to fill in (otherwise a placeholder, a Terraform variable or a CloudFormation
    /// parameter; a synced rule uses its own detector).
    #[arg(long)]
    pub detector_id: Option<String>,
    /// Output file, or `-` for stdout (the default).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub out: PathBuf,
}

fn open(dir: &super::DataDir) -> anyhow::Result<Store> {
    Store::open(&dir.path)
        .with_context(|| format!("cannot open the store in {}", dir.path.display()))
}

fn criteria_text(arg: &str) -> anyhow::Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {path}")),
        None => Ok(arg.to_string()),
    }
}

fn rule_of(row: &SuppressionRuleRow) -> anyhow::Result<SuppressionRule> {
    let criteria: serde_json::Value =
        serde_json::from_str(&row.criteria).context("stored criteria are not JSON")?;
    Ok(SuppressionRule {
        name: row.name.clone(),
        description: row.description.clone(),
        action: if row.action == "NOOP" {
            FilterAction::Noop
        } else {
            FilterAction::Archive
        },
        rank: row.rank,
        criteria: FindingCriteria::parse(&criteria)
            .map_err(|e| anyhow::anyhow!("stored criteria: {} ({e})", e.code()))?,
    })
}

/// Runs a `suppress` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Apply(a) => {
            let config = aws_config(&a.aws)?;
            let rules = open(&a.data_dir)?.suppression_rules()?;
            let Some(row) = rules
                .iter()
                .find(|r| r.origin == ORIGIN_GDLENS && r.name == a.rule)
            else {
                bail!(
                    "no gdlens rule named `{}` (see `gdlens suppress list`)",
                    a.rule
                );
            };
            let rule = rule_of(row)?;
            let reports = runtime()?.block_on(async {
                let source = gdlens_aws::AwsSource::from_default_chain(config).await;
                source.apply_filter_everywhere(&rule, &actor()).await
            });
            region_lines(reports, &a.rule)?;
        }
        Command::Unapply(a) => {
            let config = aws_config(&a.aws)?;
            let reports = runtime()?.block_on(async {
                let source = gdlens_aws::AwsSource::from_default_chain(config).await;
                source.delete_filter_everywhere(&a.rule, &actor()).await
            });
            region_lines(reports, &a.rule)?;
        }
        Command::SyncFilters(a) => {
            let config = aws_config(&a.aws)?;
            let store = open(&a.data_dir)?;
            let results = runtime()?.block_on(async {
                let source = gdlens_aws::AwsSource::from_default_chain(config).await;
                source.sync_filters(&store).await
            });
            let mut failed = 0;
            for (region, r) in results {
                match r {
                    Ok(n) => println!("{region}	{n} filter(s)"),
                    Err(e) => {
                        failed += 1;
                        println!("{region}	error {}: {}", e.code.as_str(), e.message);
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} region(s) failed");
            }
        }
        Command::Add(a) => {
            let value: serde_json::Value = serde_json::from_str(&criteria_text(&a.criteria)?)
                .context("--criteria is not JSON")?;
            let criteria = FindingCriteria::parse(&value)
                .map_err(|e| anyhow::anyhow!("--criteria: {}: {e}", e.code()))?;
            let rule = SuppressionRule {
                name: a.name,
                description: a.description,
                action: FilterAction::Archive,
                rank: a.rank,
                criteria,
            };
            rule.validate()
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let store = open(&a.data_dir)?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let row = store.put_suppression_rule(
                &NewSuppressionRule {
                    name: rule.name.clone(),
                    description: rule.description.clone(),
                    origin: ORIGIN_GDLENS.into(),
                    region: String::new(),
                    detector_id: None,
                    action: rule.action.as_str().into(),
                    rank: rule.rank,
                    criteria: rule.criteria.to_json().to_string(),
                },
                &actor,
                chrono_now(),
            )?;
            tracing::info!(target: "audit", actor = %actor, rule = %row.name, id = row.id, "suppression rule saved");
            println!("{}\t{}", row.id, row.name);
        }
        Command::List(a) => {
            for r in open(&a.data_dir)?.suppression_rules()? {
                let region = if r.region.is_empty() { "*" } else { &r.region };
                println!(
                    "{}\t{}\t{}\t{}\trank {}\t{}\t{}",
                    r.id, r.origin, region, r.name, r.rank, r.action, r.criteria
                );
            }
        }
        Command::Export(a) => {
            let format = ExportFormat::parse(&a.format)
                .with_context(|| format!("unknown format `{}`", a.format))?;
            let rules = open(&a.data_dir)?.suppression_rules()?;
            let row = rules
                .iter()
                .find(|r| r.origin == ORIGIN_GDLENS && r.name == a.rule)
                .or_else(|| rules.iter().find(|r| r.name == a.rule))
                .or_else(|| rules.iter().find(|r| r.id.to_string() == a.rule));
            let Some(row) = row else {
                bail!(
                    "no suppression rule named `{}` (see `gdlens suppress list`)",
                    a.rule
                );
            };
            let text = export(
                &rule_of(row)?,
                format,
                a.detector_id.as_deref().or(row.detector_id.as_deref()),
            );
            if a.out.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&a.out, text)
                    .with_context(|| format!("cannot write {}", a.out.display()))?;
            }
        }
    }
    Ok(())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
