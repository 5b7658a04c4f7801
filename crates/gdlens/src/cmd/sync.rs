//! `gdlens sync`.

/// Arguments of `gdlens sync`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens sync`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("gdlens sync is not built yet")
}
