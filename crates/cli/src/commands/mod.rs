//! One module per subcommand. Each exposes an `Args` struct (clap) and an
//! async `run` returning the process exit code.

pub mod config;
pub mod ingest;
pub mod litmus;
pub mod review;
