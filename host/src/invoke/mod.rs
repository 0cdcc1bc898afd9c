//! Running guest code: one fresh store per invocation (memory cap, CPU deadline),
//! for a job, a unit call from another module, or `describe` at install.
//!
//! A job run and every unit call it makes share one [`CallScope`]: the backend
//! instance, the user, the registry snapshot the run started with, one deadline
//! (the time budget covers the guest's CPU and its waits on the host alike) and
//! one log.

mod failure;
mod instance;
mod scope;
pub(crate) mod steps;
mod webhook;

pub use crate::capabilities::UnitCall;
pub(crate) use crate::capabilities::context::effective_params;
pub use crate::events::HANDLE_EVENT_JOB;
pub use failure::Failure;
pub(crate) use failure::trap_failure;
use instance::{stop_at, with_instance};
pub use scope::CallScope;
pub(crate) use scope::JobScope;
pub use webhook::WebhookOutcome;
pub(crate) use webhook::handle_webhook;

use crate::backend::{BackendKey, Description, Resolved};
use crate::bindings::{GuestPre, events as wit_events};
use crate::capabilities::context::UnitCaller;
use crate::capabilities::jobs::JobRunState;
use crate::capabilities::session::SessionState;
use crate::capabilities::wit::WitResult;
use crate::capabilities::{HostState, MemoryLimit};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::events::RecordEvent;
use serde_json::Value;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Call a unit along the chain from `start`, in a fresh instance of the module
/// that answers. Errors (including traps of the callee) go back to the caller.
pub(crate) async fn call_unit(
    scope: Arc<CallScope>,
    start: BackendKey,
    depth: u32,
    call: UnitCall,
) -> WitResult<String> {
    let max = scope.engine.config().max_unit_depth;
    if depth > max {
        return Ok(Err(Failure {
            kind: crate::error::FailureKind::Final,
            message: format!(
                "unit calls nested deeper than {max} (calling {} {} in a loop?)",
                call.kind, call.model
            ),
            retry_after_ms: None,
        }
        .into()));
    }
    let resolved = match scope.registry.resolve_unit(&start, &call.kind, &call.model) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.into())),
    };
    let module = resolved.module.name().to_string();
    // A child of the job's span (at error level, as the job's: every line of
    // the call names its module).
    let span = tracing::error_span!(
        "unit",
        instance = %scope.instance.name,
        module = %module,
        kind = %call.kind,
        model = %call.model,
        method = %call.method,
    );
    // Boxed: a unit may call units, so this future contains itself.
    let fut = Box::pin(async move {
        let result = with_instance(&scope, &resolved, depth, async |store, connector| {
            let session = store.data_mut().table.push(SessionState::default())?;
            connector
                .invoke(
                    store,
                    session,
                    &call.kind,
                    &call.model,
                    &call.method,
                    &call.payload,
                )
                .await
        })
        .await;
        result.map_err(|mut f| {
            f.message = format!(
                "{} {} `{}` of module `{module}`: {}",
                call.kind, call.model, call.method, f.message
            );
            f.into()
        })
    });
    Ok(fut.instrument(span).await)
}

/// The `units` capability calls units through the scope.
impl UnitCaller for CallScope {
    fn call_unit(
        self: Arc<Self>,
        start: BackendKey,
        depth: u32,
        call: UnitCall,
    ) -> Pin<Box<dyn Future<Output = WitResult<String>> + Send>> {
        Box::pin(call_unit(self, start, depth, call))
    }
}

