//! Running one claimed job through the worker's [`Executor`], and the report
//! of its outcome: done, or failed with what the queue's policy decides
//! follows (see [`next_try`]).

use super::executor::{Execution, Executor};
use super::recorder::Report;
use super::retry::{NextTry, next_try};
use crate::metrics::{JobOutcome, Metrics};
use crate::store::{Completion, FailedTry, JobRow, LogLine, now_ms};
use std::time::{Duration, Instant};

/// How a job's run ended, for the worker's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Done.
    Done,
    /// Failed, to be tried again; with the instance if its remote asked every
    /// job of it to wait.
    Retried(Option<String>),
    /// Failed for good.
    Failed,
}

/// Run `job` (claimed) and report the outcome; count it in `metrics`.
pub(crate) async fn run(
    executor: &dyn Executor,
    job: &JobRow,
    retry_base: Duration,
    report: &tokio::sync::mpsc::UnboundedSender<Report>,
    metrics: &Metrics,
) -> Ended {
    let started_at = now_ms();
    let clock = Instant::now();
    let token = job.lease_token.unwrap_or_default();
    let _ = report.send(Report::Started(job.id, token, started_at));
    // Waited since it could first run: created, or its eta (a retry's too).
    let ready_at = job.created_at.max(job.eta.unwrap_or(0));
    let wait = Duration::from_millis((started_at - ready_at).max(0) as u64);
    metrics.job_started(&job.instance, &job.name, wait);
    let ended = run_once(executor, job, retry_base, report, started_at).await;
    let outcome = match ended {
        Ended::Done => JobOutcome::Done,
        Ended::Retried(_) => JobOutcome::Retried,
        Ended::Failed => JobOutcome::Failed,
    };
    metrics.job_ended(&job.instance, &job.name, outcome, clock.elapsed());
    ended
}

async fn run_once(
    executor: &dyn Executor,
    job: &JobRow,
    retry_base: Duration,
    report: &tokio::sync::mpsc::UnboundedSender<Report>,
    started_at: i64,
) -> Ended {
    let token = job.lease_token.unwrap_or_default();
    let Execution {
        outcome,
        module,
        mut logs,
        lock_contended,
        snooze_cap,
        cursors,
        messages,
    } = executor.execute(job).await;
    match outcome {
        Ok(result) => {
            let done = Completion {
                id: job.id,
                token,
                result,
                module,
                started_at,
                progress: None,
                cursors,
                messages,
            };
            let _ = report.send(Report::Done(done, logs));
            Ended::Done
        }
        Err(failure) => {
            logs.push(LogLine {
                attempt: job.attempts,
                at: now_ms(),
                level: "error".into(),
                module: "host".into(),
                message: format!(
                    "try {} failed ({}): {}",
                    job.attempts, failure.kind, failure.message
                ),
            });
            let NextTry {
                retry_at,
                count_try,
                snooze_until,
            } = next_try(job, &failure, lock_contended, retry_base, snooze_cap);
            let failed = FailedTry {
                id: job.id,
                token,
                error: failure.message,
                kind: failure.kind,
                retry_at,
                count_try,
                snooze_until,
                module,
                started_at: Some(started_at),
            };
            let _ = report.send(Report::Failed(failed, logs));
            match retry_at {
                Some(_) => Ended::Retried(snooze_until.map(|_| job.instance.clone())),
                None => Ended::Failed,
            }
        }
    }
}
