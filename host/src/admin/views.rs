//! The wire format of the operators' views and bulk actions (overview,
//! bulk outcome, modules, cron schedules, cleared checkpoints, dead letters,
//! prunes) and their
//! bounds, kept apart from the operations so that clients name them alone.

use super::types::{JobAction, Snooze, StepInfo};
use crate::store::{JobRow, MinuteCount, Pruned, StateCount};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// Most jobs one bulk action takes: past it the filter must be narrowed.
pub const MAX_BULK: u32 = 10_000;

/// What a bulk action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    /// The action.
    pub action: JobAction,
    /// How many jobs the filter matched.
    pub matched: usize,
    /// The jobs acted on, newest first.
    pub acted: Vec<i64>,
    /// The jobs left alone, and why (their state forbids the action, or they
    /// changed in between).
    pub skipped: Vec<Skipped>,
}

/// A job a bulk action left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The job.
    pub id: i64,
    /// Why.
    pub reason: String,
}

/// Most running jobs and failing jobs the overview lists.
pub const OVERVIEW_JOBS: u32 = 50;

/// How far back the overview looks for finished and failed jobs, ms (a day).
pub const FAILED_WINDOW_MS: i64 = 24 * 3_600_000;

/// The state of the installation at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// When it was taken, ms.
    pub at: i64,
    /// Jobs per instance, channel and state: every queued or running job, and
    /// the jobs that finished (done, failed, cancelled) in the last day.
    pub states: Vec<StateCount>,
    /// Jobs done and failed per minute over the last hour, oldest first.
    pub per_minute: Vec<MinuteCount>,
    /// Running jobs, newest first, with their progress and steps.
    pub running: Vec<RunningJob>,
    /// Backend instances whose remote asked to wait.
    pub snoozed: Vec<Snooze>,
    /// Failing jobs, newest first: failed in the last day, and pending ones
    /// retrying after an error (their `error` says why).
    pub failing: Vec<JobRow>,
}

/// A running job with its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningJob {
    /// The job.
    pub job: JobRow,
    /// Items done, when the job reports progress.
    pub done: Option<i64>,
    /// Items in all, when known.
    pub total: Option<i64>,
    /// Its steps, in order (empty for a plain job).
    pub steps: Vec<StepInfo>,
}

/// Most links one list returns, whatever was asked.
pub const MAX_LINKS: u32 = 1_000;

/// An installed module and the versions kept for jobs pinned to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// Module name.
    pub name: String,
    /// The version installed now.
    pub version: String,
    /// Its content hash (SHA-256, hex).
    pub content_hash: String,
    /// Backend keys it implements.
    pub backends: Vec<String>,
    /// When it was installed, ms.
    pub installed_at: i64,
    /// Every version kept (the current one included), newest first.
    pub versions: Vec<ModuleVersion>,
}

/// A version of a module ever installed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleVersion {
    /// Version.
    pub version: String,
    /// Content hash.
    pub content_hash: String,
    /// Backend keys it implements.
    pub backends: Vec<String>,
    /// When it was installed, ms.
    pub installed_at: i64,
    /// Whether it is the version installed now.
    pub current: bool,
}

/// A cron schedule of a backend instance, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronSchedule {
    /// Backend instance.
    pub instance: String,
    /// Name of the schedule.
    pub name: String,
    /// Module that declares it.
    pub module: String,
    /// Job it enqueues.
    pub job: String,
    /// The manifest's schedule.
    pub declared: String,
    /// The schedule in effect; none: switched off.
    pub schedule: Option<String>,
    /// Whether an operator changed it (`ferry cron set`).
    pub overridden: bool,
    /// The profile its runs take their parameters from, if any.
    pub profile: Option<String>,
    /// The last tick handled, ms.
    pub last_tick: Option<i64>,
    /// The last job enqueued.
    pub last_job: Option<i64>,
    /// When it runs next, ms.
    pub next_tick: Option<i64>,
}

/// How many records a clear took off the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    /// How many.
    pub cleared: u64,
}

/// The query of `GET /api/cron`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceQuery {
    /// Only this backend instance.
    pub instance: Option<String>,
}

/// Most transmissions or audit entries one list returns, whatever was asked.
pub const MAX_ENTRIES: u32 = 1_000;

/// Most dead letters one listing returns.
pub const MAX_DEAD_LETTERS: u32 = 1_000;
/// Bytes of a dead letter's body a listing shows.
pub const BODY_PREVIEW: usize = 1_024;

/// Most outbox messages one listing shows.
pub const MAX_OUTBOX: u32 = 1_000;

/// Which outbox messages to list: `GET /api/outbox?…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxQuery {
    /// Only this instance's.
    #[serde(default)]
    pub instance: Option<String>,
    /// Only those not sent yet.
    #[serde(default)]
    pub unsent: bool,
    /// At most this many, newest first (default 100, at most 1 000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Which dead letters to list: `GET /api/dead-letters?…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeadLetterQuery {
    /// Only those of this instance's source…
    #[serde(default)]
    pub instance: Option<String>,
    /// …of this listener (both or neither).
    #[serde(default)]
    pub listener: Option<String>,
    /// Replayed ones too.
    #[serde(default)]
    pub replayed: bool,
    /// At most this many, newest first (default 100, at most 1 000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A dead letter as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterInfo {
    /// Id (what `replay` takes).
    pub id: i64,
    /// The source: `INSTANCE/LISTENER`.
    pub source: String,
    /// The message's id at its broker.
    pub message_id: String,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its metadata (subject, headers).
    pub headers: Map<String, Value>,
    /// The start of its body, as text (invalid UTF-8 replaced).
    pub body_preview: String,
    /// The size its body had.
    pub body_size: i64,
    /// Why it did not become a job.
    pub reason: String,
    /// When, ms.
    pub created_at: i64,
    /// When it was replayed, ms.
    pub replayed_at: Option<i64>,
    /// The job its replay made.
    pub replay_job_id: Option<i64>,
}

/// The job a replayed dead letter became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replayed {
    /// The dead letter.
    pub dead_letter: i64,
    /// Its new job.
    pub job: i64,
}

/// Pausing or resuming a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceAction {
    /// Stop taking messages (the broker keeps them).
    Pause,
    /// Take them again.
    Resume,
}

/// Audit action: an operator pruned history (the cut-off and counts in the detail).
pub const JOBS_PRUNE: &str = "jobs.prune";

/// Shortest age a prune accepts: an hour, so that a slip of the unit
/// (`30s` for `30d`) cannot erase the jobs an operator is looking at.
pub const MIN_PRUNE_AGE: Duration = Duration::from_secs(3_600);

/// The body of `POST /api/jobs/prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRequest {
    /// Forget what finished (or was sent, or logged) more than this many ms ago.
    pub older_than_ms: u64,
    /// Only count what would be forgotten.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a prune forgot, or would forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneOutcome {
    /// The cut-off, ms: what finished before it is forgotten.
    pub before: i64,
    /// Whether this was a dry run (nothing forgotten, only counted).
    pub dry_run: bool,
    /// How much, per kind.
    #[serde(flatten)]
    pub pruned: Pruned,
}
