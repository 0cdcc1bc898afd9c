//! Job profiles: named, saved configurations of a job for one backend
//! instance (`nightly` = `import-batch` on `acme` with `model=product,
//! since=2d`), launched by name. The CLI (`ferry profile …`), the admin API
//! (`/api/profiles`) and the CLI in remote mode all come here through
//! [`crate::admin::Admin`].
//!
//! Parameters are checked against the job's declaration (see
//! [`ferry_manifest::jobs`]) when a profile is saved, when it is edited and
//! when it runs, with one-off overrides: a profile whose job changed its
//! parameters since it was saved is refused with the rule it now breaks, and
//! one whose instance or job no longer exists says so. Profiles keep the
//! parameters as given; defaults are applied when a profile runs, so that a
//! new default of the job reaches the profiles that do not set it.

mod input;

pub use input::ParamInput;

use crate::Ferry;
use crate::backend::{BackendKey, JobDecl};
use crate::error::{Error, Result};
use crate::manifest::valid_name;
use crate::store::{NewJob, ProfileRow, now_ms};
use ferry_manifest::jobs::validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A profile to create: `POST /api/profiles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewProfile {
    /// Its unique name.
    pub name: String,
    /// The backend instance its job runs for.
    pub instance: String,
    /// The job it runs.
    pub job: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Its parameters.
    #[serde(default, flatten)]
    pub params: ParamInput,
}

/// A change to a profile: `PATCH /api/profiles/NAME`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileEdit {
    /// Parameters set (or replaced).
    #[serde(default, flatten)]
    pub params: ParamInput,
    /// Parameters removed from the profile (the job's default applies again).
    #[serde(default)]
    pub unset: Vec<String>,
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A profile with what it would run now: `GET /api/profiles/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileDetail {
    /// The stored profile.
    #[serde(flatten)]
    pub profile: ProfileRow,
    /// The job's payload if it ran now (defaults applied); none when it cannot run.
    pub effective: Option<Value>,
    /// Why it cannot run now (its instance or job is gone, its parameters no
    /// longer pass); none when it can.
    pub problem: Option<String>,
}

/// What running a profile enqueued: `POST /api/profiles/NAME/run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRun {
    /// The profile.
    pub profile: String,
    /// The job stored.
    pub job_id: i64,
    /// Its payload (the profile's parameters, the overrides, the defaults).
    pub payload: Value,
}

fn subject(name: &str) -> String {
    format!("profile `{name}`")
}

/// The declaration of `job` as the instance's backend chain answers it now.
async fn job_decl(ferry: &Ferry, profile: &str, instance: &str, job: &str) -> Result<JobDecl> {
    let found = ferry
        .store()
        .instance(instance)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::NotFound {
                kind: "backend instance",
                name: instance.to_string(),
                hint: format!(" (named by {}; see `ferry backend list`)", subject(profile)),
            },
            other => other,
        })?;
    let key = BackendKey::parse(&found.backend).map_err(Error::Invalid)?;
    let resolved = ferry
        .registry()
        .resolve_job(&key, job)
        .map_err(|e| Error::Invalid(format!("{}: {e}", subject(profile))))?;
    resolved
        .module
        .job_decl(job)
        .ok_or_else(|| Error::Invalid(format!("{}: job `{job}` not found", subject(profile))))
}

/// `params` checked for profile `name` against `decl`; the payload with defaults.
fn checked(name: &str, decl: &JobDecl, params: &Map<String, Value>) -> Result<Value> {
    validate(&subject(name), &decl.params, &Value::Object(params.clone()))
        .map_err(|e| Error::Invalid(e.to_string()))
}

