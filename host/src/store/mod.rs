//! Persistence with sqlx: local records, links, jobs and their logs,
//! subscriptions, checkpoints, installed modules and backend instances.
//!
//! SQLite is the embedded default: one file, created and migrated on first use.
//! The SQL is kept portable so that PostgreSQL can serve the same store.

mod checkpoints;
mod jobs;
mod links;
mod modules;
mod records;

pub use checkpoints::Checkpoint;
pub use jobs::{JobRow, JobState, LogLine, NewJob};
pub use links::{LinkRow, PairRow};
pub use modules::{BackendInstance, InstalledModule, SubscriptionRow};
pub use records::{FilterOp, RecordFilter, RecordRow};

use crate::error::{Error, Result};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The database of one Ferry installation. Cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Open (creating and migrating if needed) the SQLite database at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        Self::connect(options).await
    }

    /// Open a database from a URL (`sqlite://path` or `sqlite::memory:`).
    pub async fn open_url(url: &str) -> Result<Store> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30));
        Self::connect(options).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Store> {
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
