//! The database handle: its pool, its dialect, how it is opened and migrated,
//! and the wake-ups of the workers that wait on it.

use super::sql::{Db, Dialect, redact_url};
use crate::error::{Error, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The database of one Ferry installation. Cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Store {
    pub(super) pool: AnyPool,
    pub(super) dialect: Dialect,
    /// The URL it was opened with (PostgreSQL listeners open their own connection).
    pub(super) url: String,
    /// Rung when this process stores jobs (and, on PostgreSQL, when any does).
    pub(super) wake: Arc<Notify>,
    /// Counts the rings, so a worker can tell whether any came since it looked.
    pub(super) wakes: Arc<AtomicU64>,
    /// The pool of guests' record queries, opened on first use.
    pub(super) guest: Arc<OnceLock<super::guest_pool::GuestPool>>,
    /// The queue's claims and outcomes, in the database's own terms.
    pub(super) queue: Arc<dyn super::jobs::driver::QueueDriver>,
    /// The installation's metrics: the store counts what passes through it
    /// (jobs stored, leases rescued), whoever called it.
    pub(super) metrics: crate::metrics::Metrics,
}

impl Store {
    /// Open (creating and migrating if needed) the SQLite database at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Self::open_url(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// Open a database from a URL: `sqlite://PATH`, `sqlite::memory:`, or
    /// `postgres://user@host:port/database` (created tables on first use).
    pub async fn open_url(url: &str) -> Result<Store> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let dialect = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            return Err(Error::Invalid(format!(
                "database URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DATABASE",
                redact_url(url)
            )));
        };
        let mut url = url.to_string();
        if dialect == Dialect::Sqlite && !url.contains("memory") && !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL: readers never wait for the writer; NORMAL sync is
                        // durable across process crashes (not power loss) in WAL.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::Connect(format!("{}: {e}", redact_url(&url))))?;
        match dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let queue: Arc<dyn super::jobs::driver::QueueDriver> = match dialect {
            Dialect::Sqlite => {
                Arc::new(super::jobs::driver::sqlite::SqliteDriver::new(pool.clone()))
            }
            Dialect::Postgres => {
                // Its own native pool (arrays, see `jobs::driver`).
                Arc::new(super::jobs::driver::postgres::PostgresDriver::open(&url)?)
            }
        };
        Ok(Store {
            queue,
            pool,
            dialect,
            url,
            wake: Arc::new(Notify::new()),
            wakes: Arc::new(AtomicU64::new(0)),
            guest: Arc::default(),
            metrics: crate::metrics::Metrics::new(),
        })
    }

    /// The metrics of the installation this store belongs to (one registry
    /// per opened store: two installations in a process never mix counts).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Wakes waiting workers: new jobs may be ready.
    pub(crate) fn wake_workers(&self) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_waiters();
    }

    /// How many times workers were woken so far.
    pub fn wake_generation(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }

    /// What a worker waits on between claims.
    pub fn wakeups(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Which SQL the database speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that will write: on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that two writers queue instead of one failing
    /// with "database is locked" when it upgrades a read.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }
}
