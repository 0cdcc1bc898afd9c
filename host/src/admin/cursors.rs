//! The operations of [`super::Admin`] on cursors, on the store of this
//! installation. Operators' view of cursors (how far a job has read a stream, per backend
//! instance): list them, set one (to replay a stream from a point, or skip
//! ahead), clear one (the next run reads from the start). Changes are
//! written to the audit log with who made them.

use super::types::Done;
use crate::Ferry;
use crate::audit;
use crate::error::{Error, Result};
use crate::store::CursorRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Audit action: an operator set a cursor (its value in the detail).
pub const CURSOR_SET: &str = "cursor.set";
/// Audit action: an operator cleared a cursor.
pub const CURSOR_CLEAR: &str = "cursor.clear";

/// A cursor as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorInfo {
    /// Backend instance.
    pub instance: String,
    /// Stream name.
    pub name: String,
    /// Committed value.
    pub value: Value,
    /// When it was last set, ms.
    pub updated_at: i64,
    /// The job whose completion set it; none when set outside a job.
    pub job_id: Option<i64>,
}

impl From<CursorRow> for CursorInfo {
    fn from(row: CursorRow) -> Self {
        CursorInfo {
            instance: row.instance,
            name: row.name,
            value: row.value,
            updated_at: row.updated_at,
            job_id: row.job_id,
        }
    }
}

/// The cursors of `instance`, by name.
pub(super) async fn list(ferry: &Ferry, instance: &str) -> Result<Vec<CursorInfo>> {
    ferry.store().instance(instance).await?;
    let rows = ferry.store().cursors(instance).await?;
    Ok(rows.into_iter().map(CursorInfo::from).collect())
}

/// Remove cursor `name` of `instance`, for `actor`; not found if none.
pub(super) async fn clear(ferry: &Ferry, instance: &str, name: &str, actor: &str) -> Result<Done> {
    ferry.store().instance(instance).await?;
    if !ferry.store().clear_cursor(instance, name).await? {
        return Err(Error::not_found(
            "cursor",
            format!("{name} of backend instance {instance}"),
        ));
    }
    let entry = audit::entry(actor, CURSOR_CLEAR, instance, name);
    audit::record(ferry.store(), &entry).await?;
    Ok(Done { done: true })
}

/// Set cursor `name` of `instance` to `value` at once, for `actor`.
pub(super) async fn set(
    ferry: &Ferry,
    instance: &str,
    name: &str,
    value: &Value,
    actor: &str,
) -> Result<CursorInfo> {
    ferry.store().instance(instance).await?;
    let text = value.to_string();
    let max = ferry.engine().config().limits.max_payload_bytes;
    if text.len() as u64 > max.as_u64() {
        return Err(Error::Invalid(format!(
            "cursor {name} of {instance}: the value is {} bytes, over max_payload_bytes ({max})",
            text.len()
        )));
    }
    let row = ferry
        .store()
        .set_cursor(instance, name, value, None)
        .await?;
    let mut entry = audit::entry(actor, CURSOR_SET, instance, name);
    entry.detail = Some(text);
    audit::record(ferry.store(), &entry).await?;
    Ok(row.into())
}
