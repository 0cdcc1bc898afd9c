//! Operating a Ferry installation: jobs (list, show, requeue, cancel, stop,
//! done, one or a filtered set; prune the old ones), logs (job lines, transmissions, audit), the
//! overview, modules, cron schedules, checkpoints, links, backend instances, buttons, job profiles, broker sources and
//! their dead letters, published topics, instances' `meta` and `blobs` stores, health, conflicts and their policies,
//! couples of external ids. Defined once here and used by the
//! CLI (`ferry jobs …`), by the admin HTTP API of `ferry serve` and, through
//! that API, by the CLI in remote mode (`--server URL`).
//!
//! [`Admin::Local`] works on the store of an installation; [`Admin::Remote`]
//! calls the admin API of a running `ferry serve`, whose handlers call
//! [`Admin::Local`]: one implementation of each operation, two ways to reach it.
//! The types here are the API's wire format, kept apart from the store's rows
//! so that the database can change without changing the API.

mod bulk;
mod catalog;
mod conflicts;
mod cursors;
mod local;
mod logs;
mod overview;
mod pairs;
mod profiles;
mod remote;
mod retention;
mod sources;
mod stores;
mod topics;
mod types;
mod views;

pub use cursors::{CURSOR_CLEAR, CURSOR_SET, CursorInfo};
pub use remote::Remote;
pub use types::{
    ActionResult, ChainLink, ConflictInfo, Done, Health, HookInfo, InstanceInfo, JobAction,
    JobDetail, JobInfo, LogEntry, NewInstance, PolicyRequest, Pressed, SecretName, Snooze,
    StepInfo, StepWarningInfo, StepWarnings, TokenRequest,
};
pub use views::{
    BODY_PREVIEW, BulkOutcome, Cleared, CronSchedule, DeadLetterInfo, DeadLetterQuery,
    FAILED_WINDOW_MS, InstanceQuery, JOBS_PRUNE, MAX_BULK, MAX_DEAD_LETTERS, MAX_ENTRIES,
    MAX_LINKS, MAX_OUTBOX, MIN_PRUNE_AGE, ModuleInfo, ModuleVersion, OVERVIEW_JOBS, OutboxQuery,
    Overview, PruneOutcome, PruneRequest, Replayed, RunningJob, Skipped, SourceAction,
};

use crate::Ferry;
use crate::error::{Error, Result};
use crate::store::{JobFilter, TokenRow};
use crate::tokens::{NewToken, Role};
use serde_json::Value;

/// The query of `GET /api/jobs/ID/warnings`.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct WarningsQuery {
    /// At most this many warnings.
    #[serde(default = "default_warnings")]
    pub limit: u32,
}

fn default_warnings() -> u32 {
    100
}

/// Where the operations run: on a local installation or on a server.
#[derive(Clone)]
pub enum Admin {
    /// The store of this installation.
    Local(Ferry),
    /// The admin API of a running `ferry serve`.
    Remote(Remote),
}

/// The HTTP status that stands for an error, so that the server answers it
/// and the client reads it the same way.
pub fn http_status(error: &Error) -> u16 {
    match error {
        Error::NotFound { .. } | Error::NotFoundInChain { .. } => 404,
        Error::Conflict(_) => 409,
        Error::Unauthorized(_) => 401,
        Error::Forbidden(_) => 403,
        Error::Invalid(_)
        | Error::Manifest { .. }
        | Error::NotAComponent { .. }
        | Error::WrongWorld { .. }
        | Error::Mismatch { .. } => 400,
        Error::Remote {
            status: Some(status),
            ..
        } => *status,
        Error::Remote { status: None, .. } => 502,
        Error::Connect(_) => 503,
        Error::Database(_)
        | Error::Config { .. }
        | Error::Migration(_)
        | Error::Io { .. }
        | Error::Runtime(_)
        | Error::Json(_) => 500,
    }
}

impl Admin {
    /// Whether the server is up, and how many jobs are in each state.
    pub async fn health(&self) -> Result<Health> {
        match self {
            Admin::Local(ferry) => local::health(ferry).await,
            Admin::Remote(r) => r.get(&["api", "health"]).await,
        }
    }

