//! The options every command takes (`--data-dir`, `--database`, `--json`,
//! `--server`, `--token`, `--log-format`) and the installation they lead to.

use anyhow::{Context, Result, bail};
use clap::Args;
use ferry::admin::{Admin, Remote};
use ferry::{Ferry, FerryOptions};
use std::path::PathBuf;

/// Options of every command.
#[derive(Args)]
pub(super) struct Globals {
    /// Data directory (database, installed modules, compiled cache).
    #[arg(long, global = true, env = "FERRY_HOME", default_value = ".ferry")]
    pub(super) data_dir: PathBuf,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, global = true, env = "FERRY_DATABASE_URL")]
    pub(super) database: Option<String>,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub(super) json: bool,
    /// Run `jobs`, `trigger`, `backend`, `secret` and `token` on a running
    /// `ferry serve` (its URL, e.g. http://127.0.0.1:8080) instead of the
    /// local installation.
    #[arg(long, global = true, env = "FERRY_SERVER")]
    pub(super) server: Option<String>,
    /// The API token to present to `--server` (made with `ferry token create`).
    #[arg(long, global = true, env = "FERRY_TOKEN", hide_env_values = true)]
    pub(super) token: Option<String>,
    /// Format of the host's log lines on stderr: text, or JSON lines for log
    /// shippers (which lines: FERRY_LOG, e.g. `info`).
    #[arg(
        long,
        global = true,
        env = "FERRY_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub(super) log_format: super::logging::LogFormat,
}

impl Globals {
    /// Where the operations of `jobs`, `trigger`, `backend`, `secret` and `token`
    /// run: on the server of `--server`, presenting `--token`, or on the local
    /// installation (whoever can open its store needs no token).
    pub(super) async fn admin(&self) -> Result<Admin> {
        Ok(match &self.server {
            Some(url) => Admin::Remote(Remote::new(url)?.with_token(self.token.clone())),
            None => Admin::Local(self.open_local().await?),
        })
    }

    /// The local installation, for the commands that only work on one: refused
    /// with `--server`, rather than silently working on the wrong installation.
    pub(super) async fn open(&self) -> Result<Ferry> {
        if let Some(server) = &self.server {
            bail!(
                "this command works on the local installation only, but --server (or FERRY_SERVER) \
                 names {server}: drop it, or use a command that the server offers (jobs, trigger, profile, \
                 backend, secret, token)"
            );
        }
        self.open_local().await
    }

    /// The local installation, whatever `--server` says (`ferry serve` is the server).
    pub(super) async fn open_local(&self) -> Result<Ferry> {
        let mut options = FerryOptions::new(&self.data_dir);
        options.database_url = self.database.clone();
        Ferry::open_with(options)
            .await
            .with_context(|| format!("cannot open Ferry in {}", self.data_dir.display()))
    }
}
