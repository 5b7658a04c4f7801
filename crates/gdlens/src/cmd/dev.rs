//! `gdlens dev …`: developer tools.

/// Developer subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run a local GuardDuty/Detective-compatible server serving findings from files.
    AwsFixture(AwsFixtureArgs),
}

/// Arguments of `gdlens dev aws-fixture`.
#[derive(Debug, clap::Args)]
pub struct AwsFixtureArgs {}

/// Runs a developer subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::AwsFixture(_) => anyhow::bail!("gdlens dev aws-fixture is not built yet"),
    }
}