    /// Jobs matching `filter`, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobInfo>> {
        match self {
            Admin::Local(ferry) => local::list_jobs(ferry, filter).await,
            Admin::Remote(r) => r.get_with(&["api", "jobs"], filter).await,
        }
    }

    /// One job with its log.
    pub async fn job(&self, id: i64) -> Result<JobDetail> {
        match self {
            Admin::Local(ferry) => local::job(ferry, id).await,
            Admin::Remote(r) => r.get(&["api", "jobs", &id.to_string()]).await,
        }
    }

    /// The steps of a job made of steps, in order (empty for a plain job).
    pub async fn job_steps(&self, id: i64) -> Result<Vec<StepInfo>> {
        match self {
            Admin::Local(ferry) => local::job_steps(ferry, id).await,
            Admin::Remote(r) => r.get(&["api", "jobs", &id.to_string(), "steps"]).await,
        }
    }

    /// The first `limit` warnings of a job's steps (items not written, and
    /// why), with how many there are.
    pub async fn job_warnings(&self, id: i64, limit: u32) -> Result<StepWarnings> {
        match self {
            Admin::Local(ferry) => local::job_warnings(ferry, id, limit).await,
            Admin::Remote(r) => {
                let query = WarningsQuery { limit };
                r.get_with(&["api", "jobs", &id.to_string(), "warnings"], &query)
                    .await
            }
        }
    }

    /// Requeue, cancel, stop, set done, pause or resume a job. A job whose state does not
    /// allow it is an [`Error::Conflict`]. Requeueing a pending job (one that
    /// waits for its retry) makes it due now.
    pub async fn act(&self, id: i64, action: JobAction) -> Result<ActionResult> {
        match self {
            Admin::Local(ferry) => local::act(ferry, id, action).await,
            Admin::Remote(r) => {
                let id = id.to_string();
                r.post(&["api", "jobs", &id, action.as_str()], &Value::Null)
                    .await
            }
        }
    }

    /// Every backend instance (secrets hidden).
    pub async fn instances(&self) -> Result<Vec<InstanceInfo>> {
        match self {
            Admin::Local(ferry) => local::instances(ferry).await,
            Admin::Remote(r) => r.get(&["api", "instances"]).await,
        }
    }

    /// One backend instance (secrets hidden), its backend chain, webhooks and buttons.
    pub async fn instance(&self, name: &str) -> Result<InstanceInfo> {
        match self {
            Admin::Local(ferry) => local::instance(ferry, name).await,
            Admin::Remote(r) => r.get(&["api", "instances", name]).await,
        }
    }

    /// Press a button of an instance: its job is enqueued with `data`, for
    /// `user` (a server records its own user for the calls it gets).
    pub async fn press(
        &self,
        instance: &str,
        button: &str,
        data: &Value,
        user: &str,
    ) -> Result<Pressed> {
        match self {
            Admin::Local(ferry) => {
                let job = crate::triggers::button::press(
                    ferry.store(),
                    ferry.modules(),
                    instance,
                    button,
                    data,
                    user,
                )
                .await?;
                Ok(Pressed { job })
            }
            Admin::Remote(r) => {
                r.post(&["api", "instances", instance, "buttons", button], data)
                    .await
            }
        }
    }

    /// Add a backend instance.
    pub async fn add_instance(&self, instance: &NewInstance) -> Result<InstanceInfo> {
        match self {
            Admin::Local(ferry) => local::add_instance(ferry, instance).await,
            Admin::Remote(r) => r.post(&["api", "instances"], instance).await,
        }
    }

    /// Remove a backend instance (its records and links stay).
    pub async fn remove_instance(&self, name: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => local::remove_instance(ferry, name).await,
            Admin::Remote(r) => r.delete(&["api", "instances", name]).await,
        }
    }

    /// Names of the secrets of `instance` (of every instance when none).
    pub async fn secrets(&self, instance: Option<&str>) -> Result<Vec<SecretName>> {
        match self {
            Admin::Local(ferry) => local::secrets(ferry, instance).await,
            Admin::Remote(r) => match instance {
                Some(name) => r.get(&["api", "instances", name, "secrets"]).await,
                None => r.get(&["api", "secrets"]).await,
            },
        }
    }

    /// Set (or replace) secret `name` of `instance`, for `actor` (a server
    /// records its caller instead).
    pub async fn set_secret(
        &self,
        instance: &str,
        name: &str,
        value: &str,
        actor: &str,
    ) -> Result<Done> {
        match self {
            Admin::Local(ferry) => local::set_secret(ferry, instance, name, value, actor).await,
            Admin::Remote(r) => {
                r.put_text(&["api", "instances", instance, "secrets", name], value)
                    .await
            }
        }
    }

    /// Remove secret `name` of `instance`, for `actor`.
    pub async fn remove_secret(&self, instance: &str, name: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => local::remove_secret(ferry, instance, name, actor).await,
            Admin::Remote(r) => {
                r.delete(&["api", "instances", instance, "secrets", name])
                    .await
            }
        }
    }

    /// The cursors of backend instance `instance`, by name.
    pub async fn cursors(&self, instance: &str) -> Result<Vec<CursorInfo>> {
        match self {
            Admin::Local(ferry) => cursors::list(ferry, instance).await,
            Admin::Remote(r) => r.get(&["api", "instances", instance, "cursors"]).await,
        }
    }

    /// Set cursor `name` of `instance` to `value` at once, for `actor`: the
    /// next run reads its stream from there.
    pub async fn set_cursor(
        &self,
        instance: &str,
        name: &str,
        value: &Value,
        actor: &str,
    ) -> Result<CursorInfo> {
        match self {
            Admin::Local(ferry) => cursors::set(ferry, instance, name, value, actor).await,
            Admin::Remote(r) => {
                let path = ["api", "instances", instance, "cursors", name];
                r.put_text(&path, &value.to_string()).await
            }
        }
    }

    /// Remove cursor `name` of `instance`, for `actor`: the next run reads
    /// its stream from the start. Not found if there was none.
    pub async fn clear_cursor(&self, instance: &str, name: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => cursors::clear(ferry, instance, name, actor).await,
            Admin::Remote(r) => {
                r.delete(&["api", "instances", instance, "cursors", name])
                    .await
            }
        }
    }

    /// Every API token (never the tokens themselves).
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        match self {
            Admin::Local(ferry) => crate::tokens::list(ferry.store()).await,
            Admin::Remote(r) => r.get(&["api", "tokens"]).await,
        }
    }

    /// Make an API token, for `actor`: the answer holds the token, shown this once.
    pub async fn create_token(&self, name: &str, role: Role, actor: &str) -> Result<NewToken> {
        match self {
            Admin::Local(ferry) => crate::tokens::create(ferry.store(), name, role, actor).await,
            Admin::Remote(r) => {
                let request = TokenRequest {
                    name: name.to_string(),
                    role,
                };
                r.post(&["api", "tokens"], &request).await
            }
        }
    }

    /// Revoke API token `name`, for `actor`.
    pub async fn revoke_token(&self, name: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => {
                crate::tokens::revoke(ferry.store(), name, actor).await?;
                Ok(Done { done: true })
            }
            Admin::Remote(r) => r.delete(&["api", "tokens", name]).await,
        }
    }
}
