//! `ferry:connector/jobs`: enqueue jobs; the running job's progress and stop flag.

use super::{HostState, WitResult, final_error, parse_json};
use crate::bindings::jobs::{self, JobSpec};
use crate::store::{NewJob, now_ms};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

/// How soon a job that found a lock taken is tried again.
const LOCKED_RETRY: Duration = Duration::from_millis(500);

/// Locks taken by runs with `lock-or-retry`, per process: key → run id.
#[derive(Debug, Default)]
pub struct RunLocks {
    held: Mutex<HashMap<String, u64>>,
}

impl RunLocks {
    /// Take `key` for run `run`; false if another run holds it.
    pub(crate) fn try_lock(&self, key: &str, run: u64) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.get(key) {
            Some(owner) => *owner == run,
            None => {
                held.insert(key.to_string(), run);
                true
            }
        }
    }

    /// Release every lock of run `run`.
    pub(crate) fn release(&self, run: u64) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, owner| *owner != run);
    }
}

/// How often progress is written to the store at most (the last report of a
/// run is always written).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// The host state behind the guest's `job-run` handle.
#[derive(Debug)]
pub struct JobRunState {
    pub(crate) id: i64,
    pub(crate) attempt: i64,
    pub(crate) last_progress: Option<Instant>,
}

impl JobRunState {
    /// The handle of job `id`, try `attempt`.
    pub(crate) fn new(id: i64, attempt: i64) -> Self {
        JobRunState {
            id,
            attempt,
            last_progress: None,
        }
    }
}

impl jobs::Host for HostState {
    async fn enqueue(&mut self, spec: JobSpec) -> WitResult<u64> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            // Refuse at once what no module of the chain could run.
            scope
                .registry
                .resolve_job(&scope.instance_key, &spec.name)?;
            let payload = parse_json(&spec.payload, &format!("payload of job {}", spec.name))?;
            let mut job = NewJob::new(&scope.instance.name, &spec.name, &payload);
            job.priority = i64::from(spec.priority.unwrap_or(10));
            job.eta = spec.eta.or(spec
                .delay_ms
                .map(|d| now_ms().saturating_add(d.min(i64::MAX as u64) as i64)));
            job.max_retries = i64::from(spec.max_retries.unwrap_or(5));
            job.identity_key = spec.identity_key;
            job.description = spec.description.unwrap_or_default();
            job.user = scope.user.clone();
            if let Some(channel) = spec.channel {
                if channel.is_empty() || channel.len() > 128 {
                    return Err(final_error("channel must be 1 to 128 characters"));
                }
                job.channel = channel;
            }
            Ok(scope.store.enqueue(&job).await? as u64)
        }
        .await)
    }

    async fn lock_or_retry(&mut self, key: String) -> WitResult<()> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            let key = format!("{}\u{0}{key}", scope.instance.name);
            if scope.locks.try_lock(&key, scope.run_id) {
                Ok(())
            } else {
                Err(crate::bindings::types::Error {
                    kind: crate::bindings::types::ErrorKind::Retryable,
                    message: format!(
                        "`{}` is locked by another run; trying again shortly",
                        key.replace('\u{0}', ": ")
                    ),
                    retry_after_ms: Some(LOCKED_RETRY.as_millis() as u64),
                })
            }
        }
        .await)
    }
}

impl jobs::HostJobRun for HostState {
    async fn id(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&run)?.id as u64)
    }

    async fn attempt(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&run)?.attempt as u32)
    }

    async fn progress(
        &mut self,
        run: Resource<JobRunState>,
        total: u64,
        done: u64,
    ) -> wasmtime::Result<()> {
        let state = self.table.get_mut(&run)?;
        let due = state
            .last_progress
            .is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL)
            || done >= total;
        if !due {
            return Ok(());
        }
        state.last_progress = Some(Instant::now());
        let id = state.id;
        if let Some(scope) = &self.scope {
            // Progress is informative: a failed write must not fail the job.
            let clamp = |n: u64| n.min(i64::MAX as u64) as i64;
            if let Err(err) = scope
                .store
                .set_job_progress(id, clamp(total), clamp(done))
                .await
            {
                tracing::warn!(job = id, "could not store progress: {err}");
            }
        }
        Ok(())
    }

    async fn stop_requested(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<bool> {
        let id = self.table.get(&run)?.id;
        match &self.scope {
            Some(scope) => Ok(scope.store.job_stop_requested(id).await.unwrap_or(false)),
            None => Ok(false),
        }
    }

    async fn drop(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<()> {
        self.table.delete(run)?;
        Ok(())
    }
}
