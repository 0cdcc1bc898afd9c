//! Running one claimed job through the worker's [`Executor`], and the report
//! of its outcome: done, or failed with what the queue's policy decides
//! follows (see [`next_try`]).

use super::executor::{Execution, Executor};
use super::recorder::Report;
use super::retry::{NextTry, next_try};
use crate::store::{Completion, FailedTry, JobRow, LogLine, now_ms};
use std::time::Duration;

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

/// Run `job` (claimed) and report the outcome.
pub(crate) async fn run(
    executor: &dyn Executor,
    job: &JobRow,
    retry_base: Duration,
    report: &tokio::sync::mpsc::UnboundedSender<Report>,
) -> Ended {
    let started_at = now_ms();
    let token = job.lease_token.unwrap_or_default();
    let _ = report.send(Report::Started(job.id, token, started_at));
    let Execution {
        outcome,
        module,
        mut logs,
        lock_contended,
        snooze_cap,
        cursors,
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
