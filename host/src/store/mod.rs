//! Persistence with sqlx: local records (and guests' bounded queries of
//! them), links, jobs and their logs, subscriptions, checkpoints, installed
//! modules and backend instances, sealed secrets, the transmission log and
//! the audit log.
//!
//! SQLite is the embedded default: one file, created and migrated on first use.
//! The SQL is kept portable so that PostgreSQL can serve the same store, but
//! for the queue's hot path (claims, starts, batches of outcomes), which goes
//! through a driver per database (see `jobs::driver`).

mod audit;
mod checkpoints;
mod guest_queries;
mod jobs;
mod leases;
mod links;
mod modules;
mod record_models;
mod records;
mod run_locks;
mod secrets;
mod tokens;
mod transmissions;
mod triggers;

pub use audit::{AuditEntry, AuditFilter};
pub use checkpoints::Checkpoint;
pub use guest_queries::GuestQueryLimits;
pub use jobs::{
    Candidate, ClaimLoad, Completion, FailedTry, HeldBy, JobFilter, JobRow, JobState, LogLine,
    MAX_FREE_LOST_CLAIMS, NewJob, Outlook, Pin, PinPolicy, Recorded, RetryPattern, merge_payloads,
};
pub use links::{LinkRow, PairRow};
pub use modules::{BackendInstance, InstalledModule, SubscriptionRow};
pub use records::{FilterOp, RecordFilter, RecordRow};
pub use tokens::TokenRow;
pub use transmissions::{Transmission, TransmissionFilter};
pub use triggers::{CronOverride, CronRun, EventJob, timed_key};

use crate::error::{Error, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The sqlx database the store runs on: `Any`, so that one set of statements
/// serves SQLite and PostgreSQL; the few that differ ask [`Dialect`].
pub(crate) type Db = sqlx::Any;
/// A row of a query result.
pub type DbRow = sqlx::any::AnyRow;
/// A connection (or a transaction, through `&mut *tx`).
pub(crate) type DbConn = sqlx::AnyConnection;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Which SQL the database speaks, for the statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file, one writer at a time.
    Sqlite,
    /// A server many worker processes on many machines can share.
    Postgres,
}

impl Dialect {
    /// The value of `field` of the JSON object in text column `column`, as SQL
    /// comparable with a bound JSON scalar (see [`Dialect::json_param`]).
    pub(crate) fn json_field(self, column: &str, field: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({column}, '$.{field}')"),
            Dialect::Postgres => format!("(({column})::jsonb -> '{field}')"),
        }
    }

    /// The `n`th bound parameter, holding a JSON scalar, comparable with
    /// [`Dialect::json_field`]. On SQLite an anonymous `?`, so the values
    /// must be bound in the order their parameters appear (see [`Dialect::param`]).
    pub(crate) fn json_param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("(${n})::jsonb"),
        }
    }

    /// The `n`th bound parameter of a statement built piece by piece. On
    /// SQLite an anonymous `?` (values bound in the order their parameters
    /// appear): `$n` there is a named parameter, and SQLite finds each name
    /// by a linear search, which makes a statement with thousands of them
    /// quadratic to prepare and to bind.
    pub(crate) fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// The database of one Ferry installation. Cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// The URL it was opened with (PostgreSQL listeners open their own connection).
    url: String,
    /// Rung when this process stores jobs (and, on PostgreSQL, when any does).
    wake: Arc<Notify>,
    /// Counts the rings, so a worker can tell whether any came since it looked.
    wakes: Arc<AtomicU64>,
    /// The pool of guests' record queries, opened on first use.
    guest: Arc<OnceLock<guest_queries::GuestPool>>,
    /// The queue's claims and outcomes, in the database's own terms.
    queue: Arc<dyn jobs::driver::QueueDriver>,
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
        let queue: Arc<dyn jobs::driver::QueueDriver> = match dialect {
            Dialect::Sqlite => Arc::new(jobs::driver::sqlite::SqliteDriver::new(pool.clone())),
            Dialect::Postgres => {
                // Its own native pool (arrays, see `jobs::driver`), opened as
                // the queue needs connections.
                let options =
                    sqlx::postgres::PgConnectOptions::from_str(&url)?.disable_statement_logging();
                let native = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(options);
                Arc::new(jobs::driver::postgres::PostgresDriver::new(native))
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
        })
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

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
