//! The `gdlens` binary: one view of Amazon GuardDuty findings across every account and region.
//!
//! Thin: parses the command line, sets up logging, and hands each subcommand to its module
//! in `cmd/`, which wires the library crates together.

mod cmd;

/// mimalloc instead of the system allocator: an import allocates and frees tens of megabytes a
/// second across two threads (the reader builds batches, the writer drops them), where glibc's
/// malloc spends its time consolidating, trimming and re-faulting its heap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// gdlens: gather, aggregate, correlate, rank and serve GuardDuty findings org-wide.
#[derive(Debug, Parser)]
#[command(name = "gdlens", version, about, long_about = None)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "GDLENS_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import findings from files, directories, .gz or stdin (`-`).
    Import(cmd::import::Args),
    /// Generate deterministic demo findings (NDJSON, GetFindings shape).
    Generate(cmd::generate::Args),
    /// Run the GraphQL server (generates and imports demo data into an empty store).
    Serve(cmd::serve::Args),
    /// Print the GraphQL schema (SDL).
    Schema(cmd::schema::Args),
    /// Sync findings from AWS GuardDuty (and Detective) once.
    Sync(cmd::sync::Args),
    /// Export findings as NDJSON, CSV or OCSF (to a file or stdout).
    Export(cmd::export::Args),
    /// GuardDuty coverage per account × region from the store, gaps first (table or JSON).
    Coverage(cmd::coverage::Args),
    /// Suppression rules (GuardDuty filters) as code: add, list, export.
    #[command(subcommand)]
    Suppress(cmd::suppress::Command),
    /// Webhooks: list, send a test event, replay deliveries, dead letters.
    #[command(subcommand)]
    Webhooks(cmd::webhooks::Command),
    /// Developer tools.
    #[command(subcommand)]
    Dev(cmd::dev::Command),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    match cli.command {
        Command::Import(args) => cmd::import::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Sync(args) => cmd::sync::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Coverage(args) => cmd::coverage::run(args),
        Command::Suppress(command) => cmd::suppress::run(command),
        Command::Webhooks(command) => cmd::webhooks::run(command),
        Command::Dev(command) => cmd::dev::run(command),
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GDLENS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
