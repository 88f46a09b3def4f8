//! `sashiko user add NAME --role admin|maintainer [--subsystem S]...`:
//! creates a web account or replaces its password, role and subsystems
//! (a new password ends the account's sessions). The password is read
//! from the first line of stdin (so it stays out of the process list and
//! shell history); it is never printed or stored in clear.
//! `sashiko user disable|enable|remove NAME`: an account that cannot log
//! in (its sessions end at once), one that can again, one that is gone.
//! Glue only: the rules are in `sashiko_web::accounts`.

use crate::term::errln;
use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use sashiko_web::accounts::{add_user, remove_user, set_user_disabled, NewAccount, Role};

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
    /// Stop an account from logging in and end its sessions.
    Disable(UserNameArgs),
    /// Let a disabled account log in again.
    Enable(UserNameArgs),
    /// Delete an account and its sessions (triage history keeps its name).
    Remove(UserNameArgs),
}

#[derive(clap::Args, Debug)]
pub struct UserNameArgs {
    /// Login name.
    pub name: String,
    #[command(flatten)]
    pub db: DbUrlArgs,
}

/// A change of an existing account.
#[derive(Clone, Copy)]
enum Change {
    Disable,
    Enable,
    Remove,
}

/// Runs one change of an existing account and says what was done.
async fn change(args: UserNameArgs, what: Change) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.db).await?;
    let (changed, done) = match what {
        Change::Disable => (
            set_user_disabled(&store, &args.name, true).await,
            "disabled",
        ),
        Change::Enable => (
            set_user_disabled(&store, &args.name, false).await,
            "enabled",
        ),
        Change::Remove => (remove_user(&store, &args.name).await, "removed"),
    };
    store.close().await;
    changed.map_err(|error| anyhow::anyhow!("changing account {:?}: {error}", args.name))?;
    errln!("sashiko: {done} account {:?}", args.name);
    Ok(ExitCode::SUCCESS)
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
        UserAction::Disable(name) => change(name, Change::Disable).await,
        UserAction::Enable(name) => change(name, Change::Enable).await,
        UserAction::Remove(name) => change(name, Change::Remove).await,
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
