//! `ferry store`: where an instance's `meta` (key-value) and `blobs` (object
//! data) stores are. Goes through the admin operations, so it works with
//! `--server` too.

use super::globals::Globals;
use super::output::Output;
use super::terminal::{Grid, time};
use anyhow::Result;
use clap::{Args, Subcommand};
use ferry::stores::{StoreSettings, StoreSpec, describe};
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum StoreCommand {
    /// Set where INSTANCE's STORE is: `meta --type local|redis`, `blobs
    /// --type disk --dir DIR` or `blobs --type s3 --url ENDPOINT --bucket B`.
    /// A password never goes on the command line: store it with `ferry
    /// secret set INSTANCE NAME` and give `--password-secret NAME`.
    Set(Box<StoreArgs>),
    /// Where each instance's stores are (`meta` is local unless set; `blobs`
    /// is absent until set).
    List {
        /// Only this instance's.
        instance: Option<String>,
    },
    /// Forget what is set for INSTANCE's STORE: `meta` goes back to the
    /// local database, `blobs` to none (what was stored stays where it is).
    Remove {
        /// Backend instance.
        instance: String,
        /// `meta` or `blobs`.
        store: String,
    },
}

#[derive(Args)]
pub(super) struct StoreArgs {
    /// Backend instance.
    instance: String,
    /// `meta` or `blobs`.
    store: String,
    /// meta: local or redis; blobs: disk or s3.
    #[arg(long = "type")]
    kind: String,
    /// redis: the server's URL, without a password; s3: the endpoint
    /// (https://s3.eu-west-1.amazonaws.com, http://minio:9000).
    #[arg(long)]
    url: Option<String>,
    /// redis: secret of the instance holding the password; s3: the one
    /// holding the secret access key.
    #[arg(long)]
    password_secret: Option<String>,
    /// redis: what keys are prefixed with on the server (default
    /// `ferry:meta:INSTANCE:`; "" to read keys other systems write);
    /// s3: a prefix inside the bucket (default none).
    #[arg(long)]
    key_prefix: Option<String>,
    /// disk: the directory granted to the instance (created if missing).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// disk, s3: the largest blob put or got, in bytes (default 32 MiB).
    #[arg(long)]
    max_bytes: Option<u64>,
    /// s3: the bucket.
    #[arg(long)]
    bucket: Option<String>,
    /// s3: the region (default us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// s3: the access key id (the secret key goes in `--password-secret`).
    #[arg(long)]
    access_key_id: Option<String>,
}

/// Run `ferry store`.
pub(super) async fn run(globals: &Globals, out: &Output, command: &StoreCommand) -> Result<()> {
    let actor = ferry::audit::CLI;
    let admin = globals.admin().await?;
    match command {
        StoreCommand::Set(a) => {
            let spec = StoreSpec {
                instance: a.instance.clone(),
                store: a.store.clone(),
                kind: a.kind.clone(),
                settings: StoreSettings {
                    url: a.url.clone(),
                    password_secret: a.password_secret.clone(),
                    key_prefix: a.key_prefix.clone(),
                    dir: a.dir.clone(),
                    max_bytes: a.max_bytes,
                    bucket: a.bucket.clone(),
                    region: a.region.clone(),
                    access_key_id: a.access_key_id.clone(),
                },
            };
            let row = admin.set_store(&spec, actor).await?;
            out.value(
                &serde_json::to_value(&row)?,
                &format!(
                    "the {} store of `{}` is {}",
                    row.store,
                    row.instance,
                    describe(&row.kind, &row.settings)
                ),
            );
        }
        StoreCommand::List { instance } => {
            let rows = admin.stores(instance.as_deref()).await?;
            let mut table = Grid::new(&["instance", "store", "type", "where", "set"]);
            for s in &rows {
                table.row([
                    s.instance.clone(),
                    s.store.clone(),
                    s.kind.clone(),
                    describe("", &s.settings).trim().to_string(),
                    s.updated_at
                        .map(|t| time(Some(t)))
                        .unwrap_or_else(|| "default".into()),
                ]);
            }
            let human = if rows.is_empty() {
                "no backend instance yet".to_string()
            } else {
                table.to_string()
            };
            out.value(&serde_json::to_value(&rows)?, &human);
        }
        StoreCommand::Remove { instance, store } => {
            let done = admin.remove_store(instance, store, actor).await?;
            out.value(
                &serde_json::to_value(done)?,
                &format!("the {store} store of `{instance}` is back to its default"),
            );
        }
    }
    Ok(())
}
