//! `ferry secret set|list|remove`: secrets of backend instances. A value is
//! read from standard input (never from the command line, where `ps` and the
//! shell history would see it) and is never printed. Each change is written to
//! the audit log as done by `cli` (`ferry logs --audit`).

use super::output::Output;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ferry::Ferry;
use ferry::audit;
use ferry::secrets::{self, MasterKey};
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

pub(super) async fn run(ferry: &Ferry, out: &Output, command: &SecretCommand) -> Result<()> {
    let store = ferry.store();
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
            let key = MasterKey::load(&secrets::key_file(ferry.data_dir()))?;
            secrets::set(store, &key, instance, name, value, audit::CLI).await?;
            out.value(
                &json!({ "instance": instance, "secret": name, "set": true }),
                &format!("secret `{name}` of `{instance}` set"),
            );
        }
        SecretCommand::List { instance } => {
            let names = secrets::list(store, instance.as_deref()).await?;
            let rows: Vec<_> = names
                .iter()
                .map(|(instance, name)| json!({ "instance": instance, "secret": name }))
                .collect();
            let human: Vec<String> = names
                .iter()
                .map(|(instance, name)| format!("{instance}\t{name}"))
                .collect();
            let human = if human.is_empty() {
                "no secrets".to_string()
            } else {
                human.join("\n")
            };
            out.value(&json!(rows), &human);
        }
        SecretCommand::Remove { instance, name } => {
            secrets::remove(store, instance, name, audit::CLI).await?;
            out.value(
                &json!({ "instance": instance, "secret": name, "removed": true }),
                &format!("secret `{name}` of `{instance}` removed"),
            );
        }
    }
    Ok(())
}
