//! Queue throughput: how many no-op jobs per second Ferry's durable queue
//! stores and runs, on SQLite and on PostgreSQL, next to apalis (a Rust job
//! queue on sqlx) on the same databases in the same run.
//!
//! Run by hand (see BENCHMARKS.md, "Queue throughput"):
//!
//! ```sh
//! cargo bench -p ferry-queue-bench --features apalis
//! ```
//!
//! **Why a crate of its own, with apalis behind a feature that is off by
//! default**: apalis and apalis-sql are only needed for the comparison, and
//! CI should not compile them. As a workspace member with an optional
//! dependency, `cargo test --workspace` and CI's `clippy --workspace
//! --all-targets` build the Ferry side only (so it keeps compiling as the
//! queue changes) and never apalis; the lock file stays the workspace's, so
//! the benchmark runs on exactly the sqlx, tokio and wasmtime that Ferry ships
//! with. A crate excluded from the workspace would have needed its own lock
//! file and profiles, and rebuilt wasmtime with other settings. apalis 0.7 is
//! the latest line on sqlx 0.8 (apalis 1.0's storages need sqlx 0.9, which
//! cannot share a build with sqlx 0.8's SQLite library).
//!
//! **What is compared**: Ferry runs every job in a fresh instance of a Wasm
//! component (the `hostile` example connector's `ok` job: parse the payload,
//! answer it back as JSON) under a lease with a fencing token; apalis calls a
//! native Rust function. The comparison is therefore conservative for Ferry.
//!
//! After the throughput runs, Ferry's wake-up latency on an idle worker
//! ([`latency`]): enqueue → done, one job at a time.

pub mod ferry_side;
pub mod latency;
pub mod processes;
pub mod report;

#[cfg(feature = "apalis")]
pub mod apalis_side;

use std::time::Duration;

/// The databases a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A file in a temporary directory.
    Sqlite,
    /// A fresh schema in the PostgreSQL database of [`Settings::postgres`].
    Postgres,
}

impl Database {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        }
    }
}

/// What one run of one queue on one database measured.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Storing the jobs.
    pub enqueue: Duration,
    /// Running them all, until every outcome is written.
    pub execute: Duration,
}

impl Timing {
    /// Both.
    pub fn total(&self) -> Duration {
        self.enqueue + self.execute
    }
}

/// The knobs, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs per run (`QUEUE_BENCH_JOBS`, default 20 000).
    pub jobs: usize,
    /// Runs per queue and database; the median is reported (`QUEUE_BENCH_RUNS`, default 3).
    pub runs: usize,
    /// Jobs stored per `enqueue_many` call (`QUEUE_BENCH_ENQUEUE_BATCH`, default 1000).
    pub enqueue_batch: usize,
    /// Jobs run at once (`QUEUE_BENCH_CONCURRENCY`, default 16).
    pub concurrency: usize,
    /// Most jobs a worker holds at once (`QUEUE_BENCH_BATCH`, default
    /// Ferry's own, 1024; apalis gets it as its buffer).
    pub batch: usize,
    /// PostgreSQL database (`QUEUE_BENCH_POSTGRES`, default
    /// `postgres://postgres@127.0.0.1:5432/test`; `none` skips PostgreSQL).
    pub postgres: Option<String>,
    /// Only these queues (`QUEUE_BENCH_ONLY=ferry` or `apalis`; default both).
    pub only: Option<String>,
    /// Jobs timed one at a time for the wake-up latency on an idle worker
    /// (`QUEUE_BENCH_WAKEUPS`, default 200; 0 skips it).
    pub wakeups: usize,
    /// Counts of worker processes to run the jobs with on PostgreSQL
    /// (`QUEUE_BENCH_PROCESSES`, e.g. `1,2,4`; default none): see [`processes`].
    pub processes: Vec<usize>,
    /// Jobs of earlier days in the table before each Ferry run
    /// (`QUEUE_BENCH_PRELOAD`, e.g. 1000000; default 0): 95 % done, 5 %
    /// pending but not due yet.
    pub preload: usize,
}

impl Settings {
    /// Read the environment.
    pub fn from_env() -> anyhow::Result<Settings> {
        fn number(name: &str, default: usize) -> anyhow::Result<usize> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .replace('_', "")
                    .parse()
                    .map_err(|e| anyhow::anyhow!("{name}=`{v}` is not a number: {e}")),
                Err(_) => Ok(default),
            }
        }
        let postgres = std::env::var("QUEUE_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        Ok(Settings {
            jobs: number("QUEUE_BENCH_JOBS", 20_000)?,
            runs: number("QUEUE_BENCH_RUNS", 3)?.max(1),
            enqueue_batch: number("QUEUE_BENCH_ENQUEUE_BATCH", 1000)?.max(1),
            concurrency: number("QUEUE_BENCH_CONCURRENCY", 16)?.max(1),
            batch: number("QUEUE_BENCH_BATCH", ferry::queue::DEFAULT_BATCH)?.max(1),
            postgres: (postgres != "none").then_some(postgres),
            only: std::env::var("QUEUE_BENCH_ONLY").ok(),
            wakeups: number("QUEUE_BENCH_WAKEUPS", 200)?,
            preload: number("QUEUE_BENCH_PRELOAD", 0)?,
            processes: std::env::var("QUEUE_BENCH_PROCESSES")
                .unwrap_or_default()
                .split(',')
                .filter(|n| !n.trim().is_empty())
                .map(|n| {
                    n.trim().parse().map_err(|e| {
                        anyhow::anyhow!("QUEUE_BENCH_PROCESSES: `{n}` is not a number: {e}")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// Whether queue `name` is to be measured.
    pub fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == name)
    }
}

/// A fresh schema `name` in PostgreSQL database `base`; returns a URL that
/// selects it (through `search_path`, as the integration tests do).
pub async fn fresh_schema(base: &str, name: &str) -> anyhow::Result<String> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(base).await?;
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}").as_str())
        .await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{name}"))
}

/// Drop schema `name` (and what is in it) from PostgreSQL database `base`.
pub async fn drop_schema(base: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(base).await?;
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
        .await?;
    Ok(())
}
