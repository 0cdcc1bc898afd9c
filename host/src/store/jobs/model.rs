//! What a job is: its state, options, pin and retry pattern as the store
//! keeps them, and how a stored row reads back.

use super::Trigger;
use crate::error::{Error, Result};
use serde::Serialize;
use std::fmt;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to run (now, or at its eta, once what it depends on is done).
    Pending,
    /// Claimed by a worker (which holds its lease), about to start.
    Enqueued,
    /// Claimed by a worker, running.
    Started,
    /// Finished with a result.
    Done,
    /// Failed for good (final error, or out of retries).
    Failed,
    /// Cancelled by an operator.
    Cancelled,
    /// A job made of steps paused by an operator at a chunk boundary: no
    /// worker claims it until it is resumed (then it continues from there).
    Paused,
}

impl JobState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Enqueued => "enqueued",
            JobState::Started => "started",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Paused => "paused",
        }
    }
    /// Held by a worker: claimed (`enqueued`) or `started`.
    pub fn is_running(self) -> bool {
        matches!(self, JobState::Enqueued | JobState::Started)
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => JobState::Pending,
            "enqueued" => JobState::Enqueued,
            "started" => JobState::Started,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            "paused" => JobState::Paused,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown job state `{other}` (pending, enqueued, started, done, failed, cancelled, paused)"
                )));
            }
        })
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with a job when the module that answers it at run time is not
/// the version it was enqueued for (a connector was upgraded in between).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinPolicy {
    /// Run it on the version it was enqueued for while that version is kept;
    /// fail with the reason once it is not.
    #[default]
    Keep,
    /// Run it on the new version, saying so in its log.
    Migrate,
    /// Fail it, saying which versions differ.
    Fail,
}

impl PinPolicy {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PinPolicy::Keep => "keep",
            PinPolicy::Migrate => "migrate",
            PinPolicy::Fail => "fail",
        }
    }
    /// Parse a stored or typed name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "keep" => Ok(PinPolicy::Keep),
            "migrate" => Ok(PinPolicy::Migrate),
            "fail" => Ok(PinPolicy::Fail),
            other => Err(Error::Invalid(format!(
                "unknown pin policy `{other}` (keep, migrate, fail)"
            ))),
        }
    }
}

/// When to try a failed job again, by try: from try N on, wait D (Odoo's
/// `{1: 10, 5: 60, 10: 600}`). Tries before the first key use the first delay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct RetryPattern(pub std::collections::BTreeMap<u32, u64>);

impl RetryPattern {
    /// Parse `1:10s,5:1m,10:10m` (units s, m, h, d; plain numbers are seconds).
    pub fn parse(text: &str) -> Result<Self> {
        let mut steps = std::collections::BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                Error::Invalid(format!(
                    "retry pattern `{text}`: `{part}` is not TRY:DELAY (e.g. 1:10s,5:1m,10:10m)"
                ))
            };
            let (try_no, delay) = part.split_once(':').ok_or_else(bad)?;
            let try_no: u32 = try_no.trim().parse().map_err(|_| bad())?;
            let delay = delay.trim();
            let (digits, unit) = delay.split_at(
                delay
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(delay.len()),
            );
            let n: u64 = digits.parse().map_err(|_| bad())?;
            let secs = match unit {
                "" | "s" => n,
                "m" => n.saturating_mul(60),
                "h" => n.saturating_mul(3600),
                "d" => n.saturating_mul(86_400),
                _ => return Err(bad()),
            };
            steps.insert(try_no, secs);
        }
        if steps.is_empty() {
            return Err(Error::Invalid(format!(
                "retry pattern `{text}` has no step"
            )));
        }
        Ok(RetryPattern(steps))
    }

    /// The delay after failed try `attempt` (1 = the first try).
    pub fn delay(&self, attempt: i64) -> std::time::Duration {
        let secs = self
            .0
            .range(..=attempt.clamp(0, i64::from(u32::MAX)) as u32)
            .next_back()
            .or_else(|| self.0.iter().next())
            .map(|(_, s)| *s)
            .unwrap_or(0);
        std::time::Duration::from_secs(secs)
    }
}

