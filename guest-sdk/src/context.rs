//! [`Context`]: the session of one call, plus jobs, events, links, cursors,
//! conflicts, units and revealed secrets.

use crate::bindings::ferry::connector0_1_3::{events, jobs, secrets, session, units};
use crate::conflicts::Conflicts;
use crate::cursors::Cursors;
use crate::links::Links;
use crate::{Error, Result};
use serde_json::Value;

/// The flag that keeps a write from firing record events (and so from being
/// exported back to where it came from).
pub const NO_EXPORT: &str = "no-export";

pub use session::CallInfo;
pub use session::LogLevel;

/// A local record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Id of the record in its model.
    pub id: u64,
    /// Model name, e.g. `product`.
    pub model: String,
    /// Field values (a JSON object).
    pub values: Value,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last write time, ms since the epoch.
    pub updated_at: i64,
}

impl Record {
    fn from_wit(r: session::LocalRecord) -> Result<Self> {
        Ok(Record {
            id: r.id,
            model: r.model,
            values: serde_json::from_str(&r.values)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// One condition of [`Context::search`].
#[derive(Debug, Clone)]
pub struct Filter(session::Filter);

impl Filter {
    fn new(field: &str, op: session::FilterOp, value: &Value) -> Self {
        Filter(session::Filter {
            field: field.to_string(),
            op,
            value: value.to_string(),
        })
    }
    /// `field == value`.
    pub fn eq(field: &str, value: impl Into<Value>) -> Self {
        Self::new(field, session::FilterOp::Eq, &value.into())
    }
    /// `field != value`.
    pub fn ne(field: &str, value: impl Into<Value>) -> Self {
        Self::new(field, session::FilterOp::Ne, &value.into())
    }
    /// `field < value`.
    pub fn lt(field: &str, value: impl Into<Value>) -> Self {
        Self::new(field, session::FilterOp::Lt, &value.into())
    }
    /// `field > value`.
    pub fn gt(field: &str, value: impl Into<Value>) -> Self {
        Self::new(field, session::FilterOp::Gt, &value.into())
    }
    /// SQL `LIKE` on the field's text.
    pub fn like(field: &str, pattern: &str) -> Self {
        Self::new(field, session::FilterOp::Like, &Value::from(pattern))
    }
    /// The field equals one of `values`.
    pub fn one_of(field: &str, values: Vec<Value>) -> Self {
        Self::new(field, session::FilterOp::OneOf, &Value::Array(values))
    }
}

/// A job to enqueue; see [`Context::enqueue`].
#[derive(Debug, Clone)]
pub struct Job(jobs::JobSpec);

impl Job {
    /// A job of this name with this payload, with the default options.
    pub fn new(name: &str, payload: &Value) -> Self {
        Job(jobs::JobSpec {
            name: name.to_string(),
            payload: crate::json::text(payload),
            priority: None,
            eta: None,
            delay_ms: None,
            max_retries: None,
            identity_key: None,
            description: None,
            channel: None,
        })
    }
    /// Lower runs first (default 10).
    pub fn priority(mut self, priority: u32) -> Self {
        self.0.priority = Some(priority);
        self
    }
    /// Run no earlier than this many milliseconds from now.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.0.delay_ms = Some(ms);
        self
    }
    /// Run no earlier than this time (ms since the epoch).
    pub fn eta(mut self, at_ms: i64) -> Self {
        self.0.eta = Some(at_ms);
        self
    }
    /// Tries after the first failure (default 5).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.0.max_retries = Some(n);
        self
    }
    /// At most one pending job with this key per backend instance.
    pub fn identity_key(mut self, key: impl Into<String>) -> Self {
        self.0.identity_key = Some(key.into());
        self
    }
    /// What operators see.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.0.description = Some(text.into());
        self
    }
    /// Channel to run in, e.g. `root.shop`.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.0.channel = Some(channel.into());
        self
    }
}

enum SessionRef<'a> {
    Borrowed(&'a session::Session),
    Owned(session::Session),
    /// No host at all: native unit tests of code that does not call it.
    #[cfg(test)]
    Detached,
}

