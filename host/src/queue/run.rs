//! Running one claimed job: its scope, the module version it is pinned to,
//! the guest call, and the report of its outcome.

use super::recorder::Report;
use super::retry::{NextTry, next_try};
use crate::backend::{BackendKey, Registry};
use crate::ferry::Ferry;
use crate::invoke::{self, Failure, JobScope};
use crate::limits::truncate;
use crate::store::{BackendInstance, Completion, FailedTry, JobRow, LogLine, PinPolicy, now_ms};
use std::sync::Arc;
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

/// Run `job` (claimed, with its instance) and report the outcome.
pub(crate) async fn run(
    ferry: &Ferry,
    job: &JobRow,
    instance: Result<BackendInstance, crate::Error>,
    retry_base: Duration,
    report: &tokio::sync::mpsc::UnboundedSender<Report>,
) -> Ended {
    let started_at = now_ms();
    let token = job.lease_token.unwrap_or_default();
    let _ = report.send(Report::Started(job.id, token, started_at));
    let mut logs = Vec::new();
    let mut module = None;
    let mut contended = false;
    let mut remote_asked_to_wait = false;
    let limits = ferry.engine().config().limits.clone();
    let outcome = match instance {
        Err(e) => Err(Failure::from(e)),
        Ok(instance) => match pinned_registry(ferry, job, &instance, &mut logs).await {
            Err(failure) => Err(failure),
            Ok(registry) => {
                let scope = ferry.scope_on(
                    registry,
                    instance,
                    &job.user,
                    Some(JobScope {
                        id: job.id,
                        attempt: job.attempts,
                        token,
                    }),
                );
                match scope {
                    Err(e) => Err(Failure::from(e)),
                    Ok(scope) => {
                        let (resolved, result) =
                            invoke::run_job(&scope, &job.name, &job.payload).await;
                        module = resolved
                            .map(|r| (r.module.name().to_string(), r.module.content_hash.clone()));
                        logs.extend(scope.take_logs());
                        contended = scope.lock_contended();
                        remote_asked_to_wait = scope.remote_asked_to_wait();
                        result
                    }
                }
            }
        },
    };
    match outcome {
        Ok(result) => {
            let done = Completion {
                id: job.id,
                token,
                result,
                module,
                started_at,
                progress: None,
            };
            let _ = report.send(Report::Done(done, logs));
            Ended::Done
        }
        Err(mut failure) => {
            // Kept twice (the job's error and its log): bounded.
            failure.message = truncate(
                &failure.message,
                limits.max_error_bytes.as_u64() as usize,
                "max_error_bytes",
            );
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
            } = next_try(
                job,
                &failure,
                contended,
                retry_base,
                remote_asked_to_wait.then_some(limits.max_snooze),
            );
            let failed = FailedTry {
                id: job.id,
                token,
                error: failure.message,
                kind: failure.kind.to_string(),
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

/// The registry to run `job` with: the current one, unless the job is pinned
/// to a module version that is no longer current, in which case its policy
/// decides (run on the kept version, migrate saying so, or fail saying why).
async fn pinned_registry(
    ferry: &Ferry,
    job: &JobRow,
    instance: &BackendInstance,
    logs: &mut Vec<LogLine>,
) -> Result<Arc<Registry>, Failure> {
    let registry = ferry.registry();
    let Some(pin) = &job.pin else {
        return Ok(registry);
    };
    let key = BackendKey::parse(&instance.backend)
        .map_err(|e| Failure::from(crate::Error::Invalid(e)))?;
    let Ok(current) = registry.resolve_job(&key, &job.name) else {
        return Ok(registry); // the run itself reports what is missing
    };
    let now = &current.module;
    if now.content_hash == pin.hash {
        return Ok(registry);
    }
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let change = format!(
        "job {} was enqueued for module {} {}; module {} {} ({}) answers it now",
        job.id,
        pin.module,
        short(&pin.hash),
        now.name(),
        now.manifest.module.version,
        short(&now.content_hash),
    );
    let fail = |message: String| Failure {
        kind: "final",
        message,
        retry_after_ms: None,
    };
    match job.pin_policy {
        PinPolicy::Fail => Err(fail(format!("{change} (pin policy: fail)"))),
        PinPolicy::Migrate => {
            logs.push(LogLine {
                attempt: job.attempts,
                at: now_ms(),
                level: "warn".into(),
                module: "host".into(),
                message: format!("{change}: running on the new version (pin policy: migrate)"),
            });
            Ok(registry)
        }
        PinPolicy::Keep => match ferry.module_version(&pin.hash).await {
            Ok(Some(kept)) => registry
                .with(kept)
                .map(Arc::new)
                .map_err(|e| fail(format!("{change}; the kept version cannot be loaded: {e}"))),
            Ok(None) => Err(fail(format!(
                "{change}, and that version is no longer kept (pin policy: keep); to run this payload \
                 on the new version, enqueue it again with `--pin-policy migrate`"
            ))),
            Err(e) => Err(Failure::from(e)),
        },
    }
}
