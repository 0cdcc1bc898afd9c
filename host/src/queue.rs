//! The job queue's workers: claim ready jobs (best priority first), run each in
//! its module, store the outcome and the run's log; retry retryable failures
//! with exponential backoff (or the delay the remote asked for).

use crate::ferry::Ferry;
use crate::invoke::{self, Failure, JobScope};
use crate::store::{JobRow, JobState, now_ms};
use std::time::Duration;
use tokio::task::JoinSet;

/// The longest a retry is put off, whatever the remote asked for.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(24 * 3600);
/// How long after the time budget a `started` job is taken for abandoned.
const RESCUE_GRACE: Duration = Duration::from_secs(60);

/// How often a worker checks whether modules were installed or replaced.
const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Stop when no job is running and none is due within `idle_horizon`
    /// (instead of waiting for more).
    pub until_idle: bool,
    /// With `until_idle`: retries due within this long are waited for.
    pub idle_horizon: Duration,
    /// How long to sleep when the queue is empty.
    pub poll_interval: Duration,
    /// First retry delay; doubles with each try, up to an hour.
    pub retry_base: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 4,
            until_idle: false,
            idle_horizon: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
            retry_base: Duration::from_secs(10),
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs that finished done.
    pub done: u64,
    /// Jobs that failed for good.
    pub failed: u64,
    /// Tries that failed and were scheduled again.
    pub retried: u64,
}

/// Delay before try `attempt + 1`: `base · 2^(attempt-1)`, at most an hour, with
/// ±20 % jitter so that jobs failed together do not retry together.
pub fn backoff(base: Duration, attempt: i64, job_id: i64) -> Duration {
    let exp = base
        .saturating_mul(1u32 << (attempt.clamp(1, 20) - 1) as u32)
        .min(Duration::from_secs(3600));
    let spread =
        (job_id.wrapping_mul(2_654_435_761).wrapping_add(attempt) % 41) as f64 / 100.0 - 0.2;
    exp.mul_f64(1.0 + spread)
}

/// Run one claimed job to its next state.
pub async fn run_job(ferry: &Ferry, job: JobRow, retry_base: Duration) -> JobState {
    match run_claimed(ferry, &job, retry_base).await {
        Ok(state) => state,
        Err(err) => {
            // The store failed while recording the outcome: the job stays
            // `started` and a later rescue runs it again (at-least-once).
            tracing::error!(
                job = job.id,
                "could not record the outcome of job {}: {err}",
                job.id
            );
            JobState::Started
        }
    }
}

async fn run_claimed(ferry: &Ferry, job: &JobRow, retry_base: Duration) -> crate::Result<JobState> {
    let store = ferry.store();
    let scope = match store.instance(&job.instance).await {
        Ok(instance) => ferry.scope(
            instance,
            &job.user,
            Some(JobScope {
                id: job.id,
                attempt: job.attempts,
            }),
        ),
        Err(e) => Err(e),
    };
    let (outcome, contended) = match scope {
        Err(e) => (Err((Failure::from(e), Vec::new())), false),
        Ok(scope) => {
            let (resolved, result) = invoke::run_job(&scope, &job.name, &job.payload).await;
            if let Some(r) = &resolved {
                store
                    .set_job_module(job.id, r.module.name(), &r.module.content_hash)
                    .await?;
            }
            let logs = scope.take_logs();
            let contended = scope
                .lock_contended
                .load(std::sync::atomic::Ordering::Relaxed);
            (
                result.map(|out| (out, logs.clone())).map_err(|f| (f, logs)),
                contended,
            )
        }
    };
    match outcome {
        Ok((result, logs)) => {
            store.append_job_logs(job.id, &logs).await?;
            store.complete_job(job.id, &result).await?;
            Ok(JobState::Done)
        }
        Err((failure, mut logs)) => {
            logs.push(crate::store::LogLine {
                attempt: job.attempts,
                at: now_ms(),
                level: "error".into(),
                module: "host".into(),
                message: format!(
                    "try {} failed ({}): {}",
                    job.attempts, failure.kind, failure.message
                ),
            });
            store.append_job_logs(job.id, &logs).await?;
            // Meeting another run's lock is no failure of this job: that try is
            // given back, and it is retried even past its last try.
            let lock_only = contended && failure.is_retryable();
            let retry_at = (failure.is_retryable()
                && (lock_only || job.attempts <= job.max_retries))
                .then(|| {
                    let delay = failure
                        .retry_after_ms
                        .map(Duration::from_millis)
                        .unwrap_or_else(|| backoff(retry_base, job.attempts, job.id))
                        .min(MAX_RETRY_DELAY);
                    now_ms().saturating_add(delay.as_millis() as i64)
                });
            store
                .fail_job(job.id, &failure.message, failure.kind, retry_at, !lock_only)
                .await
        }
    }
}

