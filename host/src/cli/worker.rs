//! `ferry worker` (and the worker pool of `ferry serve`): options, a progress
//! bar, and a clean stop on SIGTERM or Ctrl-C.

use super::output::Output;
use anyhow::{Context, Result};
use clap::Args;
use ferry::Ferry;
use ferry::queue::{Channels, WorkerConfig, WorkerStats};
use ferry::store::{JobState, Outlook, now_ms};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// `ferry worker`.
#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    /// Stop when no job is runnable now and none is running here; then say
    /// what is left and when it becomes due.
    #[arg(long)]
    pub until_idle: bool,
    /// With --until-idle: also wait for jobs due within this long (retries,
    /// delayed jobs, snoozes that end), e.g. 2m.
    #[arg(long, requires = "until_idle", value_parser = super::args::parse_age)]
    pub wait_retries: Option<Duration>,
    /// With --until-idle: also wait while other workers hold jobs (a dead
    /// worker's jobs are rescued when its lease expires, then run here).
    #[arg(long, requires = "until_idle")]
    pub wait_leases: bool,
    /// Do not run the cron scheduler beside the worker (another node runs it).
    #[arg(long)]
    pub no_cron: bool,
    /// Do not consume broker sources beside the worker (`ferry source`).
    #[arg(long)]
    pub no_sources: bool,
    /// Do not relay the outbox to brokers beside the worker (`ferry topic`).
    #[arg(long)]
    pub no_relay: bool,
    /// The worker pool.
    #[command(flatten)]
    pub pool: PoolArgs,
}

impl WorkerArgs {
    /// The worker configuration these options describe.
    pub fn config(&self) -> Result<WorkerConfig> {
        Ok(WorkerConfig {
            until_idle: self.until_idle,
            idle_horizon: self.wait_retries.unwrap_or_default(),
            wait_leases: self.wait_leases,
            ..self.pool.config()?
        })
    }
}

/// How a worker pool runs (`ferry worker`, `ferry serve`).
#[derive(Args, Debug, Clone)]
pub struct PoolArgs {
    /// Jobs run at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Most jobs held at once (running, and claimed waiting for a free
    /// slot). Below it a worker claims ahead what its slots run in about two
    /// claims' round trips: a few for slow jobs, hundreds for many short ones
    /// (a claim waits its turn to write; see BENCHMARKS.md). Jobs held wait
    /// for this worker alone.
    #[arg(long, default_value_t = ferry::queue::DEFAULT_BATCH)]
    pub batch: usize,
    /// Channel capacities across all workers, e.g. `root:8,root.shop:2`.
    #[arg(long, env = "FERRY_CHANNELS", default_value = "")]
    pub channels: String,
    /// Lease of a claim; a dead worker's jobs run again after it (e.g. 30s).
    #[arg(long, default_value = "30s", value_parser = super::args::parse_age)]
    pub lease: Duration,
    /// At shutdown, how long running jobs may take to finish (e.g. 30s).
    #[arg(long, default_value = "30s", value_parser = super::args::parse_age)]
    pub grace: Duration,
    /// Forget finished jobs (with their logs and steps), transmissions and
    /// sent outbox messages older than this, while running (e.g. 30d, 12h;
    /// `off` keeps everything).
    #[arg(long, env = "FERRY_JOB_RETENTION", default_value = "30d", value_parser = parse_retention)]
    pub job_retention: Retention,
    /// Also serve GET /metrics on this address, without a token (e.g.
    /// 127.0.0.1:9464), for a Prometheus scraper on a private network.
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
}

