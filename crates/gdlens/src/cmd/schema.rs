//! `gdlens schema`: prints the GraphQL schema (SDL); `schema.graphql` at the repository root is this output.

use std::io::Write as _;

/// Arguments of `gdlens schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `gdlens schema`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(gdlens_api::sdl().as_bytes())?;
    out.flush()?;
    Ok(())
}
