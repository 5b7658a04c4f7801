//! `gdlens serve`.

/// Arguments of `gdlens serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens serve`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("gdlens serve is not built yet")
}
