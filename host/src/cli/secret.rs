//! `ferry secret set|list|remove`: secrets of backend instances, on the local
//! installation or (role manager) on `--server`. A value is read from standard
//! input (never from the command line, where `ps` and the shell history would
//! see it) and is never printed. Each change is written to the audit log with
//! who made it: `cli` here, `api:TOKEN` through a server (`ferry logs --audit`).

use super::output::Output;
use super::terminal::line;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ferry::admin::Admin;
use ferry::audit;
use serde_json::json;
use std::io::Read;

#[derive(Subcommand)]
pub(super) enum SecretCommand {
    /// Set (or replace) a secret; its value is read from standard input (one
    /// trailing newline is dropped) and must be at least 4 bytes long.
    Set {
        /// Backend instance.
        instance: String,
        /// Secret name.
        name: String,
    },
    /// List secret names (never values).
    List {
        /// Only this backend instance.
        instance: Option<String>,
    },
    /// Remove a secret.
    Remove {
        /// Backend instance.
        instance: String,
        /// Secret name.
        name: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, command: &SecretCommand) -> Result<()> {
    match command {
        SecretCommand::Set { instance, name } => {
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .context("cannot read the secret's value from standard input")?;
            let value = value
                .strip_suffix('\n')
                .map(|v| v.strip_suffix('\r').unwrap_or(v))
                .unwrap_or(&value);
            if value.is_empty() {
                bail!(
                    "no value on standard input (e.g. `printf %s VALUE | ferry secret set {instance} {name}`)"
                );
            }
            admin.set_secret(instance, name, value, audit::CLI).await?;
            out.value(
                &json!({ "instance": instance, "secret": name, "set": true }),
                &format!("secret `{name}` of `{instance}` set"),
            );
        }
        SecretCommand::List { instance } => {
            let names = admin.secrets(instance.as_deref()).await?;
            let human: Vec<String> = names
                .iter()
                .map(|n| format!("{}\t{}", line(&n.instance), line(&n.secret)))
                .collect();
            let human = if human.is_empty() {
                "no secrets".to_string()
            } else {
                human.join("\n")
            };
            out.value(&json!(names), &human);
        }
        SecretCommand::Remove { instance, name } => {
            admin.remove_secret(instance, name, audit::CLI).await?;
            out.value(
                &json!({ "instance": instance, "secret": name, "removed": true }),
                &format!("secret `{name}` of `{instance}` removed"),
            );
        }
    }
    Ok(())
}
