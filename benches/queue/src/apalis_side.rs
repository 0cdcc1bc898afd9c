//! apalis's side (feature `apalis`): the same N jobs, each pushed with
//! apalis's own `Storage::push`, run by one apalis worker whose handler is a
//! native no-op; done when every job is `Done` in the database (apalis writes
//! its acknowledgements after the handler returns, on PostgreSQL in batches).
//!
//! apalis polls: its defaults (10 jobs every 100 ms) would cap it at 100 jobs/s,
//! so the storage is given the worker's claim batch as its buffer and a 1 ms
//! poll interval, the best settings found for it on this machine.

use crate::{Database, Settings, Timing};
use anyhow::Context as _;
use apalis::prelude::*;
use apalis_sql::Config;
use apalis_sql::postgres::{PgListen, PostgresStorage};
use apalis_sql::sqlite::SqliteStorage;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// The job: nothing to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Noop {
    /// Something to carry, like Ferry's `{}` payload.
    pub n: u64,
}

async fn noop(_job: Noop) -> Result<(), Error> {
    Ok(())
}

fn config(settings: &Settings) -> Config {
    Config::new("ferry-bench::Noop")
        .set_buffer_size(settings.batch)
        .set_poll_interval(Duration::from_millis(1))
}

/// The schema apalis's PostgreSQL migrations create their tables in (fixed).
const APALIS_SCHEMA: &str = "apalis";

/// One run on `database`; `run` numbers the PostgreSQL schema.
pub async fn run(settings: &Settings, database: Database, run: usize) -> anyhow::Result<Timing> {
    match database {
        Database::Sqlite => sqlite(settings).await,
        Database::Postgres => {
            let base = settings.postgres.as_deref().context("no PostgreSQL URL")?;
            let schema = format!("bench_apalis_{}_{run}", std::process::id());
            let url = crate::fresh_schema(base, &schema).await?;
            crate::drop_schema(base, APALIS_SCHEMA).await?;
            let timing = postgres(settings, &url).await;
            crate::drop_schema(base, APALIS_SCHEMA).await?;
            crate::drop_schema(base, &schema).await?;
            timing
        }
    }
}

async fn sqlite(settings: &Settings) -> anyhow::Result<Timing> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("apalis.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    SqliteStorage::setup(&pool).await?;
    let mut storage: SqliteStorage<Noop> =
        SqliteStorage::new_with_config(pool.clone(), config(settings));

    let started = Instant::now();
    for n in 0..settings.jobs as u64 {
        storage.push(Noop { n }).await?;
    }
    let enqueue = started.elapsed();

    let started = Instant::now();
    let worker = WorkerBuilder::new("bench")
        .concurrency(settings.concurrency)
        .backend(storage)
        .build_fn(noop);
    let done = all_done(settings.jobs, || {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM Jobs WHERE status = 'Done'")
            .fetch_one(&pool)
    });
    Monitor::new()
        .register(worker)
        .run_with_signal(async {
            done.await.map_err(std::io::Error::other)?;
            Ok(())
        })
        .await?;
    let execute = started.elapsed();
    Ok(Timing { enqueue, execute })
}

async fn postgres(settings: &Settings, url: &str) -> anyhow::Result<Timing> {
    use sqlx::postgres::PgPoolOptions;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(url)
        .await?;
    PostgresStorage::setup(&pool).await?;
    let mut storage: PostgresStorage<Noop> =
        PostgresStorage::new_with_config(pool.clone(), config(settings));
    // Wake the worker on NOTIFY, as Ferry's workers are on PostgreSQL.
    let mut listener = PgListen::new(pool.clone()).await?;
    listener.subscribe_with(&mut storage);
    let listening = tokio::spawn(listener.listen());

    let started = Instant::now();
    for n in 0..settings.jobs as u64 {
        storage.push(Noop { n }).await?;
    }
    let enqueue = started.elapsed();

    let started = Instant::now();
    let worker = WorkerBuilder::new("bench")
        .concurrency(settings.concurrency)
        .backend(storage)
        .build_fn(noop);
    let done = all_done(settings.jobs, || {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM apalis.jobs WHERE status = 'Done'")
            .fetch_one(&pool)
    });
    Monitor::new()
        .register(worker)
        .run_with_signal(async {
            done.await.map_err(std::io::Error::other)?;
            Ok(())
        })
        .await?;
    let execute = started.elapsed();
    listening.abort();
    Ok(Timing { enqueue, execute })
}

/// Wait until `count` (of `Done` jobs) reaches `jobs`, looking every 5 ms.
async fn all_done<F, Fut>(jobs: usize, count: F) -> Result<(), sqlx::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<i64, sqlx::Error>>,
{
    while count().await? < jobs as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
