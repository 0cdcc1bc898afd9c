//! Couples of external ids (external↔external links) as operators see them:
//! across backend instances and labels, found by either id, and removed by
//! hand (audited). The connector's own calls are in `links`.

use super::{AuditEntry, Store, now_ms};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

/// The audit action of a couple removed by an operator.
pub const UNPAIR_ACTION: &str = "pair.remove";

/// A couple of external ids, with its backend instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstancePair {
    /// Backend instance.
    pub instance: String,
    /// Label of the couple (what the two ids are, e.g. `crm-customer`).
    pub label: String,
    /// Id in the first system.
    pub left_id: String,
    /// Id in the second system.
    pub right_id: String,
    /// Connector data.
    pub data: Value,
    /// Last change, ms.
    pub updated_at: i64,
}

/// Which couples to list. The default: the first 50.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PairFilter {
    /// Only this backend instance.
    pub instance: Option<String>,
    /// Only this label.
    pub label: Option<String>,
    /// Only the couples with this id on either side.
    pub id: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
}

impl Default for PairFilter {
    fn default() -> Self {
        PairFilter {
            instance: None,
            label: None,
            id: None,
            limit: 50,
            offset: 0,
        }
    }
}

const COLUMNS: &str = "instance, label, left_id, right_id, data, updated_at";

fn pair(row: &super::DbRow) -> Result<InstancePair> {
    let data: String = row.try_get("data")?;
    Ok(InstancePair {
        instance: row.try_get("instance")?,
        label: row.try_get("label")?,
        left_id: row.try_get("left_id")?,
        right_id: row.try_get("right_id")?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Couples matching `filter`, by instance, label and left id.
    pub async fn search_pairs(&self, filter: &PairFilter) -> Result<Vec<InstancePair>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM link_pairs WHERE ($1 IS NULL OR instance = $1) \
             AND ($2 IS NULL OR label = $2) AND ($3 IS NULL OR left_id = $3 OR right_id = $3) \
             ORDER BY instance, label, left_id LIMIT $4 OFFSET $5"
        ))
        .bind(filter.instance.as_deref())
        .bind(filter.label.as_deref())
        .bind(filter.id.as_deref())
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(pair).collect()
    }

    /// Remove the couple of `instance` and `label` whose left id is `left_id`,
    /// for `by` (an audit actor), audited in the same transaction; the couple
    /// removed, or `None` when there was none.
    pub async fn remove_pair(
        &self,
        instance: &str,
        label: &str,
        left_id: &str,
        by: &str,
    ) -> Result<Option<InstancePair>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "DELETE FROM link_pairs WHERE instance = $1 AND label = $2 AND left_id = $3 \
             RETURNING {COLUMNS}"
        ))
        .bind(instance)
        .bind(label)
        .bind(left_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let removed = pair(&row)?;
        let entry = AuditEntry {
            at: now_ms(),
            actor: by.to_string(),
            action: UNPAIR_ACTION.to_string(),
            instance: instance.to_string(),
            subject: format!("{label} {left_id}"),
            detail: Some(format!("was paired with {}", removed.right_id)),
            ..Default::default()
        };
        super::audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(Some(removed))
    }
}