/// Everything a unit, job or event handler can do, for one call.
///
/// A context is handed to your code by the SDK; it wraps the host's session
/// resource (who, which backend instance, which flags) and, in a job, the
/// running job.
pub struct Context<'a> {
    session: SessionRef<'a>,
    job: Option<&'a jobs::JobRun>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(session: &'a session::Session, job: Option<&'a jobs::JobRun>) -> Self {
        Context {
            session: SessionRef::Borrowed(session),
            job,
        }
    }

    /// A context without a host, for native tests of dispatch code that
    /// never reaches the session.
    #[cfg(test)]
    pub(crate) fn detached() -> Context<'static> {
        Context {
            session: SessionRef::Detached,
            job: None,
        }
    }

    fn session(&self) -> &session::Session {
        match &self.session {
            SessionRef::Borrowed(s) => s,
            SessionRef::Owned(s) => s,
            #[cfg(test)]
            SessionRef::Detached => panic!("a detached test context has no host session"),
        }
    }

    /// What this call is: instance, backend, module, user, flags, job.
    pub fn info(&self) -> CallInfo {
        self.session().info()
    }

    /// A param of the backend instance (its manifest default when unset).
    pub fn param(&self, key: &str) -> Option<String> {
        self.session().param(key)
    }

    /// A param that must be set: a final error naming it otherwise.
    pub fn require_param(&self, key: &str) -> Result<String> {
        self.param(key).ok_or_else(|| {
            Error::fatal(format!(
                "param `{key}` is not set on backend instance `{}`",
                self.info().instance
            ))
        })
    }

    /// Whether a context flag is set.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.session().has_flag(flag)
    }

    /// A context like this one with more flags set.
    pub fn with_flags(&self, flags: &[&str]) -> Context<'a> {
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        Context {
            session: SessionRef::Owned(self.session().with_flags(&flags)),
            job: self.job,
        }
    }

    /// A context whose writes fire no record events: for writing what was just
    /// imported, so that it is not exported back.
    pub fn no_export(&self) -> Context<'a> {
        self.with_flags(&[NO_EXPORT])
    }

    /// Write a line to this run's log.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.session().log(level, message)
    }

    /// Write an info line to this run's log.
    pub fn info_log(&self, message: &str) {
        self.log(LogLevel::Info, message)
    }

    /// Write a warning to this run's log.
    pub fn warn_log(&self, message: &str) {
        self.log(LogLevel::Warn, message)
    }

    /// Read a local record.
    pub fn read(&self, model: &str, id: u64) -> Result<Record> {
        Record::from_wit(self.session().read(model, id)?)
    }

    /// Local records matching all filters, by id.
    pub fn search(
        &self,
        model: &str,
        filters: &[Filter],
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<Record>> {
        let filters: Vec<session::Filter> = filters.iter().map(|f| f.0.clone()).collect();
        self.session()
            .search(model, &filters, limit, offset)?
            .into_iter()
            .map(Record::from_wit)
            .collect()
    }

    /// Create a local record; returns its id.
    pub fn create(&self, model: &str, values: &Value) -> Result<u64> {
        Ok(self.session().create(model, &crate::json::text(values))?)
    }

    /// Create a local record bound to `external_id` of this backend instance,
    /// in one transaction with its link (what importers use: a run cut short
    /// cannot leave a record that the next try would create a second time).
    pub fn create_linked(&self, model: &str, values: &Value, external_id: &str) -> Result<u64> {
        Ok(self
            .session()
            .create_linked(model, &crate::json::text(values), external_id)?)
    }

    /// Merge values into a local record.
    pub fn write(&self, model: &str, id: u64, values: &Value) -> Result<()> {
        Ok(self
            .session()
            .write(model, id, &crate::json::text(values))?)
    }

    /// Delete a local record.
    pub fn unlink(&self, model: &str, id: u64) -> Result<()> {
        Ok(self.session().unlink(model, id)?)
    }

    /// Flag a record for a person to review.
    pub fn checkpoint(&self, model: &str, id: u64, message: &str) -> Result<()> {
        Ok(self.session().checkpoint(model, id, message)?)
    }

    /// Call a unit, looked up from the instance's backend down its parents.
    pub fn call(&self, kind: &str, model: &str, method: &str, payload: &Value) -> Result<Value> {
        let out = units::call(kind, model, method, &crate::json::text(payload))?;
        Ok(serde_json::from_str(&out)?)
    }

    /// [`Context::call`] with a typed payload and answer: `input` is sent as
    /// JSON and the answer read into `Out` (an answer that does not fit is a
    /// final error naming the unit and the field).
    pub fn call_as<Out: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        model: &str,
        method: &str,
        input: &impl serde::Serialize,
    ) -> Result<Out> {
        let answer = self.call(kind, model, method, &serde_json::to_value(input)?)?;
        serde_json::from_value(answer).map_err(|e| {
            crate::Error::fatal(format!(
                "{kind} `{model}`, method `{method}`: the answer does not fit: {e}"
            ))
        })
    }

    /// Call the unit that the running module overrides (its parent's): `super`.
    pub fn call_parent(
        &self,
        kind: &str,
        model: &str,
        method: &str,
        payload: &Value,
    ) -> Result<Value> {
        let out = units::call_parent(kind, model, method, &crate::json::text(payload))?;
        Ok(serde_json::from_str(&out)?)
    }

    /// Enqueue a job for this backend instance; returns its id.
    pub fn enqueue(&self, job: Job) -> Result<u64> {
        Ok(jobs::enqueue(&job.0)?)
    }

    /// Take `key` until this run ends; if another run holds it, a retryable
    /// error (return it: the job is tried again shortly).
    pub fn lock_or_retry(&self, key: &str) -> Result<()> {
        Ok(jobs::lock_or_retry(key)?)
    }

    /// Emit a custom event for this backend instance. The event must be
    /// declared with [`Connector::emits`](crate::connector::Connector::emits); `record.*`
    /// events are the host's own (they follow local writes) and are refused
    /// with a `denied` error. Subscribers of this backend instance hear it
    /// (and those whose subscription says `from = "any"`); their jobs'
    /// payloads name the emitting instance and module under `emitted_by`.
    pub fn emit(
        &self,
        name: &str,
        model: &str,
        record_id: Option<u64>,
        payload: &Value,
    ) -> Result<()> {
        Ok(events::emit(
            name,
            model,
            record_id,
            &crate::json::text(payload),
        )?)
    }

    /// Add a subscription at runtime: `event` on `models` enqueues `job`.
    pub fn subscribe(
        &self,
        event: &str,
        models: &[&str],
        job: Option<&str>,
        priority: u32,
    ) -> Result<u64> {
        Ok(events::subscribe(&events::Subscription {
            event: event.to_string(),
            models: models.iter().map(|m| m.to_string()).collect(),
            job: job.map(str::to_string),
            priority,
        })?)
    }

    /// Remove a runtime subscription.
    pub fn unsubscribe(&self, id: u64) -> Result<bool> {
        Ok(events::unsubscribe(id)?)
    }

    /// Links (bindings) of this backend instance.
    pub fn links(&self) -> Links {
        Links
    }

    /// Cursors of this backend instance: how far a job has read a stream of
    /// changes, committed with the job's `done` state.
    pub fn cursors(&self) -> Cursors {
        Cursors
    }

    /// Conflicts of this backend instance: the operator's policy per model,
    /// and where a conflict for a person to resolve is reported.
    pub fn conflicts(&self) -> Conflicts {
        Conflicts
    }

    /// The value of secret `name` of this call's backend instance, in guest
    /// memory: for what only the guest can compute with it, e.g. an HMAC
    /// signature of a payload.
    ///
    /// Prefer a sealed credential (`[[capabilities.credential]]` in the
    /// manifest, [`crate::http::Request::credential`]) when the value only goes
    /// into requests: the host adds it then, and the guest never holds it.
    ///
    /// A `denied` error unless the manifest lists `name` in
    /// `[capabilities] reveal = ["NAME"]`; `not-found` when the instance has
    /// no such secret. Each call is written to the host's audit log (never the
    /// value), and the host replaces the value by `***` in this run's log
    /// lines, error and result: do not try to pass it on through them.
    pub fn reveal_secret(&self, name: &str) -> Result<String> {
        Ok(secrets::reveal(name)?)
    }

    /// The id of the running job, if this call is one.
    pub fn job_id(&self) -> Option<u64> {
        self.job.map(|j| j.id())
    }

    /// Which try of the running job this is (1 outside jobs).
    pub fn attempt(&self) -> u32 {
        self.job.map(|j| j.attempt()).unwrap_or(1)
    }

    /// Report progress of the running job (no-op outside jobs).
    pub fn progress(&self, total: u64, done: u64) {
        if let Some(job) = self.job {
            job.progress(total, done)
        }
    }

    /// Whether an operator asked the running job to stop.
    pub fn stop_requested(&self) -> bool {
        self.job.map(|j| j.stop_requested()).unwrap_or(false)
    }
}
