//! One fresh instance of a module: its store (limits, deadline, host state)
//! and the call made in it, with traps turned into [`Failure`]s.

use super::failure::{Failure, guest_failure, trap_failure};
use super::scope::CallScope;
use crate::backend::Resolved;
use crate::bindings::{GuestPre, types};
use crate::capabilities::{HostState, InstanceRun, MemoryLimit};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// A fresh store for one instance of `resolved` (linked as `pre`) in `scope`.
pub(super) fn new_store(
    scope: &Arc<CallScope>,
    resolved: &Resolved,
    pre: &GuestPre,
    depth: u32,
) -> wasmtime::Store<HostState> {
    let run = InstanceRun {
        context: &scope.run,
        configs: &scope.configs,
        states: &scope.states,
        units: scope.clone(),
        module_backend: resolved.at.clone(),
        module: &resolved.module,
    };
    let memory = MemoryLimit::new(
        scope.engine.config().memory_limit,
        scope.memory_used.clone(),
    );
    let state = HostState::new(resolved.module.name(), Some(run), depth, memory);
    let mut store = wasmtime::Store::new(pre.engine(), state);
    scope.engine.limit_store(&mut store);
    stop_at(&mut store, scope.deadline);
    store
}

/// Let the guest run until `deadline`, yielding to the executor at every epoch
/// tick so that a busy guest never holds a runtime thread (and the run's timeout
/// can fire); past the deadline the guest traps with `Interrupt`.
pub(super) fn stop_at(store: &mut wasmtime::Store<HostState>, deadline: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(wasmtime::UpdateDeadline::Interrupt)
        } else {
            Ok(wasmtime::UpdateDeadline::Yield(1))
        }
    });
}

/// Instantiate `resolved` in a fresh store and run `f` on it, within the
/// scope's deadline; traps become [`Failure`]s.
pub(super) async fn with_instance<T, F>(
    scope: &Arc<CallScope>,
    resolved: &Resolved,
    depth: u32,
    f: F,
) -> Result<T, Failure>
where
    F: for<'a> AsyncFnOnce(
        &'a mut wasmtime::Store<HostState>,
        crate::bindings::Guest,
    ) -> wasmtime::Result<Result<T, types::Error>>,
{
    let budget = scope.engine.config().time_budget;
    let Some(pre) = scope.engine.prepared(&resolved.module.content_hash) else {
        // Every module of a registry was prepared when it was loaded.
        return Err(Failure {
            kind: crate::error::FailureKind::Final,
            message: format!(
                "module `{}`: its component (hash {}) is not loaded",
                resolved.module.name(),
                resolved.module.content_hash
            ),
            retry_after_ms: None,
        });
    };
    let mut store = new_store(scope, resolved, &pre, depth);
    let module = resolved.module.name();
    let metrics = scope.store.metrics();
    let run = async {
        let began = Instant::now();
        let connector = pre
            .instantiate_async(&mut store)
            .instrument(tracing::info_span!("instantiate", module))
            .await?;
        metrics.instantiated(module, began.elapsed());
        f(&mut store, connector).await
    };
    let ran = tokio::time::timeout(scope.remaining(), run).await;
    // Wasm memory only grows: what the instance holds now is its peak.
    metrics.guest_memory(&scope.instance.name, module, store.data().limits.used());
    let failure = match ran {
        Ok(Ok(Ok(value))) => return Ok(value),
        Ok(Ok(Err(guest_error))) => guest_failure(store.data(), guest_error),
        Ok(Err(trap)) => trap_failure(store.data(), &trap, budget),
        Err(_) => Failure {
            kind: crate::error::FailureKind::Final,
            message: format!("time budget of {budget:?} exceeded while waiting on the host"),
            retry_after_ms: None,
        },
    };
    // The guest's own message, or its panic's stderr, may hold a value it
    // revealed or read back from a remote: it is stored with the job.
    Err(Failure {
        message: scope.vault.redact(&failure.message),
        ..failure
    })
}
