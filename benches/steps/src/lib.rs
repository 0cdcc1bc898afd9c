//! Item-step throughput: the same read → map → write loop over local
//! records, driven by the host as an item step (chunks of 100 and 1 000:
//! each chunk one fresh instance, its writes committed in one transaction
//! with its position and counts) and run as a plain job (one `run-job`
//! call writing record by record through the session, each write its own
//! commit). The connector is `example-connectors/batch-bench`: no remote, so
//! what is measured is Ferry.
//!
//! `cargo bench -p ferry-steps-bench` (`FERRY_BENCH_ITEMS`, default 10 000;
//! `FERRY_BENCH_POSTGRES=postgres://…` adds PostgreSQL runs).

use anyhow::Context as _;
use ferry::builder::Built;
use ferry::queue::WorkerConfig;
use ferry::store::NewJob;
use ferry::{Ferry, FerryOptions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One way of running the loop.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// The item step `double-steps` with this chunk size.
    Steps(u32),
    /// The plain job `double-plain`.
    Plain,
}

impl Mode {
    /// How the report names it.
    pub fn label(self) -> String {
        match self {
            Mode::Steps(n) => format!("item step, chunk {n}"),
            Mode::Plain => "plain job".into(),
        }
    }
    fn job(self) -> NewJob {
        match self {
            Mode::Steps(n) => NewJob::new("lab", "double-steps", &json!({ "chunk_size": n })),
            Mode::Plain => NewJob::new("lab", "double-plain", &json!({})),
        }
    }
}

/// Build the `batch-bench` example connector (once per benchmark run).
pub fn build_connector() -> anyhow::Result<Built> {
    ferry::demo::build_example("batch-bench").context("building the batch-bench example connector")
}

/// A fresh installation (SQLite in a temporary directory, or the PostgreSQL
/// schema of `database_url`) with `items` records `item {n}`; then the job
/// of `mode`, timed from its enqueue to an idle queue. Returns that time.
pub async fn run(
    built: &Built,
    database_url: Option<String>,
    items: usize,
    mode: Mode,
) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let mut options = FerryOptions::new(dir.path());
    options.database_url = database_url;
    let ferry = Ferry::open_with(options).await?;
    ferry.install(&built.manifest, &built.wasm).await?;
    ferry
        .add_instance("lab", "batch-bench", Default::default())
        .await?;
    for n in 0..items {
        ferry
            .store()
            .create_record("item", json!({ "n": n }))
            .await?;
    }
    let started = Instant::now();
    ferry.enqueue(&mode.job()).await?;
    let config = WorkerConfig {
        until_idle: true,
        ..WorkerConfig::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await?;
    let took = started.elapsed();
    anyhow::ensure!(
        stats.done == 1,
        "the {} did not end done: {stats:?}",
        mode.label()
    );
    let last = ferry
        .store()
        .search_records("item", &[], Some(1), items.saturating_sub(1) as u32)
        .await?;
    let doubled = last
        .first()
        .and_then(|r| r.values.get("double").cloned())
        .unwrap_or(Value::Null);
    anyhow::ensure!(
        doubled == json!(2 * (items as i64 - 1)),
        "the {} left the last item with double = {doubled}",
        mode.label()
    );
    Ok(took)
}

/// Create PostgreSQL schema `name` in `base` (dropped first) and return a
/// URL whose connections use it.
pub async fn fresh_schema(base: &str, name: &str) -> anyhow::Result<String> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(base).await?;
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}").as_str())
        .await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{name}"))
}

/// Drop schema `name` from PostgreSQL database `base`.
pub async fn drop_schema(base: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(base).await?;
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
        .await?;
    Ok(())
}
