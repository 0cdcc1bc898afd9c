//! Queue throughput, Ferry against apalis: see the crate's documentation
//! (`src/lib.rs`) and BENCHMARKS.md. Prints each run, then a table of medians.

use ferry_queue_bench::report::{Row, rate, table};
use ferry_queue_bench::{Database, Settings, Timing, ferry_side, latency, processes};

/// The allocator of the `ferry` binary (see `host/src/main.rs`), so that
/// the workers measured here allocate as a deployed worker does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let settings = Settings::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut databases = vec![Database::Sqlite];
    if settings.postgres.is_some() {
        databases.push(Database::Postgres);
    }
    println!(
        "queue throughput: {} no-op jobs, {} run(s) each, enqueue batch {}, concurrency {}, claim batch {}",
        settings.jobs, settings.runs, settings.enqueue_batch, settings.concurrency, settings.batch
    );
    let mut rows = Vec::new();
    if settings.wants("ferry") {
        let built = ferry_side::build_connector()?;
        for &database in &databases {
            let mut runs = Vec::new();
            for run in 0..settings.runs {
                let timing = runtime.block_on(ferry_side::run(&settings, &built, database, run))?;
                print_run("Ferry", database, settings.jobs, &timing);
                runs.push(timing);
            }
            rows.push(Row::of("Ferry", database.name(), &runs));
        }
        for &database in databases.iter().filter(|_| settings.wakeups > 0) {
            let l = runtime.block_on(latency::measure(
                &settings,
                &built,
                database,
                settings.wakeups,
            ))?;
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
            println!(
                "Ferry  {:<10} wake-up (enqueue -> done, idle worker, {} jobs): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                database.name(),
                settings.wakeups,
                ms(l.p50),
                ms(l.p99),
                ms(l.max)
            );
        }
    }
    if settings.wants("ferry") && settings.postgres.is_some() {
        let built = ferry_side::build_connector()?;
        for &processes in &settings.processes {
            for _ in 0..settings.runs {
                let run = runtime.block_on(processes::measure(&settings, &built, processes))?;
                println!(
                    "Ferry  PostgreSQL {processes} worker process(es): execute {:>8.0} jobs/s  peak RSS of a process {:.1} MiB",
                    rate(settings.jobs, run.took),
                    run.peak_rss_mib
                );
            }
        }
    }
    #[cfg(feature = "apalis")]
    if settings.wants("apalis") {
        for &database in &databases {
            let mut runs = Vec::new();
            for run in 0..settings.runs {
                let timing = runtime.block_on(ferry_queue_bench::apalis_side::run(
                    &settings, database, run,
                ))?;
                print_run("apalis", database, settings.jobs, &timing);
                runs.push(timing);
            }
            rows.push(Row::of("apalis", database.name(), &runs));
        }
    }
    #[cfg(not(feature = "apalis"))]
    println!("(apalis not compiled in: add --features apalis to compare)");
    println!("\nmedians:\n{}", table(settings.jobs, &rows));
    Ok(())
}

fn print_run(queue: &str, database: Database, jobs: usize, t: &Timing) {
    println!(
        "{queue:<6} {:<10} enqueue {:>8.0} jobs/s  execute {:>8.0} jobs/s  total {:>8.0} jobs/s",
        database.name(),
        rate(jobs, t.enqueue),
        rate(jobs, t.execute),
        rate(jobs, t.total())
    );
}