/// Create profile `new.name` for `actor` (audited): its instance and job must
/// exist and its parameters pass the job's declaration.
pub async fn create(ferry: &Ferry, new: &NewProfile, actor: &str) -> Result<ProfileRow> {
    if !valid_name(&new.name) {
        return Err(Error::Invalid(format!(
            "profile name {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
            new.name
        )));
    }
    let decl = job_decl(ferry, &new.name, &new.instance, &new.job).await?;
    let params = new.params.read(&subject(&new.name), &decl.params)?;
    checked(&new.name, &decl, &params)?;
    let now = now_ms();
    let row = ProfileRow {
        name: new.name.clone(),
        instance: new.instance.clone(),
        job: new.job.clone(),
        params,
        description: new.description.clone(),
        created_at: now,
        updated_at: now,
    };
    ferry.store().insert_profile(&row, actor).await?;
    Ok(row)
}

/// Every profile, by name.
pub async fn list(ferry: &Ferry) -> Result<Vec<ProfileRow>> {
    ferry.store().profiles().await
}

/// Profile `name`, with the payload it would run now or why it cannot.
pub async fn show(ferry: &Ferry, name: &str) -> Result<ProfileDetail> {
    let profile = ferry.store().profile(name).await?;
    let now = match job_decl(ferry, name, &profile.instance, &profile.job).await {
        Ok(decl) => checked(name, &decl, &profile.params),
        Err(e) => Err(e),
    };
    let (effective, problem) = match now {
        Ok(payload) => (Some(payload), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(ProfileDetail {
        profile,
        effective,
        problem,
    })
}

/// Change profile `name` for `actor` (audited): parameters set and unset,
/// the result checked like a new profile.
pub async fn edit(
    ferry: &Ferry,
    name: &str,
    edit: &ProfileEdit,
    actor: &str,
) -> Result<ProfileRow> {
    let mut profile = ferry.store().profile(name).await?;
    let decl = job_decl(ferry, name, &profile.instance, &profile.job).await?;
    for key in &edit.unset {
        if profile.params.remove(key).is_none() {
            return Err(Error::Invalid(format!(
                "{}: parameter `{key}` is not set in the profile (it sets: {})",
                subject(name),
                names(&profile.params)
            )));
        }
    }
    profile
        .params
        .extend(edit.params.read(&subject(name), &decl.params)?);
    checked(name, &decl, &profile.params)?;
    if let Some(description) = &edit.description {
        profile.description = description.clone();
    }
    profile.updated_at = now_ms();
    ferry.store().update_profile(&profile, actor).await?;
    Ok(profile)
}

fn names(params: &Map<String, Value>) -> String {
    if params.is_empty() {
        "none".into()
    } else {
        params.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Remove profile `name` for `actor` (audited).
pub async fn remove(ferry: &Ferry, name: &str, actor: &str) -> Result<()> {
    ferry.store().delete_profile(name, actor).await
}

/// Run profile `name` for `actor` (audited): its parameters with the one-off
/// `overrides` over them, checked, become the payload of a job of its
/// instance, stored like any other enqueue (pinned to the module version
/// that answers it now).
pub async fn run(
    ferry: &Ferry,
    name: &str,
    overrides: &ParamInput,
    actor: &str,
) -> Result<ProfileRun> {
    let profile = ferry.store().profile(name).await?;
    let decl = job_decl(ferry, name, &profile.instance, &profile.job).await?;
    let mut params = profile.params.clone();
    params.extend(overrides.read(&subject(name), &decl.params)?);
    let payload = checked(name, &decl, &params)?;
    let mut job = NewJob::new(&profile.instance, &profile.job, &payload);
    job.description = if profile.description.is_empty() {
        format!("profile `{name}`")
    } else {
        format!("{} (profile `{name}`)", profile.description)
    };
    job.user = actor.to_string();
    job.trigger = crate::store::Trigger::of_actor(actor);
    let job = ferry.modules().pinned(&job).await?;
    let job_id = ferry
        .store()
        .enqueue_profile_run(&profile, &job, actor)
        .await?;
    Ok(ProfileRun {
        profile: name.to_string(),
        job_id,
        payload,
    })
}