/// The module version a job was enqueued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Pin {
    /// Module name.
    pub module: String,
    /// Its content hash then.
    pub hash: String,
}

/// A job to store.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Backend instance it runs for.
    pub instance: String,
    /// Job name, resolved along the instance's backend chain.
    pub name: String,
    /// Payload, JSON text.
    pub payload: String,
    /// Lower runs first.
    pub priority: i64,
    /// Not before this time, ms.
    pub eta: Option<i64>,
    /// Tries after the first failure.
    pub max_retries: i64,
    /// Delays between tries; none: exponential backoff with jitter.
    pub retry_pattern: Option<RetryPattern>,
    /// At most one pending or enqueued job with this key per instance.
    pub identity_key: Option<String>,
    /// A pending job of the instance with this key takes this one's payload
    /// into its own instead of a second job being stored.
    pub merge_key: Option<String>,
    /// Channel.
    pub channel: String,
    /// For operators.
    pub description: String,
    /// Who it runs for.
    pub user: String,
    /// What started it.
    pub trigger: Trigger,
    /// The module version it is enqueued for.
    pub pin: Option<Pin>,
    /// What to do if another version answers it at run time.
    pub pin_policy: PinPolicy,
    /// Group it belongs to (other jobs can wait for the whole group).
    pub group: Option<String>,
    /// Jobs that must be done before it runs.
    pub depends_on: Vec<i64>,
    /// Groups whose jobs must all be done before it runs.
    pub after_groups: Vec<String>,
}

