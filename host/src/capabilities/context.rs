//! [`RunContext`]: what one run (a job, or a direct call) shares with every
//! unit call it makes, as the capabilities see it: instance, params, user,
//! registry snapshot, deadline, limits, log, and the vault of the instance's
//! secrets. A plain struct: the capabilities receive it, they do not reach
//! into the code that runs guests ([`crate::invoke`] builds it).

use super::wit::{WitResult, final_error};
use crate::backend::{BackendKey, Registry};
use crate::bindings::types;
use crate::error::{Error, Result};
use crate::events::RecordEvent;
use crate::limits::{Limits, has_control, over};
use crate::secrets::Vault;
use crate::store::{BackendInstance, LogLine, Store, now_ms};
use serde_json::{Map, Value};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Log lines kept per run; past it, one line says how many were dropped.
const MAX_LOG_LINES: usize = 2_000;
/// Bytes kept of one log line.
const MAX_LOG_LINE: usize = 4_096;

/// The job a run serves.
#[derive(Debug, Clone)]
pub(crate) struct JobScope {
    pub(crate) id: i64,
    pub(crate) attempt: i64,
    /// Fencing token of the claim the run holds.
    pub(crate) token: i64,
}

/// What one run shares with every unit call it makes.
pub struct RunContext {
    pub(crate) store: Store,
    pub(crate) registry: Arc<Registry>,
    pub(crate) instance: BackendInstance,
    pub(crate) instance_key: BackendKey,
    /// Instance params over the manifests' defaults.
    pub(crate) params: Map<String, Value>,
    pub(crate) user: String,
    pub(crate) job: Option<JobScope>,
    pub(crate) deadline: Instant,
    /// The guest limits in force.
    limits: Limits,
    /// The instance's secrets (opened by the `secrets` capability and by
    /// sealed credentials of `http`); their values are redacted from all the
    /// run leaves behind, its log lines first.
    pub(crate) vault: Arc<Vault>,
    /// What the run produced so far, against [`Limits`].
    produced: [AtomicU64; 4],
    logs: Mutex<(Vec<LogLine>, usize)>,
}

/// What a run produces, each bounded per run by [`Limits`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Produced {
    /// Jobs enqueued.
    Jobs,
    /// Custom events emitted.
    Events,
    /// Local records created, written or deleted.
    RecordWrites,
    /// Links bound or unbound.
    Links,
}

/// Who a run is for, and what bounds it: what [`RunContext::new`] takes.
pub(crate) struct RunFor<'a> {
    pub(crate) store: Store,
    pub(crate) registry: Arc<Registry>,
    pub(crate) instance: BackendInstance,
    pub(crate) user: &'a str,
    pub(crate) job: Option<JobScope>,
    pub(crate) deadline: Instant,
    pub(crate) limits: Limits,
    pub(crate) vault: Arc<Vault>,
}

impl RunContext {
    /// The context of a run for `run.instance`, checking its params against
    /// the manifests of its backend chain.
    pub(crate) fn new(run: RunFor<'_>) -> Result<Self> {
        let instance = run.instance;
        let instance_key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        let params = effective_params(&run.registry, &instance_key, &instance)?;
        Ok(RunContext {
            store: run.store,
            registry: run.registry,
            instance,
            instance_key,
            params,
            user: run.user.to_string(),
            job: run.job,
            deadline: run.deadline,
            limits: run.limits,
            vault: run.vault,
            produced: Default::default(),
            logs: Mutex::new((Vec::new(), 0)),
        })
    }

