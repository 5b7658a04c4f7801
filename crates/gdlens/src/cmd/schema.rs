//! `gdlens schema`.

/// Arguments of `gdlens schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens schema`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("gdlens schema is not built yet")
}
