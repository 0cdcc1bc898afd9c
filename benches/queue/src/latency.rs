//! Wake-up latency: how long a job waits between its enqueue and its end on
//! an idle worker (a no-op job ends ~50 µs after it starts, so this is an
//! upper bound of enqueue → started). On SQLite the enqueue wakes the worker
//! in-process; on PostgreSQL it is stored through another pool, as another
//! process would, and reaches the worker through `LISTEN`/`NOTIFY`.

use crate::{Database, Settings};
use ferry::builder::Built;
use ferry::queue::WorkerConfig;
use ferry::store::NewJob;
use ferry::{Ferry, FerryOptions};
use std::time::{Duration, Instant};

/// What the samples of one database measured.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Worst.
    pub max: Duration,
}

/// Enqueue `samples` jobs one at a time on an idle worker, each after a
/// pause, and time each from its enqueue to the worker seeing it done.
pub async fn measure(
    settings: &Settings,
    built: &Built,
    database: Database,
    samples: usize,
) -> anyhow::Result<Latency> {
    let dir = tempfile::tempdir()?;
    let schema = format!("bench_wake_{}", std::process::id());
    let mut options = FerryOptions::new(dir.path());
    if database == Database::Postgres {
        let base = settings.postgres.as_deref().unwrap_or_default();
        options.database_url = Some(crate::fresh_schema(base, &schema).await?);
    }
    let ferry = Ferry::open_with(options.clone()).await?;
    ferry.install(&built.manifest, &built.wasm).await?;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await?;
    let producer = match database {
        Database::Sqlite => ferry.clone(),
        Database::Postgres => Ferry::open_with(options).await?,
    };
    let timings = timed_jobs(&ferry, &producer, samples).await;
    drop((ferry, producer));
    if database == Database::Postgres
        && let Some(base) = &settings.postgres
    {
        crate::drop_schema(base, &schema).await?;
    }
    let mut timings = timings?;
    timings.sort();
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q).round() as usize];
    Ok(Latency {
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
    })
}

async fn timed_jobs(
    ferry: &Ferry,
    producer: &Ferry,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let config = WorkerConfig::default();
    let stop = config.shutdown.clone();
    let worker = {
        let ferry = ferry.clone();
        tokio::spawn(async move {
            ferry
                .run_worker(&config, move |stats| {
                    let _ = done_tx.send(stats.done);
                })
                .await
        })
    };
    let job = NewJob::new("lab", "ok", &serde_json::json!({}));
    let mut timings = Vec::with_capacity(samples);
    // The first jobs warm the worker up (compiled code paged in, pools).
    for i in 0..samples + 5 {
        tokio::time::sleep(Duration::from_millis(10 + (i as u64 * 7) % 20)).await;
        while done_rx.try_recv().is_ok() {}
        let started = Instant::now();
        producer.enqueue(&job).await?;
        let waited = tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await;
        anyhow::ensure!(
            matches!(waited, Ok(Some(_))),
            "job {i} did not run within 10 s"
        );
        if i >= 5 {
            timings.push(started.elapsed());
        }
    }
    stop.cancel();
    worker.await??;
    Ok(timings)
}
