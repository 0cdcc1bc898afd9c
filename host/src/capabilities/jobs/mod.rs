//! `ferry:connector/jobs`: enqueue jobs; the running job's progress and stop flag.

use super::{HostState, WitResult, final_error, parse_json};
use crate::bindings::jobs::{self, JobSpec};
use crate::invoke::Produced;
use crate::manifest::valid_name;
use crate::store::{NewJob, Store, now_ms};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

/// How soon a job that found a lock taken is tried again.
const LOCKED_RETRY: Duration = Duration::from_millis(500);

/// Locks taken by runs with `lock-or-retry`: kept in the database (shared
/// by every worker process); this remembers which runs of this process took
/// one, so that only those release at their end.
#[derive(Debug)]
pub struct RunLocks {
    store: Store,
    /// Tells this process's runs from other processes' runs.
    process: u64,
    holding: Mutex<HashSet<u64>>,
}

impl RunLocks {
    /// Locks in `store`.
    pub(crate) fn new(store: Store) -> Self {
        RunLocks {
            store,
            process: fastrand::u64(..),
            holding: Mutex::default(),
        }
    }

    fn holder(&self, run: u64) -> String {
        format!("{:016x}-{run}", self.process)
    }

    /// Take `key` for run `run` (of job `job` = (id, claim token)) for at most
    /// `ttl`; false if another run holds it.
    pub(crate) async fn try_lock(
        &self,
        key: &str,
        run: u64,
        job: Option<(i64, i64)>,
        ttl: Duration,
    ) -> crate::Result<bool> {
        self.holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run);
        let expires = now_ms().saturating_add(ttl.as_millis() as i64);
        self.store
            .try_run_lock(key, &self.holder(run), job, expires)
            .await
    }

    /// Release every lock of run `run` (in the background: called on drop).
    pub(crate) fn release(&self, run: u64) {
        let held = self
            .holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&run);
        if held && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, holder) = (self.store.clone(), self.holder(run));
            runtime.spawn(async move {
                if let Err(e) = store.release_run_locks(&holder).await {
                    tracing::warn!(
                        "could not release the locks of run {holder} (they expire): {e}"
                    );
                }
            });
        }
    }
}

/// How often progress is written to the store at most (the last report of a
/// run is written when it ends).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);
/// How long an answer of `stop-requested` is reused.
const STOP_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The host state behind the guest's `job-run` handle.
#[derive(Debug)]
pub struct JobRunState {
    pub(crate) id: i64,
    pub(crate) attempt: i64,
    last_written: Option<Instant>,
    /// Progress reported but not written yet (written when the run ends).
    pub(crate) unsaved: Arc<Mutex<Option<(i64, i64)>>>,
    stop_checked: Option<Instant>,
    stop: bool,
}

impl JobRunState {
    /// The handle of job `id`, try `attempt`; progress not yet written goes to `unsaved`.
    pub(crate) fn new(id: i64, attempt: i64, unsaved: Arc<Mutex<Option<(i64, i64)>>>) -> Self {
        JobRunState {
            id,
            attempt,
            last_written: None,
            unsaved,
            stop_checked: None,
            stop: false,
        }
    }
}

impl jobs::Host for HostState {
    async fn enqueue(&mut self, spec: JobSpec) -> WitResult<u64> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            // Refuse at once what no module of the chain could run.
            let resolved = scope
                .registry
                .resolve_job(&scope.instance_key, &spec.name)?;
            scope.charge(Produced::Jobs)?;
            scope.check_payload(&format!("payload of job {}", spec.name), &spec.payload)?;
            if let Some(key) = &spec.identity_key {
                scope.check_key("identity key", key)?;
            }
            let payload = parse_json(&spec.payload, &format!("payload of job {}", spec.name))?;
            let mut job = NewJob::new(&scope.instance.name, &spec.name, &payload);
            job.priority = i64::from(spec.priority.unwrap_or(10));
            job.eta = spec.eta.or(spec
                .delay_ms
                .map(|d| now_ms().saturating_add(d.min(i64::MAX as u64) as i64)));
            job.max_retries = i64::from(spec.max_retries.unwrap_or(5));
            job.identity_key = spec.identity_key;
            job.description = spec.description.unwrap_or_default();
            if job.description.len() > 1024 {
                return Err(final_error(format!(
                    "job description of {} bytes: 1024 at most",
                    job.description.len()
                )));
            }
            job.user = scope.user.clone();
            job.pin = Some(crate::store::Pin {
                module: resolved.module.name().to_string(),
                hash: resolved.module.content_hash.clone(),
            });
            if let Some(channel) = spec.channel {
                if channel.len() > 128 || !channel.split('.').all(valid_name) {
                    return Err(final_error(format!(
                        "channel {channel:?}: names of letters, digits, `-` and `_` joined by `.`, \
                         128 characters at most"
                    )));
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
            scope.check_key("lock key", &key)?;
            let key = format!("{}\u{1f}{key}", scope.instance.name);
            let job = scope.job.as_ref().map(|j| (j.id, j.token));
            let ttl = scope.engine.config().time_budget + Duration::from_secs(60);
            if scope.locks.try_lock(&key, scope.run_id, job, ttl).await? {
                Ok(())
            } else {
                scope
                    .lock_contended
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                Err(crate::bindings::types::Error {
                    kind: crate::bindings::types::ErrorKind::Retryable,
                    message: format!(
                        "`{}` is locked by another run; trying again shortly",
                        key.replace('\u{1f}', ": ")
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
        let clamp = |n: u64| n.min(i64::MAX as u64) as i64;
        let state = self.table.get_mut(&run)?;
        *state.unsaved.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((clamp(total), clamp(done)));
        // Throttled: a guest reporting in a tight loop must not flood the store.
        if state
            .last_written
            .is_some_and(|t| t.elapsed() < PROGRESS_INTERVAL)
        {
            return Ok(());
        }
        state.last_written = Some(Instant::now());
        state
            .unsaved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let id = state.id;
        if let Some(scope) = &self.scope
            && let Some(job) = &scope.job
        {
            // Progress is informative: a failed write must not fail the job.
            // The claim's token fences it: a rescued run reports nothing.
            if let Err(err) = scope
                .store
                .set_job_progress(id, job.token, clamp(total), clamp(done))
                .await
            {
                tracing::warn!(job = id, "could not store progress: {err}");
            }
        }
        Ok(())
    }

    async fn stop_requested(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<bool> {
        let state = self.table.get(&run)?;
        if state.stop
            || state
                .stop_checked
                .is_some_and(|t| t.elapsed() < STOP_CHECK_INTERVAL)
        {
            return Ok(state.stop);
        }
        let id = state.id;
        let stop = match &self.scope {
            Some(scope) => scope.store.job_stop_requested(id).await.unwrap_or(false),
            None => false,
        };
        let state = self.table.get_mut(&run)?;
        state.stop_checked = Some(Instant::now());
        state.stop = stop;
        Ok(stop)
    }

    async fn drop(&mut self, run: Resource<JobRunState>) -> wasmtime::Result<()> {
        self.table.delete(run)?;
        Ok(())
    }
}
