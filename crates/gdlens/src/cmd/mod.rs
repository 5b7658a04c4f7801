//! One module per subcommand. Each wires library crates together; no domain logic here.

pub mod dev;
pub mod export;
pub mod generate;
pub mod import;
pub mod schema;
pub mod serve;
mod serve_aws;
pub mod sync;

use std::path::PathBuf;

/// The data directory: `--data-dir`, else `GDLENS_DATA_DIR`, else `./.gdlens`.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// Where the embedded store lives.
    #[arg(long = "data-dir", env = "GDLENS_DATA_DIR", default_value = ".gdlens")]
    pub path: PathBuf,
}
