//! The admin API's wire format (JSON), shared by server and client.

use crate::error::{Error, Result};
use crate::manifest::{WebhookAuth, WebhookContent};
use crate::store::{JobRow, JobState, LogLine};
use crate::triggers::button::Button;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A job as operators see it: the stored job, as the store returns it.
pub type JobInfo = JobRow;

/// A conflict as operators see it: the stored conflict.
pub type ConflictInfo = crate::store::ConflictRow;

/// A conflict policy to set: `PUT /api/instances/NAME/conflict-policies/MODEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRequest {
    /// The policy.
    pub policy: crate::store::ConflictPolicy,
}

/// A log line of a job run.
pub type LogEntry = LogLine;

/// A job with its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    /// The job.
    pub job: JobInfo,
    /// Its log, oldest first.
    pub logs: Vec<LogEntry>,
    /// When its backend instance is snoozed (its remote asked to wait), the
    /// snooze: a pending job does not run before it ends.
    #[serde(default)]
    pub snooze: Option<Snooze>,
    /// What it waits for before it may run (jobs and groups), with where
    /// each stands now.
    #[serde(default)]
    pub dependencies: Vec<crate::store::Dependency>,
}

/// A backend instance whose jobs wait because its remote asked to (HTTP 429
/// or 503 with `Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snooze {
    /// The backend instance.
    pub instance: String,
    /// Until when, ms.
    pub until: i64,
    /// Why (the error that asked for it).
    pub reason: String,
}

/// What an operator can do to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobAction {
    /// Put a done, failed or cancelled job back in the queue; make a pending
    /// one (waiting for its retry) due now.
    Requeue,
    /// Cancel a pending job.
    Cancel,
    /// Ask a running job to stop (a pending one is cancelled).
    Stop,
    /// Mark a job done by hand.
    Done,
    /// Pause a job made of steps: a pending one at once, a running one at
    /// its next chunk boundary; no worker claims it until it is resumed.
    Pause,
    /// Resume a paused job from where its steps are.
    Resume,
}

impl JobAction {
    /// The name in the API's paths.
    pub fn as_str(self) -> &'static str {
        match self {
            JobAction::Requeue => "requeue",
            JobAction::Cancel => "cancel",
            JobAction::Stop => "stop",
            JobAction::Done => "done",
            JobAction::Pause => "pause",
            JobAction::Resume => "resume",
        }
    }

    /// Parse an action name.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "requeue" => JobAction::Requeue,
            "cancel" => JobAction::Cancel,
            "stop" => JobAction::Stop,
            "done" => JobAction::Done,
            "pause" => JobAction::Pause,
            "resume" => JobAction::Resume,
            other => {
                return Err(Error::NotFound {
                    kind: "job action",
                    name: other.into(),
                    hint: " (requeue, cancel, stop, done, pause, resume)".into(),
                });
            }
        })
    }
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    /// The job.
    pub id: i64,
    /// The action.
    pub action: JobAction,
    /// The job's state afterwards (`started` after `stop`: it was asked to stop).
    pub state: JobState,
    /// For a requeue: the job's state before (a `pending` job was made due now).
    #[serde(default)]
    pub was: Option<JobState>,
    /// For a requeue of a pending job: when it was due before (ms; none: no
    /// time of its own).
    #[serde(default)]
    pub was_due: Option<i64>,
}

/// Whether the server is up, and its queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Version of Ferry.
    pub version: String,
    /// Jobs per state.
    pub jobs: BTreeMap<String, i64>,
}

/// One step of a backend chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// Backend key.
    pub backend: String,
    /// Module implementing it (none if not installed).
    pub module: Option<String>,
}

/// A webhook of a backend instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookInfo {
    /// Hook name.
    pub name: String,
    /// Module declaring it.
    pub module: String,
    /// Path to call, on the server.
    pub path: String,
    /// How callers authenticate.
    pub auth: WebhookAuth,
    /// What the body must be.
    pub content: WebhookContent,
    /// Whether the instance has the hook's secret (always true for `auth = "none"`).
    pub configured: bool,
    /// What it is for.
    pub description: String,
}

/// A backend instance, its chain and triggers. Params that hold secrets are
/// shown as `"***"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceInfo {
    /// Instance name.
    pub name: String,
    /// Backend key.
    pub backend: String,
    /// Params, secrets hidden.
    pub params: Map<String, Value>,
    /// Created, ms.
    pub created_at: i64,
    /// Backend chain, from the instance's backend up.
    pub chain: Vec<ChainLink>,
    /// Webhooks.
    pub webhooks: Vec<HookInfo>,
    /// Buttons.
    pub buttons: Vec<Button>,
}

/// What pressing a button did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pressed {
    /// The job enqueued.
    pub job: i64,
}

/// A backend instance to add: `POST /api/instances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewInstance {
    /// Instance name, e.g. `acme`.
    pub name: String,
    /// Backend key, e.g. `shop@2.0`.
    pub backend: String,
    /// Params, as the backend's manifests declare them.
    #[serde(default)]
    pub params: Map<String, Value>,
}

/// The name of a secret of a backend instance (its value is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretName {
    /// Backend instance.
    pub instance: String,
    /// Secret name.
    pub secret: String,
}

/// An API token to make: `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Its name (who or what will use it).
    pub name: String,
    /// Its role.
    pub role: crate::tokens::Role,
}

/// What an operation that answers nothing else did: `{"done": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// Always true: a failure is an error instead.
    pub done: bool,
}

/// A step of a job (contract 0.2) as the API shows it.
pub type StepInfo = crate::store::StepRow;

/// An item a step did not write, and why.
pub type StepWarningInfo = crate::store::StepWarning;

/// The warnings of a job's steps: the first ones, and how many there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepWarnings {
    /// The job.
    pub job: i64,
    /// The first warnings, oldest first (at most the limit asked for).
    pub warnings: Vec<StepWarningInfo>,
    /// How many warnings are kept for the job.
    pub kept: i64,
    /// How many more there were past the bound per step (counted, not kept).
    pub dropped: i64,
}
