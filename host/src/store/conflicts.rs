//! Conflicts: a record changed on both sides since its last sync. A connector
//! reports one (with both versions and the jobs that apply either); a person
//! lists, reads and resolves it (`ferry conflicts`), which enqueues the job of
//! the side they took. A newer report of the same record supersedes the open
//! one, so that there is never more than one open conflict per record.

use super::{NewJob, Store, now_ms};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;

/// The audit action of a resolution.
pub const RESOLVE_ACTION: &str = "conflict.resolve";

/// A job the host enqueues when a conflict is resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRef {
    /// A job of the instance's backend chain, e.g. `export-record`.
    pub name: String,
    /// Its payload.
    pub payload: Value,
}

/// A conflict as a connector reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConflict {
    /// Backend instance.
    pub instance: String,
    /// Model of the local record.
    pub model: String,
    /// Local record id.
    pub local_id: i64,
    /// External id.
    pub external_id: String,
    /// The local record's values.
    pub local: Map<String, Value>,
    /// The external record mapped to local fields.
    pub remote: Map<String, Value>,
    /// What applies the local version.
    pub take_local: JobRef,
    /// What applies the external version.
    pub take_remote: JobRef,
    /// The run that reported it.
    pub job_id: Option<i64>,
    /// Who reported it (`job:ID`, `run:USER`): named as who superseded the
    /// open conflict of the same record, if there is one.
    pub reported_by: String,
}

/// Whether a conflict still waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictState {
    /// Waiting to be resolved.
    Open,
    /// Resolved by a person, or superseded by a newer report.
    Resolved,
}

impl ConflictState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictState::Open => "open",
            ConflictState::Resolved => "resolved",
        }
    }
}

/// A stored conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    /// Id.
    pub id: i64,
    /// Backend instance.
    pub instance: String,
    /// Model of the local record.
    pub model: String,
    /// Local record id.
    pub local_id: i64,
    /// External id.
    pub external_id: String,
    /// The local values when it was reported.
    pub local: Value,
    /// The external values (mapped to local fields) when it was reported.
    pub remote: Value,
    /// The fields that differ: `{field: {"local": …, "remote": …}}`.
    pub diff: Map<String, Value>,
    /// What applies the local version.
    pub take_local: JobRef,
    /// What applies the external version.
    pub take_remote: JobRef,
    /// Open or resolved.
    pub state: ConflictState,
    /// When it was reported, ms.
    pub created_at: i64,
    /// The run that reported it.
    pub job_id: Option<i64>,
    /// When it was resolved, ms.
    pub resolved_at: Option<i64>,
    /// Who resolved it (`cli`, `api:TOKEN`; for a superseded one, the newer report's run).
    pub resolved_by: Option<String>,
    /// `local`, `remote`, `merge` or `superseded`.
    pub resolution: Option<String>,
}

/// Which conflicts to list, newest first. The default: 50 of any state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConflictFilter {
    /// Only this backend instance.
    pub instance: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// Only conflicts in this state.
    pub state: Option<ConflictState>,
    /// At most this many.
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
}

impl Default for ConflictFilter {
    fn default() -> Self {
        ConflictFilter {
            instance: None,
            model: None,
            state: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// Which version a person takes: the wire format is `{"take": "local"}`,
/// `{"take": "remote"}` or `{"take": "merge", "values": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "take", content = "values", rename_all = "lowercase")]
pub enum Take {
    /// Keep the local record: its `take_local` job is enqueued.
    Local,
    /// Keep the external record: its `take_remote` job is enqueued.
    Remote,
    /// Write these values into the local record (no events fire), then
    /// enqueue `take_local` to send the result out.
    Merge(Map<String, Value>),
}

impl Take {
    /// The name of the side taken, as stored in `resolution`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Take::Local => "local",
            Take::Remote => "remote",
            Take::Merge(_) => "merge",
        }
    }
}

/// A resolved conflict and the job its resolution enqueued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// The conflict, resolved.
    pub conflict: ConflictRow,
    /// The job enqueued.
    pub job: i64,
}