/// Run job `name` for the scope's instance; returns the module that ran it and
/// the outcome (values of the secrets the run opened redacted).
pub(crate) async fn run_job(
    scope: &Arc<CallScope>,
    name: &String,
    payload: &String,
) -> (Option<Resolved>, Result<String, Failure>) {
    let job = scope.job.clone();
    if name == HANDLE_EVENT_JOB {
        return handle_event(scope, payload).await;
    }
    let resolved = match scope.registry.resolve_job(&scope.instance_key, name) {
        Ok(r) => r,
        Err(e) => return (None, Err(e.into())),
    };
    // The job's span (when this runs in one) names the module that answers.
    tracing::Span::current().record("module", resolved.module.name());
    let unsaved = Arc::new(Mutex::new(None));
    let (id, attempt) = job.as_ref().map(|j| (j.id, j.attempt)).unwrap_or((0, 1));
    let result = with_instance(scope, &resolved, 0, async |store, connector| {
        let session = store.data_mut().table.push(SessionState::default())?;
        let run = store
            .data_mut()
            .table
            .push(JobRunState::new(id, attempt, unsaved.clone()))?;
        connector.run_job(store, session, run, name, payload).await
    })
    .await;
    // The last progress report, if throttling held it back.
    let last = unsaved.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let (Some((total, done)), Some(job)) = (last, &job)
        && let Err(e) = scope
            .store
            .set_job_progress(id, job.token, total, done)
            .await
    {
        tracing::warn!(job = id, "could not store progress: {e}");
    }
    // The result is stored with the job: no opened secret's value in it,
    // and not more of it than the operator allows.
    let max = scope.limits().max_result_bytes;
    let result = result
        .map(|out| scope.vault.redact_json(&out))
        .and_then(|out| {
            if out.len() as u64 > max.as_u64() {
                Err(Failure {
                    kind: crate::error::FailureKind::Final,
                    message: crate::limits::over(
                        format!("the job's result of {} bytes", out.len()),
                        "max_result_bytes",
                        max,
                    ),
                    retry_after_ms: None,
                })
            } else {
                Ok(out)
            }
        });
    (Some(resolved), result)
}

async fn handle_event(
    scope: &Arc<CallScope>,
    payload: &str,
) -> (Option<Resolved>, Result<String, Failure>) {
    let parsed: Value = serde_json::from_str(payload).unwrap_or_default();
    let module = parsed["module"].as_str().unwrap_or_default();
    let registry = &scope.registry;
    let found = registry
        .chain(&scope.instance_key)
        .into_iter()
        .find_map(|at| {
            let m = registry.module_at(&at).filter(|m| m.name() == module)?;
            Some(Resolved {
                module: m.clone(),
                at,
            })
        });
    tracing::Span::current().record("module", module);
    let Some(resolved) = found else {
        let message = format!(
            "module `{module}` is not in the backend chain of instance `{}`",
            scope.instance.name
        );
        return (
            None,
            Err(Failure {
                kind: crate::error::FailureKind::Final,
                message,
                retry_after_ms: None,
            }),
        );
    };
    let event = RecordEvent::from_json(&parsed["event"]);
    let result = with_instance(scope, &resolved, 0, async |store, connector| {
        let session = store.data_mut().table.push(SessionState::default())?;
        let event = wit_events::Event {
            name: event.name.clone(),
            model: event.model.clone(),
            record_id: event.record_id.map(|id| id as u64),
            changed_fields: event.changed_fields.clone(),
            payload: event.payload.to_string(),
        };
        let out = connector.handle_event(store, session, &event).await?;
        Ok(out.map(|()| "null".to_string()))
    })
    .await;
    (Some(resolved), result)
}

/// Ask a prepared component what it implements. Host APIs are denied meanwhile.
/// Like a run, it first waits for room in the instance pool (an install
/// while a worker fills the pool would fail otherwise); its 10 s start after.
pub(crate) async fn describe(engine: &Engine, pre: &GuestPre, module: &str) -> Result<Description> {
    let _admission = engine.admit().await;
    let memory = MemoryLimit::new(engine.config().memory_limit, Arc::default());
    let state = HostState::new(module, None, 0, memory);
    let mut store = wasmtime::Store::new(pre.engine(), state);
    engine.limit_store(&mut store);
    stop_at(&mut store, Instant::now() + Duration::from_secs(10));
    let call = async {
        let connector = pre.instantiate_async(&mut store).await?;
        connector.describe(&mut store).await
    };
    let description = match tokio::time::timeout(Duration::from_secs(10), call).await {
        Ok(Ok(d)) => d,
        Ok(Err(trap)) => {
            let f = trap_failure(store.data(), &trap, Duration::from_secs(10));
            return Err(Error::Invalid(format!(
                "module `{module}`: `describe` failed: {}",
                f.message
            )));
        }
        Err(_) => {
            return Err(Error::Invalid(format!(
                "module `{module}`: `describe` did not return within 10 s"
            )));
        }
    };
    description
        .check()
        .map_err(|e| Error::Invalid(format!("module `{module}`: `describe` reported: {e}")))?;
    Ok(description)
}
