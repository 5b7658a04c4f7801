//! One module per subcommand. Each wires library crates together; no domain logic here.

pub mod coverage;
pub mod dev;
pub mod export;
pub mod generate;
pub mod import;
pub mod schema;
pub mod serve;
mod serve_aws;
pub mod suppress;
pub mod sync;
pub mod webhooks;

use std::path::PathBuf;

/// The data directory: `--data-dir`, else `GDLENS_DATA_DIR`, else `./.gdlens`; and the store:
/// PostgreSQL when `--store-url` / `GDLENS_STORE_URL` (or `[store] url`) names one.
#[derive(Clone, clap::Args)]
pub struct DataDir {
    /// Where the embedded store lives.
    #[arg(long = "data-dir", env = "GDLENS_DATA_DIR", default_value = ".gdlens")]
    pub path: PathBuf,
    /// PostgreSQL store shared by replicas (`postgres://user:password@host/db`) instead of the
    /// embedded one; overrides `[store] url`.
    #[arg(long = "store-url", env = "GDLENS_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
}

impl std::fmt::Debug for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataDir")
            .field("path", &self.path)
            .field(
                "store_url",
                &self.store_url.as_deref().map(gdlens_store::redact_url),
            )
            .finish()
    }
}

impl DataDir {
    /// The URL in force: the flag or environment, else the configuration's `[store] url`.
    pub fn store_url<'a>(&'a self, configured: Option<&'a str>) -> Option<&'a str> {
        self.store_url.as_deref().or(configured)
    }

    /// Opens the store in force (see [`DataDir::store_url`]). Errors and logs never show the
    /// URL's password.
    pub fn open_store(&self, configured: Option<&str>) -> anyhow::Result<gdlens_store::Store> {
        use anyhow::Context as _;
        let url = self.store_url(configured);
        let store =
            gdlens_store::Store::open_configured(url, &self.path).with_context(|| match url {
                Some(u) => format!("cannot open the store at {}", gdlens_store::redact_url(u)),
                None => format!("cannot open the store in {}", self.path.display()),
            })?;
        tracing::info!(backend = store.backend_name(), location = %store.location(), "store opened");
        Ok(store)
    }
}