    /// Add a line to the run's log (bounded), opened secrets' values redacted.
    pub(crate) fn log(&self, level: &str, module: &str, message: &str) {
        let message = &self.vault.redact(message);
        tracing::debug!(instance = %self.instance.name, module, level, "{message}");
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        if logs.0.len() >= MAX_LOG_LINES {
            logs.1 += 1;
            return;
        }
        let mut message = message.to_string();
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" …");
        }
        let attempt = self.job.as_ref().map(|j| j.attempt).unwrap_or(1);
        logs.0.push(LogLine {
            attempt,
            at: now_ms(),
            level: level.into(),
            module: module.into(),
            message,
        });
    }

    /// Add lines another scope of the same run logged (a step's chunks each
    /// run in a scope of their own), within the run's bound.
    pub(crate) fn extend_logs(&self, lines: Vec<LogLine>) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            if logs.0.len() >= MAX_LOG_LINES {
                logs.1 += 1;
            } else {
                logs.0.push(line);
            }
        }
    }

    /// The run's log lines, with a note of any dropped.
    pub(crate) fn take_logs(&self) -> Vec<LogLine> {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        let (mut lines, dropped) = (std::mem::take(&mut logs.0), std::mem::take(&mut logs.1));
        if dropped > 0 {
            let attempt = self.job.as_ref().map(|j| j.attempt).unwrap_or(1);
            let message =
                format!("{dropped} more log lines dropped (limit {MAX_LOG_LINES} per run)");
            lines.push(LogLine {
                attempt,
                at: now_ms(),
                level: "warn".into(),
                module: "host".into(),
                message,
            });
        }
        lines
    }

    /// Writes to local records from this run (events fire unless `fire` is false).
    pub(crate) fn writer(&self, fire: bool) -> crate::events::RecordWriter<'_> {
        crate::events::RecordWriter {
            store: &self.store,
            registry: &self.registry,
            origin: &self.instance,
            user: &self.user,
            fire,
        }
    }

    /// Fire an event from this run (subscribers' jobs are enqueued).
    pub(crate) async fn fire(&self, event: RecordEvent) -> Result<()> {
        crate::events::dispatch(
            &self.store,
            &self.registry,
            &self.instance,
            &self.user,
            &event,
        )
        .await
        .map(|_| ())
    }

    /// The guest limits in force.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Count one more of `what` for this run, or refuse it past its limit.
    pub(crate) fn charge(&self, what: Produced) -> std::result::Result<(), types::Error> {
        let l = self.limits();
        let (max, limit, noun) = match what {
            Produced::Jobs => (l.max_jobs_per_run, "max_jobs_per_run", "jobs enqueued"),
            Produced::Events => (l.max_events_per_run, "max_events_per_run", "events emitted"),
            Produced::RecordWrites => (
                l.max_record_writes_per_run,
                "max_record_writes_per_run",
                "record writes",
            ),
            Produced::Links => (l.max_links_per_run, "max_links_per_run", "links bound"),
        };
        let n = self.produced[what as usize].fetch_add(1, Ordering::Relaxed) + 1;
        if n > max {
            return Err(final_error(over(
                format!("{noun} by this run ({n})"),
                limit,
                max,
            )));
        }
        Ok(())
    }

    /// Refuse a payload (JSON text) over `max_payload_bytes`.
    pub(crate) fn check_payload(
        &self,
        what: &str,
        text: &str,
    ) -> std::result::Result<(), types::Error> {
        let max = self.limits().max_payload_bytes;
        if text.len() as u64 > max.as_u64() {
            return Err(final_error(over(
                format!("{what} of {} bytes", text.len()),
                "max_payload_bytes",
                max,
            )));
        }
        Ok(())
    }

    /// Refuse a key (identity or merge key, external id, lock key) that is
    /// too long or holds a control character.
    pub(crate) fn check_key(&self, what: &str, key: &str) -> std::result::Result<(), types::Error> {
        let max = self.limits().max_key_bytes;
        if key.len() > max {
            return Err(final_error(over(
                format!("{what} of {} bytes", key.len()),
                "max_key_bytes",
                max,
            )));
        }
        if has_control(key) {
            return Err(final_error(format!(
                "{what} {key:?} holds a control character"
            )));
        }
        Ok(())
    }

    /// Time left of the run's budget.
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// A unit call: `method` of unit (`kind`, `model`) with a JSON payload.
#[derive(Debug, Clone)]
pub struct UnitCall {
    /// Unit kind.
    pub kind: String,
    /// Model.
    pub model: String,
    /// Method.
    pub method: String,
    /// Payload, JSON text.
    pub payload: String,
}

/// How a run calls a unit in a fresh instance ([`crate::invoke`] does it;
/// the `units` capability asks through this).
pub(crate) trait UnitCaller: Send + Sync {
    /// Call a unit along the chain from `start`, at `depth`.
    fn call_unit(
        self: Arc<Self>,
        start: BackendKey,
        depth: u32,
        call: UnitCall,
    ) -> Pin<Box<dyn Future<Output = WitResult<String>> + Send>>;
}

/// Params of an instance: its own values over the defaults its backend chain's
/// manifests declare. A required param that is not set is an error.
pub(crate) fn effective_params(
    registry: &Registry,
    key: &BackendKey,
    instance: &BackendInstance,
) -> Result<Map<String, Value>> {
    let mut params = Map::new();
    // Parents first, so that a child's default wins.
    for at in registry.chain(key).iter().rev() {
        let Some(resolved) = registry.module_at(at) else {
            continue;
        };
        for (name, decl) in &resolved.manifest.params {
            if let Some(default) = &decl.default {
                params.insert(name.clone(), Value::from(default.clone()));
            }
            if decl.required && !instance.params.contains_key(name) {
                return Err(Error::Invalid(format!(
                    "backend instance `{}`: param `{name}` is required by module `{}` but not set",
                    instance.name,
                    resolved.name()
                )));
            }
        }
    }
    params.extend(instance.params.clone());
    Ok(params)
}
