//! `cargo bench -p ferry-console-bench`: the jobs page's query at a million
//! jobs, per filter, through `Admin::list_jobs` and `GET /api/jobs`; then a
//! prune of the jobs older than 5 days (`ferry jobs prune`), timed.
//! `FERRY_BENCH_QUERIES=0` skips the queries (only fill and prune).

use ferry::admin::{Admin, Remote};
use ferry::{Ferry, FerryOptions};
use ferry_console_bench::{drop_schema, fill, filters, fresh_schema, percentiles};
use std::time::{Duration, Instant};

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let jobs = env("FERRY_BENCH_JOBS", 1_000_000);
    let runs = env("FERRY_BENCH_RUNS", 50) as usize;
    let postgres = std::env::var("FERRY_BENCH_POSTGRES").ok();
    let rt = tokio::runtime::Runtime::new()?;
    let mut databases = vec![("SQLite", None)];
    if let Some(url) = &postgres {
        databases.push(("PostgreSQL", Some(url.clone())));
    }
    println!("{jobs} jobs, {runs} queries per filter (after 3 to warm up), limit 50");
    for (db, base) in databases {
        let dir = tempfile::tempdir()?;
        let schema = format!("bench_console_{}", std::process::id());
        let url = match &base {
            Some(base) => rt.block_on(fresh_schema(base, &schema))?,
            None => format!("sqlite://{}", dir.path().join("ferry.db").display()),
        };
        let mut options = FerryOptions::new(dir.path());
        options.database_url = base.as_ref().map(|_| url.clone());
        let ferry = rt.block_on(Ferry::open_with(options))?;
        let took = rt.block_on(fill(&url, jobs))?;
        println!("{db}: {jobs} jobs written in {:.1} s", took.as_secs_f64());
        if env("FERRY_BENCH_QUERIES", 1) != 0 {
            rt.block_on(measure(db, &ferry, jobs, runs))?;
        }
        rt.block_on(prune(db, &ferry))?;
        drop(ferry);
        if let Some(base) = &base {
            rt.block_on(drop_schema(base, &schema))?;
        }
    }
    Ok(())
}

/// Forget what finished more than 5 days ago (of jobs one a second up to
/// now: about half of a million), as `ferry jobs prune` does.
async fn prune(db: &str, ferry: &Ferry) -> anyhow::Result<()> {
    let request = ferry::admin::PruneRequest {
        older_than_ms: 5 * 86_400_000,
        dry_run: false,
    };
    let started = Instant::now();
    let outcome = Admin::Local(ferry.clone()).prune(&request, "bench").await?;
    let took = started.elapsed().as_secs_f64();
    let p = outcome.pruned;
    println!(
        "{db:<10} prune older than 5 d: {} jobs, {} log lines in {took:.1} s ({:.0} jobs/s)",
        p.jobs,
        p.log_lines,
        p.jobs as f64 / took
    );
    Ok(())
}

async fn measure(db: &str, ferry: &Ferry, jobs: i64, runs: usize) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(ferry::serve::run(
        ferry.clone(),
        listener,
        Default::default(),
        None,
        stop.clone(),
    ));
    let token = ferry::tokens::create(ferry.store(), "bench", ferry::tokens::Role::Viewer, "bench")
        .await?
        .token;
    let local = Admin::Local(ferry.clone());
    let remote = Admin::Remote(Remote::new(&url)?.with_token(Some(token)));
    for (label, filter) in filters(jobs) {
        for (way, admin) in [("Admin", &local), ("HTTP", &remote)] {
            let mut samples = Vec::with_capacity(runs);
            let mut rows = 0;
            for i in 0..runs + 3 {
                let started = Instant::now();
                rows = admin.list_jobs(&filter).await?.len();
                if i >= 3 {
                    samples.push(started.elapsed());
                }
            }
            let (p50, p99) = percentiles(&mut samples);
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{db:<10} {label:<20} {way:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  ({rows} rows)",
                ms(p50),
                ms(p99)
            );
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (way, admin) in [("Admin", &local), ("HTTP", &remote)] {
        let mut samples = Vec::new();
        for i in 0..(runs / 5).max(3) + 1 {
            let started = Instant::now();
            admin.overview().await?;
            if i >= 1 {
                samples.push(started.elapsed());
            }
        }
        let (p50, p99) = percentiles(&mut samples);
        println!(
            "{db:<10} {:<20} {way:<5} p50 {:>7.2} ms  p99 {:>7.2} ms",
            "overview",
            ms(p50),
            ms(p99)
        );
    }
    let lines = ferry::store::LogFilter {
        level: Some(ferry::store::LogLevel::Error),
        instance: Some("inst5".into()),
        ..Default::default()
    };
    let mut samples = Vec::new();
    for i in 0..runs + 3 {
        let started = Instant::now();
        remote.logs(&lines).await?;
        if i >= 3 {
            samples.push(started.elapsed());
        }
    }
    let (p50, p99) = percentiles(&mut samples);
    println!(
        "{db:<10} {:<20} HTTP  p50 {:>7.2} ms  p99 {:>7.2} ms",
        "logs level+instance",
        ms(p50),
        ms(p99)
    );
    stop.cancel();
    let _ = server.await;
    Ok(())
}
