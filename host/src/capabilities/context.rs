//! [`CallScope`]: what one run (a job, or a direct call) shares with every unit
//! call it makes: instance, params, user, registry snapshot, deadline, locks,
//! memory budget, log, and the vault of the instance's secrets.

use crate::api::final_error;
use crate::api::jobs::RunLocks;
use crate::backend::{BackendKey, Registry};
use crate::bindings::types;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::events::RecordEvent;
use crate::limits::{Limits, has_control, over};
use crate::secrets::Vault;
use crate::store::{BackendInstance, LogLine, Store, now_ms};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Log lines kept per run; past it, one line says how many were dropped.
const MAX_LOG_LINES: usize = 2_000;
/// Bytes kept of one log line.
const MAX_LOG_LINE: usize = 4_096;

/// The job a scope runs.
#[derive(Debug, Clone)]
pub(crate) struct JobScope {
    pub(crate) id: i64,
    pub(crate) attempt: i64,
    /// Fencing token of the claim the run holds.
    pub(crate) token: i64,
}

/// What one run shares with every unit call it makes.
pub struct CallScope {
    pub(crate) store: Store,
    pub(crate) engine: Arc<Engine>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) instance: BackendInstance,
    pub(crate) instance_key: BackendKey,
    /// Instance params over the manifests' defaults.
    pub(crate) params: Map<String, Value>,
    pub(crate) user: String,
    pub(crate) job: Option<JobScope>,
    pub(crate) deadline: Instant,
    /// Locks of `lock-or-retry`, shared by every run of the process.
    pub(crate) locks: Arc<RunLocks>,
    /// Identifies this run's locks.
    pub(crate) run_id: u64,
    /// Set when `lock-or-retry` found a lock taken: such a retry is not a failure.
    pub(crate) lock_contended: AtomicBool,
    /// Linear memory of all instances of this run, in bytes.
    pub(crate) memory_used: Arc<AtomicUsize>,
    /// The instance's secrets, opened at the run's first credential or
    /// reveal; their values are redacted from all the run leaves behind.
    pub(crate) vault: Arc<Vault>,
    /// What the run produced so far, against [`Limits`].
    produced: [AtomicU64; 4],
    /// Set when a remote answered 429 or 503 during the run: only then may
    /// a `Retry-After` snooze the whole instance.
    pub(crate) remote_asked_to_wait: Arc<AtomicBool>,
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

impl Drop for CallScope {
    fn drop(&mut self) {
        self.locks.release(self.run_id);
    }
}

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

impl CallScope {
    /// A scope for a run for `instance`, checking its params against the
    /// manifests of its backend chain.
    pub(crate) fn new(
        store: Store,
        engine: Arc<Engine>,
        registry: Arc<Registry>,
        locks: Arc<RunLocks>,
        instance: BackendInstance,
        user: &str,
        job: Option<JobScope>,
    ) -> Result<Arc<Self>> {
        let instance_key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        let params = effective_params(&registry, &instance_key, &instance)?;
        let deadline = Instant::now() + engine.config().time_budget;
        let vault = Vault::new(
            store.clone(),
            instance.name.clone(),
            engine.config().secret_key_file.clone(),
        );
        Ok(Arc::new(CallScope {
            store,
            engine,
            registry,
            instance,
            instance_key,
            params,
            user: user.to_string(),
            job,
            deadline,
            locks,
            run_id: NEXT_RUN.fetch_add(1, Ordering::Relaxed),
            lock_contended: AtomicBool::new(false),
            memory_used: Arc::default(),
            vault: Arc::new(vault),
            produced: Default::default(),
            remote_asked_to_wait: Arc::default(),
            logs: Mutex::new((Vec::new(), 0)),
        }))
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
        &self.engine.config().limits
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

    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
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
