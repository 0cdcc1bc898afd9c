//! Medians and the printed table.

use crate::Timing;
use std::time::Duration;

/// The medians of one queue on one database.
#[derive(Debug, Clone)]
pub struct Row {
    /// `Ferry` or `apalis`.
    pub queue: &'static str,
    /// `SQLite` or `PostgreSQL`.
    pub database: &'static str,
    /// Median time to store the jobs.
    pub enqueue: Duration,
    /// Median time to run them.
    pub execute: Duration,
    /// Median of enqueue + execute, per run.
    pub total: Duration,
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

impl Row {
    /// The medians of `runs` (at least one).
    pub fn of(queue: &'static str, database: &'static str, runs: &[Timing]) -> Row {
        Row {
            queue,
            database,
            enqueue: median(runs.iter().map(|t| t.enqueue).collect()),
            execute: median(runs.iter().map(|t| t.execute).collect()),
            total: median(runs.iter().map(Timing::total).collect()),
        }
    }
}

/// Jobs per second.
pub fn rate(jobs: usize, took: Duration) -> f64 {
    jobs as f64 / took.as_secs_f64()
}

/// The table: jobs/s enqueued, executed and end to end, then Ferry / apalis
/// per database where both ran.
pub fn table(jobs: usize, rows: &[Row]) -> String {
    let mut out = String::from(
        "| queue | database | enqueue jobs/s | execute jobs/s | total jobs/s |\n|---|---|---:|---:|---:|\n",
    );
    for r in rows {
        out += &format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} |\n",
            r.queue,
            r.database,
            rate(jobs, r.enqueue),
            rate(jobs, r.execute),
            rate(jobs, r.total)
        );
    }
    let find = |q: &str, d: &str| rows.iter().find(|r| r.queue == q && r.database == d);
    for database in ["SQLite", "PostgreSQL"] {
        if let (Some(f), Some(a)) = (find("Ferry", database), find("apalis", database)) {
            out += &format!(
                "\nFerry / apalis on {database}: enqueue {:.2}x, execute {:.2}x, total {:.2}x",
                a.enqueue.as_secs_f64() / f.enqueue.as_secs_f64(),
                a.execute.as_secs_f64() / f.execute.as_secs_f64(),
                a.total.as_secs_f64() / f.total.as_secs_f64(),
            );
        }
    }
    out
}