/// The fields whose values differ between `local` and `remote`:
/// `{field: {"local": …, "remote": …}}`. Only the fields of `remote` count
/// (the external record mapped to local fields: what the sync carries);
/// fields only the local side keeps (`origin`, a computed band) are not in
/// conflict with anything. A field the local record lacks is `null` there.
pub fn field_diff(local: &Map<String, Value>, remote: &Map<String, Value>) -> Map<String, Value> {
    let mut diff = Map::new();
    for (key, r) in remote {
        let l = local.get(key);
        if l != Some(r) {
            diff.insert(
                key.clone(),
                serde_json::json!({ "local": l.cloned().unwrap_or(Value::Null), "remote": r }),
            );
        }
    }
    diff
}

const COLUMNS: &str = "id, instance, model, local_id, external_id, local, remote, diff, take_local, \
     take_remote, state, created_at, job_id, resolved_at, resolved_by, resolution";

fn json_column<T: serde::de::DeserializeOwned>(row: &super::DbRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Invalid(format!(
            "stored conflict: column `{column}` is not what Ferry wrote: {e}"
        ))
    })
}

fn conflict(row: &super::DbRow) -> Result<ConflictRow> {
    let state: String = row.try_get("state")?;
    Ok(ConflictRow {
        id: row.try_get("id")?,
        instance: row.try_get("instance")?,
        model: row.try_get("model")?,
        local_id: row.try_get("local_id")?,
        external_id: row.try_get("external_id")?,
        local: json_column(row, "local")?,
        remote: json_column(row, "remote")?,
        diff: json_column(row, "diff")?,
        take_local: json_column(row, "take_local")?,
        take_remote: json_column(row, "take_remote")?,
        state: if state == "open" {
            ConflictState::Open
        } else {
            ConflictState::Resolved
        },
        created_at: row.try_get("created_at")?,
        job_id: row.try_get("job_id")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolution: row.try_get("resolution")?,
    })
}

/// Why a resolved conflict cannot be resolved again: when, by whom, how.
fn already_resolved(row: &ConflictRow) -> Error {
    let when = row
        .resolved_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "an unknown time".into());
    let by = row.resolved_by.as_deref().unwrap_or("someone");
    Error::Conflict(match row.resolution.as_deref() {
        Some("superseded") => format!(
            "conflict {} was superseded at {when} by a newer report of {} {} ({by}): \
             resolve the open one (`ferry conflicts list --instance {}`)",
            row.id, row.model, row.local_id, row.instance
        ),
        how => format!(
            "conflict {} was already resolved at {when} by {by} (took {})",
            row.id,
            how.unwrap_or("a side")
        ),
    })
}

