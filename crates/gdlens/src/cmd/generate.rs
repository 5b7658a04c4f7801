//! `gdlens generate`.

/// Arguments of `gdlens generate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens generate`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("gdlens generate is not built yet")
}
