//! `sashiko fake-llm`: run the scripted fake LLM server for manual runs.
//!
//! Serves the OpenAI, Anthropic and Gemini wire protocols on one loopback
//! port from a TOML or JSON script (see `sashiko_llm_fake::FakeScript`),
//! prints the base URL for the chosen protocol and runs until interrupted.
//! It must never listen on a non-loopback address.

use crate::term::{errln, outln};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sashiko_llm::ProviderKind;
use sashiko_llm_fake::{FakeLlmServer, FakeScript};

#[derive(clap::Args, Debug)]
pub struct FakeLlmArgs {
    /// Script of answers (TOML, or JSON when the name ends in .json).
    #[arg(long)]
    script: PathBuf,
    /// Loopback address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Which protocol's base URL to print (all three are served).
    #[arg(long, default_value = "openai", value_parser = ["openai", "anthropic", "gemini"])]
    protocol: String,
}

pub async fn run(args: FakeLlmArgs) -> anyhow::Result<ExitCode> {
    let protocol: ProviderKind = args.protocol.parse().map_err(anyhow::Error::msg)?;
    let script = FakeScript::from_path(&args.script)?;
    let server = FakeLlmServer::start_on(args.listen, script)
        .await
        .with_context(|| format!("starting the fake LLM server on {}", args.listen))?;
    outln!("{}", server.base_url_for(protocol));
    errln!(
        "fake LLM: serving {} from {} (stage header x-sashiko-stage); Ctrl-C to stop",
        protocol,
        args.script.display()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    errln!("fake LLM: {} requests served", server.requests().len());
    server.stop().await;
    Ok(ExitCode::SUCCESS)
}
