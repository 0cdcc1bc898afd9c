//! `ferry:connector/jobs`: enqueue jobs; the running job's progress and stop flag.

mod locks;

pub use locks::RunLocks;

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{Produced, RunContext};
use super::wit::{WitResult, final_error, parse_json};
use crate::backend::checked_payload;
use crate::bindings::jobs::{self, JobSpec};
use crate::engine::config::EngineConfig;
use crate::manifest::valid_name;
use crate::store::{NewJob, Store, now_ms};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, Resource};

/// How soon a job that found a lock taken is tried again.
const LOCKED_RETRY: Duration = Duration::from_millis(500);

/// Jobs: enqueue jobs, `lock-or-retry`, and the running job's handle.
pub struct Jobs;

/// What every run of the process shares of jobs.
#[derive(Debug)]
pub struct JobsConfig {
    /// Locks of `lock-or-retry`.
    locks: Arc<RunLocks>,
    /// How long a lock is held at most (the time budget, and a margin).
    lock_ttl: Duration,
}

/// One run's locks.
#[derive(Debug)]
pub struct JobsRun {
    locks: Arc<RunLocks>,
    /// Identifies this run's locks.
    run_id: u64,
    lock_ttl: Duration,
    /// Set when `lock-or-retry` found a lock taken: such a retry is not a failure.
    contended: AtomicBool,
}

impl JobsRun {
    /// Whether `lock-or-retry` found a lock taken during the run.
    pub(crate) fn lock_contended(&self) -> bool {
        self.contended.load(Ordering::Relaxed)
    }
}

impl Drop for JobsRun {
    fn drop(&mut self) {
        self.locks.release(self.run_id);
    }
}

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

impl Capability for Jobs {
    type Config = JobsConfig;
    type RunState = JobsRun;
    type State = Option<Arc<JobsRun>>;

    fn config(engine: &EngineConfig, store: &Store) -> JobsConfig {
        JobsConfig {
            locks: Arc::new(RunLocks::new(store.clone())),
            lock_ttl: engine.time_budget + Duration::from_secs(60),
        }
    }

    fn run_state(config: &JobsConfig, _run: &RunContext) -> JobsRun {
        JobsRun {
            locks: config.locks.clone(),
            run_id: NEXT_RUN.fetch_add(1, Ordering::Relaxed),
            lock_ttl: config.lock_ttl,
            contended: AtomicBool::new(false),
        }
    }

    fn state(setup: &mut Setup<'_, Self>) -> Self::State {
        setup.run.map(|(_, run)| run.clone())
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        jobs::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
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

impl jobs::Host for View<'_, Jobs> {
    async fn enqueue(&mut self, spec: JobSpec) -> WitResult<u64> {
        self.with_run(async move |run| {
            // Refuse at once what no module of the chain could run.
            let resolved = run.registry.resolve_job(&run.instance_key, &spec.name)?;
            run.charge(Produced::Jobs)?;
            run.check_payload(&format!("payload of job {}", spec.name), &spec.payload)?;
            if let Some(key) = &spec.identity_key {
                run.check_key("identity key", key)?;
            }
            let payload = parse_json(&spec.payload, &format!("payload of job {}", spec.name))?;
            let mut job = NewJob::new(&run.instance.name, &spec.name, &payload);
            // A payload the job's parameters refuse would fail however often
            // it is retried.
            job.payload = checked_payload(&resolved.module, &spec.name, &job.payload)
                .map_err(|e| final_error(e.to_string()))?;
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
            job.user = run.user.clone();
            // A guest outside a job is a webhook handler (or a direct call).
            job.trigger = if run.job.is_some() {
                crate::store::Trigger::Job
            } else {
                crate::store::Trigger::Webhook
            };
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
            Ok(run.store.enqueue(&job).await? as u64)
        })
        .await
    }

    async fn lock_or_retry(&mut self, key: String) -> WitResult<()> {
        let locks = self.state.clone();
        self.with_run(async move |run| {
            // Present whenever the run is.
            let Some(locks) = locks else {
                return Err(final_error("no locks in this run"));
            };
            run.check_key("lock key", &key)?;
            let key = format!("{}\u{1f}{key}", run.instance.name);
            let job = run.job.as_ref().map(|j| (j.id, j.token));
            if locks
                .locks
                .try_lock(&key, locks.run_id, job, locks.lock_ttl)
                .await?
            {
                Ok(())
            } else {
                locks.contended.store(true, Ordering::Relaxed);
                Err(crate::bindings::types::Error {
                    kind: crate::bindings::types::ErrorKind::Retryable,
                    message: format!(
                        "`{}` is locked by another run; trying again shortly",
                        key.replace('\u{1f}', ": ")
                    ),
                    retry_after_ms: Some(LOCKED_RETRY.as_millis() as u64),
                })
            }
        })
        .await
    }
}

impl jobs::HostJobRun for View<'_, Jobs> {
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
        if let Some(context) = &self.instance.run
            && let Some(job) = &context.job
        {
            // Progress is informative: a failed write must not fail the job.
            // The claim's token fences it: a rescued run reports nothing.
            if let Err(err) = context
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
        let stop = match &self.instance.run {
            Some(context) => context.store.job_stop_requested(id).await.unwrap_or(false),
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