impl NewJob {
    /// A job with the default options (priority 10, 5 retries, channel `root`).
    pub fn new(instance: &str, name: &str, payload: &serde_json::Value) -> Self {
        NewJob {
            instance: instance.into(),
            name: name.into(),
            payload: payload.to_string(),
            priority: 10,
            eta: None,
            max_retries: 5,
            retry_pattern: None,
            identity_key: None,
            merge_key: None,
            channel: "root".into(),
            description: String::new(),
            user: "ferry".into(),
            trigger: Trigger::Cli,
            pin: None,
            pin_policy: PinPolicy::Keep,
            group: None,
            depends_on: Vec::new(),
            after_groups: Vec::new(),
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct JobRow {
    /// Id.
    pub id: i64,
    /// Backend instance.
    pub instance: String,
    /// Job name.
    pub name: String,
    /// Payload, JSON text.
    pub payload: String,
    /// Priority (lower first).
    pub priority: i64,
    /// Not before, ms.
    pub eta: Option<i64>,
    /// Tries after the first failure.
    pub max_retries: i64,
    /// Tries so far.
    pub attempts: i64,
    /// Delays between tries, when not the default backoff.
    pub retry_pattern: Option<RetryPattern>,
    /// Identity key.
    pub identity_key: Option<String>,
    /// Merge key.
    pub merge_key: Option<String>,
    /// Channel.
    pub channel: String,
    /// Group.
    pub group: Option<String>,
    /// The module version it was enqueued for.
    pub pin: Option<Pin>,
    /// What to do if another version answers it.
    pub pin_policy: PinPolicy,
    /// Fencing token of the current claim (none when not claimed).
    pub lease_token: Option<i64>,
    /// Lease expiry of the current claim, ms.
    pub lease_until: Option<i64>,
    /// Worker holding the claim.
    pub worker: Option<String>,
    /// State.
    pub state: JobState,
    /// For operators.
    pub description: String,
    /// Who it runs for.
    pub user: String,
    /// What started it.
    #[serde(default)]
    pub trigger: Trigger,
    /// Module that ran it.
    pub module: Option<String>,
    /// Content hash of that module.
    pub module_hash: Option<String>,
    /// Progress: total items.
    pub progress_total: Option<i64>,
    /// Progress: items done.
    pub progress_done: Option<i64>,
    /// Result JSON text, when done.
    pub result: Option<String>,
    /// Last error.
    pub error: Option<String>,
    /// Kind of the last error (retryable, final, …).
    pub error_kind: Option<String>,
    /// An operator asked it to stop.
    pub stop_requested: bool,
    /// Created, ms.
    pub created_at: i64,
    /// Last started, ms.
    pub started_at: Option<i64>,
    /// Finished, ms.
    pub finished_at: Option<i64>,
}

/// Which jobs to list, newest first. The default lists the 50 newest of any
/// state. Every field narrows the list; `before` pages through it (keyset
/// pagination: pass the smallest id of the page shown to get the next one),
/// which stays as fast on page 10 000 as on page 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this backend instance.
    pub instance: Option<String>,
    /// Only jobs of this channel or its sub-channels.
    pub channel: Option<String>,
    /// Only jobs run by, or enqueued for, this module.
    pub module: Option<String>,
    /// Only jobs of this name.
    pub name: Option<String>,
    /// Only jobs started this way.
    pub trigger: Option<Trigger>,
    /// Only jobs whose error or log contains this text (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only jobs created at or after this time, ms since the epoch.
    pub since: Option<i64>,
    /// Only jobs created before this time, ms since the epoch.
    pub until: Option<i64>,
    /// Only jobs whose id is below this one (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

impl Default for JobFilter {
    fn default() -> Self {
        JobFilter {
            state: None,
            instance: None,
            channel: None,
            module: None,
            name: None,
            trigger: None,
            text: None,
            since: None,
            until: None,
            before: None,
            limit: 50,
        }
    }
}

/// What a job waits for: a job, or every job of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Dependency {
    /// A job that must be done first.
    pub job: Option<i64>,
    /// That job's state now (none: it no longer exists).
    pub job_state: Option<JobState>,
    /// Or a group whose jobs must all be done first.
    pub group: Option<String>,
    /// How many jobs of that group are not done yet.
    pub group_open: i64,
}

/// A log line of a job run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LogLine {
    /// Which try wrote it.
    pub attempt: i64,
    /// When, ms.
    pub at: i64,
    /// trace | debug | info | warn | error
    pub level: String,
    /// Module that wrote it (or `host`).
    pub module: String,
    /// The line.
    pub message: String,
}

/// A new job as one object of a batch (see `enqueue_many`): keys are the
/// columns it sets. Serialised straight from the job's fields (a
/// `serde_json::Value` per job was a map of 18 allocations, built to be
/// written out once).
#[derive(Serialize)]
pub(super) struct InsertRow<'a> {
    instance: &'a str,
    name: &'a str,
    payload: &'a str,
    priority: i64,
    eta: Option<i64>,
    max_retries: i64,
    retry_pattern: Option<String>,
    identity_key: Option<&'a str>,
    merge_key: Option<&'a str>,
    channel: &'a str,
    description: &'a str,
    user_name: &'a str,
    triggered_by: &'static str,
    pinned_module: Option<&'a str>,
    pinned_hash: Option<&'a str>,
    pin_policy: &'static str,
    group_name: Option<&'a str>,
    has_deps: i64,
}

impl<'a> InsertRow<'a> {
    /// The row of `j`.
    pub(super) fn of(j: &'a NewJob) -> Result<Self> {
        Ok(InsertRow {
            instance: &j.instance,
            name: &j.name,
            payload: &j.payload,
            priority: j.priority,
            eta: j.eta,
            max_retries: j.max_retries,
            retry_pattern: j
                .retry_pattern
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
            identity_key: j.identity_key.as_deref(),
            merge_key: j.merge_key.as_deref(),
            channel: &j.channel,
            description: &j.description,
            user_name: &j.user,
            triggered_by: j.trigger.as_str(),
            pinned_module: j.pin.as_ref().map(|p| p.module.as_str()),
            pinned_hash: j.pin.as_ref().map(|p| p.hash.as_str()),
            pin_policy: j.pin_policy.as_str(),
            group_name: j.group.as_deref(),
            has_deps: i64::from(!j.depends_on.is_empty() || !j.after_groups.is_empty()),
        })
    }
}

