//! One module per subcommand. Each exposes an `Args` struct (clap) and an
//! async `run` returning the process exit code.

pub mod bench;
pub mod bench_replay;
pub mod bot;
pub mod bugs;
pub mod config;
pub mod db;
pub mod enqueue;
pub mod fake_llm;
pub mod ingest;
pub mod jobs;
pub mod litmus;
pub mod review;
pub mod series;
pub mod serve;
pub mod stats;
pub mod user;
pub mod worker;
