//! [`CallScope`]: one run (a job, or a direct call) as the code that runs
//! guests holds it: the capabilities' [`RunContext`] and run states, and
//! what the engine needs for the run's instances (the memory budget).

use crate::backend::Registry;
use crate::capabilities::context::RunFor;
use crate::capabilities::secrets::Secrets;
use crate::capabilities::{Configs, RunContext, RunStates};
use crate::engine::{Admission, Engine};
use crate::error::Result;
use crate::store::{BackendInstance, Store};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub(crate) use crate::capabilities::context::JobScope;

/// What one run shares with every unit call it makes.
pub struct CallScope {
    pub(crate) engine: Arc<Engine>,
    /// What the capabilities see of the run.
    pub(crate) run: Arc<RunContext>,
    /// The capabilities' configuration.
    pub(crate) configs: Arc<Configs>,
    /// The capabilities' state of this run.
    pub(crate) states: RunStates,
    /// Linear memory of all instances of this run, in bytes.
    pub(crate) memory_used: Arc<AtomicUsize>,
    /// The run's room in the engine's instance pool (shared by the scopes
    /// [`CallScope::renewed`] makes for the same run).
    admission: Arc<Admission>,
}

/// A scope reads as its run's context (instance, params, log…).
impl Deref for CallScope {
    type Target = RunContext;

    fn deref(&self) -> &RunContext {
        &self.run
    }
}

impl CallScope {
    /// A scope for a run for `instance`, checking its params against the
    /// manifests of its backend chain. Unless the run already has its
    /// `admission`, waits for room in the engine's instance pool
    /// ([`Engine::admit`]) first: the run's time budget starts once it has it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn new(
        store: Store,
        engine: Arc<Engine>,
        registry: Arc<Registry>,
        configs: Arc<Configs>,
        instance: BackendInstance,
        user: &str,
        job: Option<JobScope>,
        admission: Option<Arc<Admission>>,
    ) -> Result<Arc<Self>> {
        let admission = match admission {
            Some(admission) => admission,
            None => Arc::new(engine.admit().await),
        };
        let config = engine.config();
        let vault = Secrets::vault(&configs.secrets, &store, &instance);
        let run = RunContext::new(RunFor {
            store,
            registry,
            instance,
            user,
            job,
            deadline: Instant::now() + config.time_budget,
            limits: config.limits.clone(),
            vault: Arc::new(vault),
        })?;
        let states = RunStates::new(&configs, &run);
        Ok(Arc::new(CallScope {
            engine,
            run: Arc::new(run),
            configs,
            states,
            memory_used: Arc::default(),
            admission,
        }))
    }

    /// A fresh scope for the same run (instance, user, job, registry) with
    /// a time budget of its own: each chunk of a step gets the whole budget.
    /// It keeps the run's room in the pool.
    pub(crate) async fn renewed(&self) -> Result<Arc<Self>> {
        CallScope::new(
            self.run.store.clone(),
            self.engine.clone(),
            self.run.registry.clone(),
            self.configs.clone(),
            self.run.instance.clone(),
            &self.run.user,
            self.run.job.clone(),
            Some(self.admission.clone()),
        )
        .await
    }

    /// Whether `lock-or-retry` found a lock taken during the run: such a
    /// retry is not a failure.
    pub(crate) fn lock_contended(&self) -> bool {
        self.states.jobs.lock_contended()
    }

    /// Whether a remote answered 429 or 503 during the run: only then may a
    /// `Retry-After` snooze the whole instance.
    pub(crate) fn remote_asked_to_wait(&self) -> bool {
        self.states
            .http
            .remote_asked_to_wait
            .load(Ordering::Relaxed)
    }
}
