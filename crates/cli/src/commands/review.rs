//! `sashiko review`: work in progress in this commit.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    /// Git revisions/ranges, mbox files, or `-` for an mbox on stdin.
    pub inputs: Vec<String>,
}

pub async fn run(_args: ReviewArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("sashiko review is not wired up yet in this build")
}
