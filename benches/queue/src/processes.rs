//! Throughput with several worker processes on one PostgreSQL database
//! (`QUEUE_BENCH_PROCESSES=1,2,4`): the jobs are stored as in the main run,
//! then N `ferry worker --until-idle` processes start at once on the same
//! database and data directory (so the compiled component is shared) and
//! the run ends when the last one exits. It shows whether claims from
//! several processes (`FOR UPDATE SKIP LOCKED`, leases, fencing tokens)
//! collide, not more cores: on a 2-core machine four processes share two.
//!
//! The `ferry` binary is `QUEUE_BENCH_FERRY_BIN`, by default the release
//! build in this workspace's `target/` (`cargo build --release --bin ferry`
//! first).

use crate::Settings;
use anyhow::Context as _;
use ferry::FerryOptions;
use ferry::builder::Built;
use ferry::store::JobState;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The `ferry` binary the worker processes run.
pub fn ferry_bin() -> PathBuf {
    std::env::var_os("QUEUE_BENCH_FERRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/ferry")
        })
}

/// What a run with N processes measured.
#[derive(Debug, Clone, Copy)]
pub struct ProcessesRun {
    /// From the start of the processes to the exit of the last one.
    pub took: Duration,
    /// The largest peak resident memory of one process, in MiB.
    pub peak_rss_mib: f64,
}

/// The peak resident memory of process `pid` so far, in KiB (Linux).
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Store `settings.jobs` jobs in a fresh schema, then run them with
/// `processes` worker processes.
pub async fn measure(
    settings: &Settings,
    built: &Built,
    processes: usize,
) -> anyhow::Result<ProcessesRun> {
    let bin = ferry_bin();
    anyhow::ensure!(
        bin.is_file(),
        "{}: no ferry binary: `cargo build --release --bin ferry` first (or set QUEUE_BENCH_FERRY_BIN)",
        bin.display()
    );
    let base = settings
        .postgres
        .as_deref()
        .context("worker processes need PostgreSQL")?;
    let schema = format!("bench_procs_{}_{processes}", std::process::id());
    let url = crate::fresh_schema(base, &schema).await?;
    let dir = tempfile::tempdir()?;
    let mut options = FerryOptions::new(dir.path());
    options.database_url = Some(url.clone());
    let ferry = crate::ferry_side::set_up(settings, built, options).await?;
    crate::ferry_side::enqueue_jobs(settings, &ferry).await?;

    let started = Instant::now();
    let mut children = Vec::new();
    for _ in 0..processes {
        let child = tokio::process::Command::new(&bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--database", &url, "worker", "--until-idle", "--no-cron"])
            .args(["--no-sources", "--no-relay", "--job-retention", "off"])
            .args(["--concurrency", &settings.concurrency.to_string()])
            .args(["--batch", &settings.batch.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        children.push(child);
    }
    // Peak resident memory of each process (`VmHWM`), read while it runs.
    let mut peak_kib = vec![0u64; children.len()];
    let mut running = children.len();
    while running > 0 {
        running = 0;
        for (child, peak) in children.iter_mut().zip(peak_kib.iter_mut()) {
            if let Some(status) = child.try_wait()? {
                anyhow::ensure!(status.success(), "a worker process failed ({status})");
                continue;
            }
            running += 1;
            if let Some(kib) = child.id().and_then(vm_hwm_kib) {
                *peak = (*peak).max(kib);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let done = ferry.store().count_jobs(JobState::Done).await?;
    anyhow::ensure!(
        done == settings.jobs as i64,
        "{processes} processes ran {done} of {} jobs",
        settings.jobs
    );
    drop(ferry);
    crate::drop_schema(base, &schema).await?;
    let peak = peak_kib.into_iter().max().unwrap_or(0);
    Ok(ProcessesRun {
        took,
        peak_rss_mib: peak as f64 / 1024.0,
    })
}
