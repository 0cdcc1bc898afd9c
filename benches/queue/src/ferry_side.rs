//! Ferry's side: a fresh installation with the `hostile` example connector and
//! a backend instance `lab`; N `ok` jobs stored with `Store::enqueue_many`,
//! then one worker runs them until the queue is idle.

use crate::{Database, Settings, Timing};
use anyhow::Context as _;
use ferry::builder::Built;
use ferry::queue::WorkerConfig;
use ferry::store::NewJob;
use ferry::{Ferry, FerryOptions};
use std::time::Instant;

/// Build the `hostile` example connector (once per benchmark run).
pub fn build_connector() -> anyhow::Result<Built> {
    ferry::demo::build_example("hostile").context("building the hostile example connector")
}

/// One run on `database`; `run` numbers the PostgreSQL schema.
pub async fn run(
    settings: &Settings,
    built: &Built,
    database: Database,
    run: usize,
) -> anyhow::Result<Timing> {
    let dir = tempfile::tempdir()?;
    let schema = format!("bench_ferry_{}_{run}", std::process::id());
    let mut options = FerryOptions::new(dir.path());
    if database == Database::Postgres {
        let base = settings.postgres.as_deref().context("no PostgreSQL URL")?;
        options.database_url = Some(crate::fresh_schema(base, &schema).await?);
    }
    let timing = measure(settings, built, options).await;
    if database == Database::Postgres
        && let Some(base) = &settings.postgres
    {
        crate::drop_schema(base, &schema).await?;
    }
    timing
}

/// A fresh installation on `options` with the `hostile` connector and its
/// instance `lab`, the table preloaded when the settings ask for it.
pub async fn set_up(
    settings: &Settings,
    built: &Built,
    options: FerryOptions,
) -> anyhow::Result<Ferry> {
    let ferry = Ferry::open_with(options).await?;
    ferry.install(&built.manifest, &built.wasm).await?;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await?;
    if settings.preload > 0 {
        preload(ferry.store().url(), settings.preload).await?;
    }
    Ok(ferry)
}

/// Store `settings.jobs` no-op jobs, `settings.enqueue_batch` a statement.
pub async fn enqueue_jobs(settings: &Settings, ferry: &Ferry) -> anyhow::Result<()> {
    let job = NewJob::new("lab", "ok", &serde_json::json!({}));
    let mut left = settings.jobs;
    while left > 0 {
        let n = left.min(settings.enqueue_batch);
        ferry.store().enqueue_many(&vec![job.clone(); n]).await?;
        left -= n;
    }
    Ok(())
}

async fn measure(
    settings: &Settings,
    built: &Built,
    options: FerryOptions,
) -> anyhow::Result<Timing> {
    let ferry = set_up(settings, built, options).await?;
    let started = Instant::now();
    enqueue_jobs(settings, &ferry).await?;
    let enqueue = started.elapsed();

    let started = Instant::now();
    let config = WorkerConfig {
        concurrency: settings.concurrency,
        batch: settings.batch,
        until_idle: true,
        ..WorkerConfig::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await?;
    let execute = started.elapsed();
    anyhow::ensure!(
        stats.done == settings.jobs as u64,
        "Ferry ran {} of {} jobs well ({stats:?})",
        stats.done,
        settings.jobs
    );
    Ok(Timing { enqueue, execute })
}

/// Fill the table with `jobs` jobs of earlier days before a run
/// (`QUEUE_BENCH_PRELOAD`): 95 % done, 5 % pending but due only tomorrow
/// (retries waiting, jobs scheduled ahead), so that claims pass over them
/// and nothing runs them. Written with one `INSERT … SELECT` over a
/// generated series, as the console benchmark does.
pub async fn preload(url: &str, jobs: usize) -> anyhow::Result<()> {
    use sqlx::Connection;
    let now = ferry::store::now_ms();
    let series = if url.starts_with("postgres") {
        format!("FROM generate_series(1, {jobs}) AS s(i)")
    } else {
        format!(
            "FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {jobs}) \
             SELECT i FROM s)"
        )
    };
    let insert = format!(
        "INSERT INTO jobs (instance, name, payload, priority, max_retries, attempts, channel, state, \
         description, user_name, triggered_by, module, created_at, finished_at, eta) \
         SELECT 'lab', 'ok', '{{}}', 10, 5, CASE WHEN i % 20 = 0 THEN 0 ELSE 1 END, 'root', \
         CASE WHEN i % 20 = 0 THEN 'pending' ELSE 'done' END, '', 'bench', 'api', 'hostile', \
         $1 + i, CASE WHEN i % 20 = 0 THEN NULL ELSE $1 + i + 5 END, \
         CASE WHEN i % 20 = 0 THEN $2 ELSE NULL END {series}"
    );
    let first = now - 2 * jobs as i64;
    let tomorrow = now + 86_400_000;
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(&insert)
            .bind(first)
            .bind(tomorrow)
            .execute(&mut conn)
            .await?;
        sqlx::query("ANALYZE jobs").execute(&mut conn).await?;
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(&insert)
            .bind(first)
            .bind(tomorrow)
            .execute(&mut conn)
            .await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    Ok(())
}