/// Run jobs until stopped (or, with `until_idle`, until none is ready or running).
/// `on_change` is called after each finished job with the totals so far.
pub async fn run_worker(
    ferry: &Ferry,
    config: &WorkerConfig,
    mut on_change: impl FnMut(&WorkerStats),
) -> crate::Result<WorkerStats> {
    let mut stats = WorkerStats::default();
    let mut running: JoinSet<JobState> = JoinSet::new();
    let concurrency = config.concurrency.max(1);
    let mut last_refresh = std::time::Instant::now();
    let mut first = true;
    loop {
        // Pick up modules installed by other processes, without a restart, and
        // jobs whose worker stopped mid-run.
        if first || last_refresh.elapsed() >= REFRESH_INTERVAL {
            first = false;
            last_refresh = std::time::Instant::now();
            if let Err(e) = ferry.refresh().await {
                tracing::warn!("could not check for newly installed modules: {e}");
            }
            let stale_before =
                now_ms() - (ferry.engine().config().time_budget + RESCUE_GRACE).as_millis() as i64;
            match ferry.store().rescue_stale_jobs(stale_before).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    "{n} job(s) left running by a stopped worker put back in the queue"
                ),
                Err(e) => tracing::warn!("could not look for abandoned jobs: {e}"),
            }
        }
        if running.len() < concurrency {
            // A failed claim (database busy or gone) is retried, not fatal: the
            // jobs already running must still be recorded.
            let claimed = match ferry
                .store()
                .claim_jobs((concurrency - running.len()) as u32)
                .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!("could not claim jobs: {e}");
                    if running.is_empty() {
                        tokio::time::sleep(config.poll_interval).await;
                        continue;
                    }
                    Vec::new()
                }
            };
            for job in claimed {
                let (ferry, base) = (ferry.clone(), config.retry_base);
                running.spawn(async move { run_job(&ferry, job, base).await });
            }
        }
        if running.is_empty() {
            if config.until_idle {
                let due_soon =
                    ferry.store().next_eta().await?.is_some_and(|eta| {
                        eta - now_ms() <= config.idle_horizon.as_millis() as i64
                    });
                if !due_soon {
                    return Ok(stats);
                }
            }
            tokio::time::sleep(config.poll_interval).await;
            continue;
        }
        match running.join_next().await {
            Some(Ok(JobState::Done)) => stats.done += 1,
            Some(Ok(JobState::Failed)) => stats.failed += 1,
            Some(Ok(JobState::Pending)) => stats.retried += 1,
            Some(Ok(_)) => {}
            Some(Err(panic)) => tracing::error!("a job task panicked: {panic}"),
            None => {}
        }
        on_change(&stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(10);
        let first = backoff(base, 1, 7);
        let third = backoff(base, 3, 7);
        assert!(
            first >= Duration::from_secs(8) && first <= Duration::from_secs(12),
            "{first:?}"
        );
        assert!(
            third >= Duration::from_secs(32) && third <= Duration::from_secs(48),
            "{third:?}"
        );
        assert!(backoff(base, 30, 7) <= Duration::from_secs(3600 * 12 / 10));
    }
}
