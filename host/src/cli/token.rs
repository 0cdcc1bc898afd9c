//! `ferry token create|list|revoke`: API tokens of the admin API and their
//! roles ([`ferry::tokens`]), on the local installation or (role manager) on
//! `--server`.

use super::output::Output;
use anyhow::Result;
use clap::Subcommand;
use ferry::admin::Admin;
use ferry::tokens::Role;
use serde_json::json;

#[derive(Subcommand)]
pub(super) enum TokenCommand {
    /// Make a token and print it: it is shown this once (only its hash is kept).
    Create {
        /// Its name: who or what will use it.
        name: String,
        /// viewer (read), developer (instances, jobs, buttons; no secrets) or
        /// manager (also secrets and tokens).
        #[arg(long)]
        role: Role,
    },
    /// List tokens: names, roles, last use (never the tokens).
    List,
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Its name.
        name: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, command: &TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { name, role } => {
            let made = admin.create_token(name, *role, ferry::audit::CLI).await?;
            out.value(
                &serde_json::to_value(&made)?,
                &format!(
                    "{}\n\ntoken `{name}` ({role}) made: it is shown this once; \
                     present it with --token or FERRY_TOKEN",
                    made.token
                ),
            );
        }
        TokenCommand::List => out.tokens(&admin.tokens().await?),
        TokenCommand::Revoke { name } => {
            admin.revoke_token(name, ferry::audit::CLI).await?;
            out.value(
                &json!({ "token": name, "revoked": true }),
                &format!("token `{name}` revoked"),
            );
        }
    }
    Ok(())
}
