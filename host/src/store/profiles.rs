//! Rows of job profiles: a name, the backend instance and job it runs, the
//! parameters an operator saved. Each change is audited in the same
//! transaction as the change itself; checking the parameters against the job
//! is the caller's ([`crate::profiles`]), which knows the registry.

use super::{AuditEntry, NewJob, Store, now_ms};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;

/// A profile was created (its instance and job in the detail).
pub const PROFILE_CREATE: &str = "profile.create";
/// A profile's parameters or description were changed (the new parameters in the detail).
pub const PROFILE_EDIT: &str = "profile.edit";
/// A profile was removed.
pub const PROFILE_REMOVE: &str = "profile.remove";
/// A profile was run (the job's id in the detail).
pub const PROFILE_RUN: &str = "profile.run";

/// A stored job profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Its unique name, e.g. `nightly`.
    pub name: String,
    /// The backend instance its job runs for.
    pub instance: String,
    /// The job it runs.
    pub job: String,
    /// The parameters saved, as given (defaults are applied when it runs).
    pub params: Map<String, Value>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// Last changed, ms since the epoch.
    pub updated_at: i64,
}

fn audit(by: &str, action: &str, profile: &ProfileRow, detail: String) -> AuditEntry {
    AuditEntry {
        at: now_ms(),
        actor: by.to_string(),
        action: action.to_string(),
        instance: profile.instance.clone(),
        subject: profile.name.clone(),
        detail: Some(detail),
        ..Default::default()
    }
}

impl Store {
    /// Keep a new profile for `by` (an audit actor); a name already taken is
    /// an [`Error::Conflict`].
    pub async fn insert_profile(&self, profile: &ProfileRow, by: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO job_profiles (name, instance, job, params, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&profile.name)
        .bind(&profile.instance)
        .bind(&profile.job)
        .bind(Value::Object(profile.params.clone()).to_string())
        .bind(&profile.description)
        .bind(profile.created_at)
        .bind(profile.updated_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "a profile named `{}` exists already (edit it, or remove it first)",
                profile.name
            )));
        }
        let detail = format!("instance {}, job {}", profile.instance, profile.job);
        super::audit::insert(&mut tx, &audit(by, PROFILE_CREATE, profile, detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replace the parameters and description of profile `profile.name`, for `by`.
    pub async fn update_profile(&self, profile: &ProfileRow, by: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let params = Value::Object(profile.params.clone()).to_string();
        let updated = sqlx::query(
            "UPDATE job_profiles SET params = $1, description = $2, updated_at = $3 WHERE name = $4",
        )
        .bind(&params)
        .bind(&profile.description)
        .bind(profile.updated_at)
        .bind(&profile.name)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(not_found(&profile.name));
        }
        super::audit::insert(&mut tx, &audit(by, PROFILE_EDIT, profile, params)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Profile `name`.
    pub async fn profile(&self, name: &str) -> Result<ProfileRow> {
        let row = sqlx::query(
            "SELECT name, instance, job, params, description, created_at, updated_at \
             FROM job_profiles WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => profile_row(&row),
            None => Err(not_found(name)),
        }
    }

    /// Every profile, by name.
    pub async fn profiles(&self) -> Result<Vec<ProfileRow>> {
        let rows = sqlx::query(
            "SELECT name, instance, job, params, description, created_at, updated_at \
             FROM job_profiles ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(profile_row).collect()
    }

    /// Forget profile `name`, for `by`.
    pub async fn delete_profile(&self, name: &str, by: &str) -> Result<()> {
        let profile = self.profile(name).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM job_profiles WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let entry = audit(by, PROFILE_REMOVE, &profile, String::new());
        super::audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Store `job` (checked and pinned by the caller) as a run of `profile`
    /// by `by`, audited in the same transaction; the job's id.
    pub async fn enqueue_profile_run(
        &self,
        profile: &ProfileRow,
        job: &NewJob,
        by: &str,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = self.enqueue_in(&mut tx, job).await?;
        let mut entry = audit(by, PROFILE_RUN, profile, format!("job {id}"));
        entry.job_id = Some(id);
        super::audit::insert(&mut tx, &entry).await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(id)
    }
}

fn not_found(name: &str) -> Error {
    Error::NotFound {
        kind: "profile",
        name: name.to_string(),
        hint: " (see `ferry profile list`)".into(),
    }
}

fn profile_row(row: &super::DbRow) -> Result<ProfileRow> {
    let params: String = row.try_get("params")?;
    let params = match serde_json::from_str(&params)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(ProfileRow {
        name: row.try_get("name")?,
        instance: row.try_get("instance")?,
        job: row.try_get("job")?,
        params,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
