//! The operators' job list at a million jobs (issue 10): the jobs page's
//! query with each filter, through [`ferry::admin::Admin::list_jobs`] and
//! through `GET /api/jobs`, p50 and p99. `cargo bench -p ferry-console-bench`.
//!
//! The jobs are written straight into the `jobs` and `job_logs` tables with
//! one `INSERT … SELECT` over a generated series (a recursive CTE on SQLite,
//! `generate_series` on PostgreSQL): a million enqueues through the queue
//! would take the benchmark's whole budget and measure something else.

use anyhow::{Context, Result};
use ferry::store::JobFilter;
use sqlx::Connection;
use std::time::{Duration, Instant};

/// Instances the jobs are spread over.
pub const INSTANCES: i64 = 20;
/// Job names, with modules: `(i % 10)`.
pub const NAMES: [&str; 10] = [
    "import-products",
    "import-orders",
    "export-stock",
    "export-prices",
    "sync-customers",
    "import-customers",
    "export-orders",
    "cleanup",
    "reconcile",
    "webhook-order",
];

/// The columns written and the values of row `i` (SQL over the series
/// column `i`): states 80 % done, 8 % failed, 6 % pending (half of those
/// retrying after an error), 3 % cancelled, 3 % started; seven triggers;
/// one job a second, the newest now.
const SELECT_JOBS: &str = "SELECT \
    'inst' || (i % 20), \
    CASE i % 10 WHEN 0 THEN 'import-products' WHEN 1 THEN 'import-orders' WHEN 2 THEN 'export-stock' \
      WHEN 3 THEN 'export-prices' WHEN 4 THEN 'sync-customers' WHEN 5 THEN 'import-customers' \
      WHEN 6 THEN 'export-orders' WHEN 7 THEN 'cleanup' WHEN 8 THEN 'reconcile' ELSE 'webhook-order' END, \
    '{}', 10, 5, 1, CASE WHEN i % 50 < 3 THEN 'imports' ELSE 'root' END, \
    CASE WHEN i % 100 < 80 THEN 'done' WHEN i % 100 < 88 THEN 'failed' WHEN i % 100 < 94 THEN 'pending' \
      WHEN i % 100 < 97 THEN 'cancelled' ELSE 'started' END, \
    '', 'bench', \
    CASE i % 7 WHEN 0 THEN 'cron' WHEN 1 THEN 'webhook' WHEN 2 THEN 'button' WHEN 3 THEN 'event' \
      WHEN 4 THEN 'api' WHEN 5 THEN 'cli' ELSE 'job' END, \
    'shop' || (i % 5), \
    CASE WHEN i % 100 >= 80 AND i % 100 < 91 THEN 'HTTP 503 from the shop (request ' || i || ')' \
      WHEN i % 100 = 91 THEN 'timeout after 30 s' ELSE NULL END, \
    $1 + i * 1000, \
    CASE WHEN i % 100 < 88 THEN $1 + i * 1000 + 500 ELSE NULL END";

const JOB_COLUMNS: &str = "instance, name, payload, priority, max_retries, attempts, channel, \
    state, description, user_name, triggered_by, module, error, created_at, finished_at";

/// Fill the database at `url` with `jobs` jobs and a log line for every
/// fourth (an error line for every failed one). Returns the time it took.
pub async fn fill(url: &str, jobs: i64) -> Result<Duration> {
    let started = Instant::now();
    let first = ferry::store::now_ms() - jobs * 1000;
    let postgres = url.starts_with("postgres");
    let series = if postgres {
        format!("FROM generate_series(1, {jobs}) AS s(i)")
    } else {
        format!(
            "FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {jobs}) \
             SELECT i FROM s)"
        )
    };
    let jobs_sql = format!("INSERT INTO jobs ({JOB_COLUMNS}) {SELECT_JOBS} {series}");
    let logs_sql = "INSERT INTO job_logs (job_id, attempt, at, level, module, message) \
        SELECT id, 1, created_at + 100, CASE WHEN state = 'failed' THEN 'error' \
        WHEN id % 3 = 0 THEN 'debug' ELSE 'info' END, module, \
        CASE WHEN state = 'failed' THEN error ELSE 'fetched ' || (id % 250) || ' records' END \
        FROM jobs WHERE id % 4 = 0 OR state = 'failed'";
    if postgres {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(&jobs_sql)
            .bind(first)
            .execute(&mut conn)
            .await?;
        sqlx::query(logs_sql).execute(&mut conn).await?;
        sqlx::query("ANALYZE jobs").execute(&mut conn).await?;
        sqlx::query("ANALYZE job_logs").execute(&mut conn).await?;
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(&jobs_sql)
            .bind(first)
            .execute(&mut conn)
            .await?;
        sqlx::query(logs_sql).execute(&mut conn).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    Ok(started.elapsed())
}

/// The filters of the jobs page the benchmark measures, by label.
pub fn filters(jobs: i64) -> Vec<(&'static str, JobFilter)> {
    let base = JobFilter::default;
    vec![
        ("newest 50", base()),
        (
            "state=failed",
            JobFilter {
                state: Some(ferry::store::JobState::Failed),
                ..base()
            },
        ),
        (
            "instance+trigger",
            JobFilter {
                instance: Some("inst7".into()),
                trigger: Some(ferry::store::Trigger::Webhook),
                ..base()
            },
        ),
        (
            "module+name",
            JobFilter {
                module: Some("shop3".into()),
                name: Some("export-prices".into()),
                ..base()
            },
        ),
        (
            "instance+state",
            JobFilter {
                instance: Some("inst3".into()),
                state: Some(ferry::store::JobState::Failed),
                ..base()
            },
        ),
        (
            "text (error/log)",
            JobFilter {
                text: Some("timeout".into()),
                ..base()
            },
        ),
        (
            "deep page (before)",
            JobFilter {
                state: Some(ferry::store::JobState::Done),
                before: Some(jobs / 20),
                ..base()
            },
        ),
    ]
}

/// p50 and p99 of `samples`.
pub fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).copied().unwrap_or_default()
    };
    (at(0.5), at(0.99))
}

/// A fresh PostgreSQL schema `schema` at `base`; the URL that uses it.
pub async fn fresh_schema(base: &str, schema: &str) -> Result<String> {
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .context("connect to PostgreSQL")?;
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(&statement).execute(&mut conn).await?;
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// Drop schema `schema` at `base`.
pub async fn drop_schema(base: &str, schema: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await?;
    Ok(())
}