/// Calls the macro `$then` with the columns of a stored job, the one list
/// that [`job_columns`] and [`job_json_object`] are made from.
macro_rules! with_job_columns {
    ($($then:tt)+) => {
        $($then)+!(
            id, instance, name, payload, priority, eta, max_retries, attempts, retry_pattern,
            identity_key, merge_key, channel, group_name, pinned_module, pinned_hash, pin_policy,
            lease_token, lease_until, worker, state, description, user_name, module, module_hash,
            progress_total, progress_done, result, error, error_kind, stop_requested, created_at,
            started_at, finished_at, triggered_by
        )
    };
}
pub(in crate::store) use with_job_columns;

/// The columns of a stored job, as a literal (so that fixed statements can
/// be put together with `concat!`).
macro_rules! job_columns {
    () => {
        $crate::store::jobs::with_job_columns!($crate::store::jobs::column_list)
    };
}
pub(in crate::store) use job_columns;

/// `a, b, c` of column names.
macro_rules! column_list {
    ($first:ident $(, $column:ident)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($column))*)
    };
}
pub(in crate::store) use column_list;

/// A SQLite `json_object(...)` of a stored job's columns, by name: what a
/// [`StoredJob`] deserializes from.
macro_rules! job_json_object {
    () => {
        $crate::store::jobs::with_job_columns!($crate::store::jobs::json_object_of)
    };
}
pub(in crate::store) use job_json_object;

/// `json_object('a', a, 'b', b)` of column names.
macro_rules! json_object_of {
    ($first:ident $(, $column:ident)*) => {
        concat!(
            "json_object('", stringify!($first), "', ", stringify!($first)
            $(, ", '", stringify!($column), "', ", stringify!($column))*, ")"
        )
    };
}
pub(in crate::store) use json_object_of;

pub(in crate::store) const JOB_COLUMNS: &str = job_columns!();

/// A job's columns as stored, read by name from a row of any of the
/// databases (the `Any` pool's rows and the PostgreSQL driver's alike), or
/// from the JSON object of [`job_json_object`].
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(in crate::store) struct StoredJob {
    id: i64,
    instance: String,
    name: String,
    payload: String,
    priority: i64,
    eta: Option<i64>,
    max_retries: i64,
    attempts: i64,
    retry_pattern: Option<String>,
    identity_key: Option<String>,
    merge_key: Option<String>,
    channel: String,
    group_name: Option<String>,
    pinned_module: Option<String>,
    pinned_hash: Option<String>,
    pin_policy: String,
    lease_token: Option<i64>,
    lease_until: Option<i64>,
    worker: Option<String>,
    state: String,
    description: String,
    user_name: String,
    triggered_by: String,
    module: Option<String>,
    module_hash: Option<String>,
    progress_total: Option<i64>,
    progress_done: Option<i64>,
    result: Option<String>,
    error: Option<String>,
    error_kind: Option<String>,
    stop_requested: i64,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl StoredJob {
    pub(super) fn into_job(self) -> Result<JobRow> {
        Ok(JobRow {
            id: self.id,
            instance: self.instance,
            name: self.name,
            payload: self.payload,
            priority: self.priority,
            eta: self.eta,
            max_retries: self.max_retries,
            attempts: self.attempts,
            retry_pattern: self
                .retry_pattern
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            identity_key: self.identity_key,
            merge_key: self.merge_key,
            channel: self.channel,
            group: self.group_name,
            pin: self
                .pinned_module
                .zip(self.pinned_hash)
                .map(|(module, hash)| Pin { module, hash }),
            pin_policy: PinPolicy::parse(&self.pin_policy)?,
            lease_token: self.lease_token,
            lease_until: self.lease_until,
            worker: self.worker,
            state: JobState::parse(&self.state)?,
            description: self.description,
            user: self.user_name,
            trigger: Trigger::parse(&self.triggered_by)?,
            module: self.module,
            module_hash: self.module_hash,
            progress_total: self.progress_total,
            progress_done: self.progress_done,
            result: self.result,
            error: self.error,
            error_kind: self.error_kind,
            stop_requested: self.stop_requested != 0,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        })
    }
}

pub(in crate::store) fn job(row: &crate::store::DbRow) -> Result<JobRow> {
    use sqlx::FromRow;
    StoredJob::from_row(row)?.into_job()
}
