//! `sashiko user add NAME --role admin|maintainer [--subsystem S]...`:
//! creates a web account or replaces its password, role and subsystems.
//! The password is read from the first line of stdin (so it stays out of
//! the process list and shell history); it is never printed or stored in
//! clear.

use crate::term::errln;
use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use sashiko_web::accounts::{add_user, NewAccount, Role};

use crate::commands::db::{open_store, DbUrlArgs};

#[derive(clap::Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum UserAction {
    /// Create an account or update an existing one; reads the password
    /// from the first line of stdin.
    Add(UserAddArgs),
}

#[derive(clap::Args, Debug)]
pub struct UserAddArgs {
    /// Login name.
    pub name: String,
    /// admin (triage anything) or maintainer (triage the given subsystems).
    #[arg(long)]
    pub role: String,
    /// A subsystem the maintainer looks after; repeat for several.
    #[arg(long = "subsystem", value_name = "S")]
    pub subsystems: Vec<String>,
    /// Mail address for login links (`sashiko serve --mail-login-from`).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    #[command(flatten)]
    pub db: DbUrlArgs,
}

pub async fn run(args: UserArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        UserAction::Add(add) => {
            let role: Role = add
                .role
                .parse()
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let store = open_store(&add.db).await?;
            let created = add_user(
                &store,
                &NewAccount {
                    name: add.name.clone(),
                    password,
                    role,
                    subsystems: add.subsystems.clone(),
                    email: add.email.clone(),
                },
            )
            .await
            .map_err(|error| anyhow::anyhow!("adding account {:?}: {error}", add.name))?;
            store.close().await;
            errln!(
                "sashiko: {} account {:?} ({}{})",
                if created { "created" } else { "updated" },
                add.name,
                role.as_str(),
                if add.subsystems.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", add.subsystems.join(", "))
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
