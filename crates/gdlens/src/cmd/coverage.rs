//! `gdlens coverage`: the GuardDuty coverage matrix from the store (what the last sync or the
//! demo recorded): accounts × regions, gaps first, as a table or as JSON for scripts. The same
//! matrix as GraphQL `coverageMatrix` (gdlens_domain::coverage), for the whole organization.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use gdlens_domain::coverage::{CoverageCell, CoverageMatrix, CoverageState, GapKind};
use gdlens_domain::{Account, Scope};

/// Arguments of `gdlens coverage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// Print JSON (the whole matrix) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only accounts with at least one gap.
    #[arg(long)]
    pub gaps_only: bool,
    /// The server's config file: account names and criticality (and `[store] url`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Prints the matrix.
pub fn run(args: Args) -> anyhow::Result<()> {
    let config = args
        .config
        .as_deref()
        .map(gdlens_api::config::Config::load)
        .transpose()?;
    let store = args
        .data_dir
        .open_store(config.as_ref().and_then(|c| c.store.url.as_deref()))?;
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    // A demo store knows its organization's names; configured accounts win.
    if let Some(demo) = store.get_state(super::serve::DEMO_STATE_KEY)? {
        let opts = super::serve::saved_demo_options(&demo);
        accounts.extend(
            gdlens_demo::accounts(&opts)
                .into_iter()
                .map(|a| (a.id.clone(), a)),
        );
    }
    if let Some(c) = &config {
        accounts.extend(c.domain_accounts().into_iter().map(|a| (a.id.clone(), a)));
    }
    let mut matrix = CoverageMatrix::build(&store.coverage()?, &accounts, &Scope::All);
    if args.gaps_only {
        matrix.accounts.retain(|a| a.gap_count() > 0);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&matrix)?);
    } else {
        print!("{}", table(&matrix));
    }
    Ok(())
}

/// A cell as text: `ok`, `partial: PLAN,PLAN` or `NOT ENABLED (why)`.
fn cell_text(cell: &CoverageCell) -> String {
    match cell.state {
        CoverageState::Covered => "ok".to_string(),
        CoverageState::Partial => format!(
            "partial: {}",
            cell.gaps
                .iter()
                .filter_map(|g| g.plan.as_deref())
                .collect::<Vec<_>>()
                .join(",")
        ),
        CoverageState::NotEnabled => {
            let why = match cell.gaps.first().map(|g| g.kind) {
                Some(GapKind::NoDetector) => "no detector".to_string(),
                Some(GapKind::NotMember) => "not a member".to_string(),
                _ => cell
                    .row
                    .as_ref()
                    .and_then(|r| r.relationship_status.clone())
                    .unwrap_or_else(|| "no detector".into()),
            };
            format!("NOT ENABLED ({why})")
        }
    }
}

/// The human table: one line per account (gaps first), one column per region, then totals and
/// region errors.
fn table(m: &CoverageMatrix) -> String {
    let mut out = String::new();
    if m.regions.is_empty() {
        out.push_str(
            "no coverage recorded yet (run `gdlens sync`, or `gdlens serve` for the demo)\n",
        );
        return out;
    }
    let cells: Vec<Vec<String>> = m
        .accounts
        .iter()
        .map(|a| a.cells.iter().map(cell_text).collect())
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|row| row[i].len())
            .chain([m.regions[i].region.len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..m.regions.len()).map(width).collect();
    let name_width = m
        .accounts
        .iter()
        .map(|a| a.name.as_deref().unwrap_or("-").len() + usize::from(a.administrator) * 8)
        .chain([4])
        .max()
        .unwrap_or(4);
    let _ = write!(
        out,
        "{:<12}  {:<name_width$}  {:<8}",
        "ACCOUNT", "NAME", "CRIT"
    );
    for (r, w) in m.regions.iter().zip(&widths) {
        let _ = write!(out, "  {:<w$}", r.region);
    }
    out.push('\n');
    for (a, row) in m.accounts.iter().zip(&cells) {
        let name = format!(
            "{}{}",
            a.name.as_deref().unwrap_or("-"),
            if a.administrator { " (admin)" } else { "" }
        );
        let _ = write!(
            out,
            "{:<12}  {:<name_width$}  {:<8}",
            a.account_id,
            name,
            a.criticality.as_str()
        );
        for (text, w) in row.iter().zip(&widths) {
            let _ = write!(out, "  {text:<w$}");
        }
        out.push('\n');
    }
    let t = &m.totals;
    let _ = writeln!(
        out,
        "\n{} accounts × {} regions: {} covered, {} partial, {} not enabled",
        t.accounts, t.regions, t.covered, t.partial, t.not_enabled
    );
    if !t.plans_off.is_empty() {
        let plans: Vec<String> = t
            .plans_off
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        let _ = writeln!(out, "plans off (cells): {}", plans.join(", "));
    }
    for r in &m.regions {
        if let Some(code) = &r.error_code {
            let _ = writeln!(
                out,
                "{}: {code}: {}",
                r.region,
                r.error_message.as_deref().unwrap_or("")
            );
        }
    }
    out
}
