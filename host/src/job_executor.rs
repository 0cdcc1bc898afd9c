//! The runtime's side of the queue: [`FerryExecutor`] runs a claimed job in
//! its module (the version it is pinned to, in a scope of its instance) for
//! the queue's workers, and [`Ferry::run_worker`] wires a worker to it.
//! Kept out of `ferry.rs` and `queue/` so that neither imports the other.

use crate::backend::{BackendKey, Registry};
use crate::ferry::Ferry;
use crate::invoke::{Failure, JobScope};
use crate::limits::truncate;
use crate::queue::{self, Execution, Executor, TryFailure, WorkerConfig, WorkerStats};
use crate::store::{BackendInstance, JobRow, LogLine, PinPolicy, now_ms};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::Instrument;

impl Ferry {
    /// Run a worker (see [`WorkerConfig`]).
    pub async fn run_worker(
        &self,
        config: &WorkerConfig,
        on_change: impl FnMut(&WorkerStats) + Send + 'static,
    ) -> crate::Result<WorkerStats> {
        self.engine().start()?;
        self.prepare_modules().await;
        let executor = Arc::new(FerryExecutor::new(self.clone()));
        // Jobs past the engine's room would only wait for an instance slot,
        // claimed and leased meanwhile: the worker takes no more than fit.
        let room = self.engine().runs_at_once();
        if config.concurrency > room {
            tracing::warn!(
                "--concurrency {} is more than the {room} runs the engine's instance pool holds at once \
                 ([limits] instances = {} in ferry.toml); running {room} jobs at once",
                config.concurrency,
                self.engine().config().max_instances
            );
        }
        let config = WorkerConfig {
            concurrency: config.concurrency.min(room),
            ..config.clone()
        };
        queue::run_worker(self.store(), executor, &config, on_change).await
    }

    /// Prepare the components of the installed modules (they load on their
    /// first run otherwise, see `Engine::prepared`) before a worker starts,
    /// so that no job waits for it and a component that can no longer run
    /// here is reported at once.
    async fn prepare_modules(&self) {
        let engine = self.engine().clone();
        let hashes: Vec<String> = self
            .registry()
            .modules()
            .map(|m| m.content_hash.clone())
            .collect();
        let prepared = tokio::task::spawn_blocking(move || {
            for hash in hashes {
                engine.prepared(&hash);
            }
        });
        if let Err(e) = prepared.await {
            tracing::error!("preparing the installed modules did not finish: {e}");
        }
    }
}

/// Runs queued jobs in this installation's modules.
pub struct FerryExecutor {
    ferry: Ferry,
    /// Instances of the jobs run since the last maintenance (their params
    /// may change: forgotten on each).
    instances: Mutex<HashMap<String, BackendInstance>>,
}

impl FerryExecutor {
    /// An executor for the jobs of `ferry`.
    pub fn new(ferry: Ferry) -> Self {
        FerryExecutor {
            ferry,
            instances: Mutex::default(),
        }
    }

    async fn instance(&self, name: &str) -> crate::Result<BackendInstance> {
        let cached = self
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned();
        if let Some(instance) = cached {
            return Ok(instance);
        }
        let instance = self.ferry.store().instance(name).await?;
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(instance.name.clone(), instance.clone());
        Ok(instance)
    }

    async fn run(&self, job: &JobRow) -> Execution {
        let ferry = &self.ferry;
        let token = job.lease_token.unwrap_or_default();
        let mut logs = Vec::new();
        let mut module = None;
        let mut lock_contended = false;
        let mut remote_asked_to_wait = false;
        let mut cursors = Vec::new();
        let mut messages = Vec::new();
        let limits = ferry.engine().config().limits.clone();
        let outcome = match self.instance(&job.instance).await {
            Err(e) => Err(Failure::from(e)),
            Ok(instance) => match pinned_registry(ferry, job, &instance, &mut logs).await {
                Err(failure) => Err(failure),
                Ok(registry) => {
                    let scope = ferry
                        .scope_on(
                            registry,
                            instance,
                            &job.user,
                            Some(JobScope {
                                id: job.id,
                                attempt: job.attempts,
                                token,
                            }),
                        )
                        .await;
                    match scope {
                        Err(e) => Err(Failure::from(e)),
                        Ok(scope) => {
                            let (resolved, result) =
                                crate::steps::run_job(&scope, &job.name, &job.payload).await;
                            module = resolved.map(|r| {
                                (r.module.name().to_string(), r.module.content_hash.clone())
                            });
                            logs.extend(scope.take_logs());
                            lock_contended = scope.lock_contended();
                            remote_asked_to_wait = scope.remote_asked_to_wait();
                            // Taken whatever the outcome: the queue commits
                            // them with a completion, never with a failure.
                            cursors = scope.states.cursors.take(&scope.instance.name);
                            messages = scope.states.messaging.take();
                            result
                        }
                    }
                }
            },
        };
        Execution {
            outcome: outcome.map_err(|failure| TryFailure {
                kind: failure.kind,
                // Kept twice (the job's error and its log): bounded.
                message: truncate(
                    &failure.message,
                    limits.max_error_bytes.as_u64() as usize,
                    "max_error_bytes",
                ),
                retry_after_ms: failure.retry_after_ms,
            }),
            module,
            logs,
            lock_contended,
            snooze_cap: remote_asked_to_wait.then_some(limits.max_snooze),
            cursors,
            messages,
        }
    }
}

impl Executor for FerryExecutor {
    fn execute<'a>(&'a self, job: &'a JobRow) -> BoxFuture<'a, Execution> {
        Box::pin(self.run(job).instrument(job_span(job)))
    }

    fn maintain(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = self.ferry.refresh().await {
                tracing::warn!("could not check for newly installed modules: {e}");
            }
            self.instances
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        })
    }
}

/// The span of one try of a job: every log line of the run carries its
/// fields, and with OpenTelemetry on it is the root of the job's trace (the
/// module is recorded once resolved). At error level so that lines at every
/// verbosity carry it.
fn job_span(job: &JobRow) -> tracing::Span {
    tracing::error_span!(
        parent: None,
        "job",
        job_id = job.id,
        instance = %job.instance,
        job = %job.name,
        attempt = job.attempts,
        trigger = job.trigger.as_str(),
        module = tracing::field::Empty,
    )
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
        kind: crate::error::FailureKind::Final,
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
