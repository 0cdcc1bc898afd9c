//! Rows of the audit log: who did what to which secret, and when. A row names
//! a secret, never its value; what the actions and actors are is said by
//! [`crate::audit`].

use super::jobs::Conditions;
use super::{DbConn, DbRow, Store};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One entry of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Id (0 before it is stored).
    pub id: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// Who: `cli`, `api:TOKEN`, `job:ID`, `run:USER`.
    pub actor: String,
    /// What: `secret.reveal`, `secret.reveal-denied`, `secret.set`…
    pub action: String,
    /// Backend instance.
    pub instance: String,
    /// What was acted on: a secret's name.
    pub subject: String,
    /// Job of the run that did it, if one did.
    pub job_id: Option<i64>,
    /// More: the module that asked, or why it was refused.
    pub detail: Option<String>,
}

/// Which audit entries to list, newest first. Every field narrows the list;
/// `before` pages back (pass the smallest id shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Only this backend instance.
    pub instance: Option<String>,
    /// Only entries of this job's runs.
    pub job: Option<i64>,
    /// Only entries of this actor (`cli`, `api:TOKEN`, `job:ID`…).
    pub actor: Option<String>,
    /// Only entries of this action (`secret.set`, `cursor.clear`…).
    pub action: Option<String>,
    /// Only entries at or after this time, ms since the epoch.
    #[serde(alias = "since")]
    pub since_ms: Option<i64>,
    /// Only entries before this time, ms since the epoch.
    pub until: Option<i64>,
    /// Only entries whose id is below this one (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

impl Default for AuditFilter {
    fn default() -> Self {
        AuditFilter {
            instance: None,
            job: None,
            actor: None,
            action: None,
            since_ms: None,
            until: None,
            before: None,
            limit: 50,
        }
    }
}

const COLUMNS: &str = "id, at, actor, action, instance, subject, job_id, detail";

/// Add `entry` on `conn` (a transaction, when it goes with the change it records).
pub(super) async fn insert(conn: &mut DbConn, entry: &AuditEntry) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, action, instance, subject, job_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.instance)
    .bind(&entry.subject)
    .bind(entry.job_id)
    .bind(entry.detail.as_deref())
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// Add an entry to the audit log; returns its id.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<i64> {
        let mut conn = self.pool().acquire().await?;
        insert(&mut conn, entry).await
    }

    /// Audit entries matching `filter`, newest first.
    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut when = Conditions::default();
        when.text_equals("instance", filter.instance.as_deref());
        when.number("job_id", "=", filter.job);
        when.text_equals("actor", filter.actor.as_deref());
        when.text_equals("action", filter.action.as_deref());
        when.number("at", ">=", filter.since_ms);
        when.number("at", "<", filter.until);
        when.number("id", "<", filter.before);
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log{} ORDER BY id DESC LIMIT {}",
            when.clause(),
            when.next_param()
        );
        let rows = when
            .bind(sqlx::query(&sql))
            .bind(i64::from(filter.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry).collect()
    }
}

fn entry(r: &DbRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        instance: r.try_get("instance")?,
        subject: r.try_get("subject")?,
        job_id: r.try_get("job_id")?,
        detail: r.try_get("detail")?,
    })
}