impl PoolArgs {
    /// Start the `--metrics-addr` listener, if asked, until `shutdown`.
    pub async fn serve_metrics(
        &self,
        ferry: &Ferry,
        shutdown: CancellationToken,
    ) -> Result<Option<JoinHandle<ferry::Result<()>>>> {
        let Some(addr) = self.metrics_addr else {
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--metrics-addr: cannot listen on {addr}"))?;
        let bound = listener.local_addr()?;
        tracing::info!("metrics at http://{bound}/metrics");
        let served = ferry::serve::serve_metrics(ferry.clone(), listener, shutdown);
        Ok(Some(tokio::spawn(served)))
    }
}

impl PoolArgs {
    /// The worker configuration these options describe.
    pub fn config(&self) -> Result<WorkerConfig> {
        Ok(WorkerConfig {
            concurrency: self.concurrency,
            batch: self.batch,
            channels: self.channels.parse::<Channels>()?,
            lease: self.lease,
            grace: self.grace,
            retention: self.job_retention.0,
            ..Default::default()
        })
    }
}

/// `--job-retention`: an age, or none (`off`).
#[derive(Debug, Clone, Copy)]
pub struct Retention(pub Option<Duration>);

fn parse_retention(text: &str) -> std::result::Result<Retention, String> {
    match text {
        "off" | "none" | "never" => Ok(Retention(None)),
        age => {
            let age = super::args::parse_age(age)?;
            if age < ferry::admin::MIN_PRUNE_AGE {
                return Err(format!(
                    "`{text}`: a retention is at least an hour (e.g. 30d), or `off`"
                ));
            }
            Ok(Retention(Some(age)))
        }
    }
}

/// Wait for the `--metrics-addr` listener (its shutdown token cancelled) to
/// end, saying so if it failed.
pub async fn metrics_stopped(listener: Option<JoinHandle<ferry::Result<()>>>) {
    if let Some(listener) = listener {
        match listener.await {
            Ok(Err(e)) => tracing::error!("the metrics listener failed: {e}"),
            Err(e) => tracing::error!("the metrics listener ended abnormally: {e}"),
            Ok(Ok(())) => {}
        }
    }
}

/// Cancel `config.shutdown` on SIGTERM or Ctrl-C.
pub fn stop_on_signal(config: &WorkerConfig) {
    let shutdown = config.shutdown.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("cannot listen for SIGTERM: {e}");
                        let _ = ctrl_c.await;
                        shutdown.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::warn!("stopping: no new jobs are claimed; running jobs get the grace period");
        shutdown.cancel();
    });
}

/// `ferry worker`: a worker and, beside it, the background triggers (the
/// cron scheduler, which runs only while this node holds the scheduler lease,
/// and the broker sources) and the `--metrics-addr` listener; all stop
/// together.
pub async fn work_with_triggers(
    ferry: &Ferry,
    out: &Output,
    mut config: WorkerConfig,
    pool: &PoolArgs,
    which: ferry::triggers::background::Background,
) -> Result<()> {
    let node = ferry::queue::node_name(config.name.as_deref());
    config.name = Some(node.clone());
    let background = ferry::triggers::background::start(ferry, which, &node, &config.shutdown);
    let metrics = pool
        .serve_metrics(ferry, config.shutdown.child_token())
        .await?;
    let result = work(ferry, out, config.clone()).await.map(|_| ());
    config.shutdown.cancel();
    metrics_stopped(metrics).await;
    background.stopped().await;
    result
}

/// Run a worker with a progress bar on the terminal.
pub async fn work(ferry: &Ferry, out: &Output, config: WorkerConfig) -> Result<WorkerStats> {
    let bar = out.progress_bar("jobs");
    let pending = ferry.store().count_jobs(JobState::Pending).await?;
    bar.set_length(pending.max(0) as u64);
    let shown = bar.clone();
    let stats = ferry
        .run_worker(&config, move |s| {
            shown.set_position(s.done + s.failed);
            shown.set_message(format!(
                "{} done, {} failed, {} retried",
                s.done, s.failed, s.retried
            ));
        })
        .await?;
    bar.finish_and_clear();
    let left = match config.until_idle {
        true => Some(ferry.store().outlook().await?),
        false => None,
    };
    let mut human = format!(
        "worker: {} done, {} failed, {} retried, {} given back",
        stats.done, stats.failed, stats.retried, stats.released
    );
    if let Some(left) = &left {
        human.push_str(&left_text(left, now_ms()));
    }
    out.value(
        &json!({
            "done": stats.done, "failed": stats.failed, "retried": stats.retried,
            "released": stats.released, "left": left,
        }),
        &human,
    );
    Ok(stats)
}

/// What a worker run `--until-idle` leaves behind, and when it becomes due.
fn left_text(left: &Outlook, now: i64) -> String {
    if left.is_empty() {
        return "\nnothing left in the queue".into();
    }
    let when = |at: i64| {
        let wait = Duration::from_millis((at - now).max(0) as u64);
        match wait.as_secs() {
            0 => "now".to_string(),
            _ => format!(
                "in {}",
                humantime::format_duration(Duration::from_secs(wait.as_secs()))
            ),
        }
    };
    let mut text = String::from("\nleft:");
    if left.pending > 0 {
        text.push_str(&format!("\n  {} pending", left.pending));
        match left.next_due {
            Some(due) if left.runnable == 0 => text.push_str(&format!(
                ", the next due {} (--wait-retries waits for it)",
                when(due)
            )),
            _ => text.push_str(&format!(", {} runnable now", left.runnable)),
        }
    }
    for held in &left.held {
        text.push_str(&format!("\n  {} held by worker {}", held.jobs, held.worker));
        if let Some(until) = held.lease_until {
            text.push_str(&format!(
                " (its lease ends {} unless renewed; --wait-leases waits for them)",
                when(until)
            ));
        }
    }
    text
}
