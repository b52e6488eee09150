//! `gridmap user add|list|revoke`: accounts and their API tokens.
//!
//! `add` prints the new token as the last line of its output, once: the
//! store keeps only its SHA-256.

use anyhow::Context;
use clap::{Args, Subcommand};
use gridmap_data::accounts::{new_token, token_hash, validate_name, Role};

use crate::cli::DbArg;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account; prints its API token (shown once) as the last line.
    Add(AddArgs),
    /// List accounts (never their tokens).
    List(ListArgs),
    /// Revoke an account: its token stops working at once.
    Revoke(RevokeArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The account name (letters, digits, `_ - . @`).
    pub name: String,
    /// viewer < editor < approver < admin.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    pub name: String,
    #[command(flatten)]
    pub db: DbArg,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(cmd: &UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add(a) => {
            validate_name(&a.name).map_err(anyhow::Error::msg)?;
            let store = a.db.open()?;
            let token = new_token();
            let account = store
                .add_account(&a.name, a.role, &token_hash(&token))
                .with_context(|| format!("adding account {} to {}", a.name, a.db.location()))?;
            store.audit("cli", "user.add", &account.name, account.role.as_str())?;
            eprintln!(
                "account {} ({}) created in {}; its token follows, shown only this once:",
                account.name,
                account.role,
                a.db.location()
            );
            println!("{token}");
        }
        UserCommand::List(a) => {
            let store = a.db.open_existing()?;
            let accounts = store.accounts()?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&accounts)?);
            } else {
                println!("{:<24} {:<9} {:<21} revoked", "name", "role", "created");
                for acc in accounts {
                    println!(
                        "{:<24} {:<9} {:<21} {}",
                        acc.name,
                        acc.role.as_str(),
                        acc.created,
                        acc.revoked.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        UserCommand::Revoke(a) => {
            let store = a.db.open_existing()?;
            if !store.revoke_account(&a.name)? {
                anyhow::bail!("no live account named `{}` in {}", a.name, a.db.location());
            }
            store.audit("cli", "user.revoke", &a.name, "")?;
            println!("account {} revoked", a.name);
        }
    }
    Ok(())
}
