//! `gdlens import`.

/// Arguments of `gdlens import`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens import`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("gdlens import is not built yet")
}