impl Store {
    /// Store a conflict, computing its field diff; an open conflict of the
    /// same record is superseded in the same transaction. Returns its id.
    pub async fn report_conflict(&self, new: &NewConflict) -> Result<i64> {
        let diff = field_diff(&new.local, &new.remote);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE conflicts SET state = 'resolved', resolved_at = $1, resolved_by = $2, \
             resolution = 'superseded' \
             WHERE instance = $3 AND model = $4 AND local_id = $5 AND state = 'open'",
        )
        .bind(now)
        .bind(&new.reported_by)
        .bind(&new.instance)
        .bind(&new.model)
        .bind(new.local_id)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO conflicts (instance, model, local_id, external_id, local, remote, diff, \
             take_local, take_remote, state, created_at, job_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11) RETURNING id",
        )
        .bind(&new.instance)
        .bind(&new.model)
        .bind(new.local_id)
        .bind(&new.external_id)
        .bind(Value::Object(new.local.clone()).to_string())
        .bind(Value::Object(new.remote.clone()).to_string())
        .bind(Value::Object(diff).to_string())
        .bind(serde_json::to_string(&new.take_local)?)
        .bind(serde_json::to_string(&new.take_remote)?)
        .bind(now)
        .bind(new.job_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Conflicts matching `filter`, newest first.
    pub async fn conflicts(&self, filter: &ConflictFilter) -> Result<Vec<ConflictRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM conflicts WHERE ($1 IS NULL OR instance = $1) \
             AND ($2 IS NULL OR model = $2) AND ($3 IS NULL OR state = $3) \
             ORDER BY id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(filter.instance.as_deref())
        .bind(filter.model.as_deref())
        .bind(filter.state.map(ConflictState::as_str))
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(conflict).collect()
    }

    /// One conflict.
    pub async fn conflict(&self, id: i64) -> Result<ConflictRow> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM conflicts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::not_found("conflict", id.to_string()))?;
        conflict(&row)
    }

    /// Resolve an open conflict for `by` (an audit actor): in one transaction
    /// mark it resolved, for [`Take::Merge`] write the values into the local
    /// record (no events fire: the job enqueued sends them out), enqueue the
    /// job of the side taken (identity key `conflict:ID`) and write the audit
    /// entry. A resolved conflict is an [`Error::Conflict`] saying how it was.
    pub async fn resolve_conflict(&self, id: i64, take: &Take, by: &str) -> Result<Resolved> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM conflicts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::not_found("conflict", id.to_string()))?;
        let mut row = conflict(&row)?;
        if row.state == ConflictState::Resolved {
            return Err(already_resolved(&row));
        }
        let now = now_ms();
        // Claims it: of two resolutions at once, the second finds it resolved.
        let claimed = sqlx::query(
            "UPDATE conflicts SET state = 'resolved', resolved_at = $1, resolved_by = $2, \
             resolution = $3 WHERE id = $4 AND state = 'open'",
        )
        .bind(now)
        .bind(by)
        .bind(take.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            drop(tx);
            return Err(already_resolved(&self.conflict(id).await?));
        }
        let job_ref = match take {
            Take::Local => &row.take_local,
            Take::Remote => &row.take_remote,
            Take::Merge(values) => {
                merge_into_record(&mut tx, &row.model, row.local_id, values).await?;
                &row.take_local
            }
        };
        let mut job = NewJob::new(&row.instance, &job_ref.name, &job_ref.payload);
        job.identity_key = Some(format!("conflict:{id}"));
        job.description = format!("conflict {id}: take {}", take.as_str());
        job.user = by.to_string();
        job.trigger = super::Trigger::of_actor(by);
        let job_id = self.enqueue_in(&mut tx, &job).await?;
        let entry = super::AuditEntry {
            at: now,
            actor: by.to_string(),
            action: RESOLVE_ACTION.to_string(),
            instance: row.instance.clone(),
            subject: format!("conflict {id}"),
            detail: Some(format!(
                "{} {}: took {}, job {job_id} ({})",
                row.model,
                row.local_id,
                take.as_str(),
                job_ref.name
            )),
            ..Default::default()
        };
        super::audit::insert(&mut tx, &entry).await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        row.state = ConflictState::Resolved;
        row.resolved_at = Some(now);
        row.resolved_by = Some(by.to_string());
        row.resolution = Some(take.as_str().to_string());
        Ok(Resolved {
            conflict: row,
            job: job_id,
        })
    }
}

/// Merge `values` into local record `model` `id` inside `tx`, as the store
/// writes records: no events (the caller sends the result out itself).
async fn merge_into_record(
    tx: &mut super::DbConn,
    model: &str,
    id: i64,
    values: &Map<String, Value>,
) -> Result<()> {
    let data: String = sqlx::query_scalar("SELECT data FROM records WHERE model = $1 AND id = $2")
        .bind(model)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found("record", format!("{model} {id}")))?;
    let mut data: Map<String, Value> = serde_json::from_str(&data)?;
    if values.iter().all(|(k, v)| data.get(k) == Some(v)) {
        return Ok(());
    }
    data.extend(values.clone());
    // A change bumps the revision as every record write does: links compare it
    // with the revision they last synced.
    sqlx::query(
        "UPDATE records SET data = $1, updated_at = $2, revision = revision + 1 \
         WHERE model = $3 AND id = $4",
    )
    .bind(Value::Object(data).to_string())
    .bind(now_ms())
    .bind(model)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
