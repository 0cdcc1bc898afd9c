//! Links (bindings) per backend instance, and couples of external ids.

use super::{Store, now_ms};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

/// A stored link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRow {
    /// Backend instance.
    pub instance: String,
    /// Model of the local record.
    pub model: String,
    /// Local record id.
    pub local_id: i64,
    /// External id.
    pub external_id: String,
    /// Last synchronisation, ms.
    pub sync_date: Option<i64>,
    /// Connector data.
    pub data: Value,
    /// Version of the external record at the last sync, as the connector
    /// gave it (`updated_at`, an ETag, a hash); none if never given.
    pub remote_version: Option<String>,
    /// Revision of the local record at the last sync; none for a link made
    /// by a plain bind (which does not record versions).
    pub synced_revision: Option<i64>,
}

/// A stored couple of external ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairRow {
    /// Label of the couple.
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

/// Which links to list, by instance, model and local id. Every field
/// narrows the list; `offset` pages through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkFilter {
    /// Only links of this backend instance.
    pub instance: Option<String>,
    /// Only links of records of this model.
    pub model: Option<String>,
    /// Only the link of this local record id.
    pub local_id: Option<i64>,
    /// Only the link of this external id.
    pub external_id: Option<String>,
    /// Skip this many (the next page).
    pub offset: u32,
    /// At most this many.
    pub limit: u32,
}

impl Default for LinkFilter {
    fn default() -> Self {
        LinkFilter {
            instance: None,
            model: None,
            local_id: None,
            external_id: None,
            offset: 0,
            limit: 50,
        }
    }
}

pub(super) const LINK_COLUMNS: &str =
    "instance, model, local_id, external_id, sync_date, data, remote_version, synced_revision";

/// What a bind records of the versions of both sides.
/// What [`Store::bind_synced`] records as synced: the external record's
/// version and the local record's revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncedAt<'a> {
    /// Version of the external record (`updated_at`, ETag, hash), if known.
    pub remote_version: Option<&'a str>,
    /// Revision of the local record whose values were sent or written.
    pub revision: i64,
}

enum Versions {
    /// A plain bind: the versions stay as they were if the link is the
    /// same (same external id), else none (another remote record has
    /// another version history).
    KeepIfSame,
    /// Both sides are synced: this external version, and this revision of
    /// the local record (the one the caller sent or wrote, which may be older
    /// than the record's revision now: a change made meanwhile stays unsynced).
    Synced(Option<String>, i64),
}

pub(super) fn link(row: &super::DbRow) -> Result<LinkRow> {
    let data: String = row.try_get("data")?;
    Ok(LinkRow {
        instance: row.try_get("instance")?,
        model: row.try_get("model")?,
        local_id: row.try_get("local_id")?,
        external_id: row.try_get("external_id")?,
        sync_date: row.try_get("sync_date")?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        remote_version: row.try_get("remote_version")?,
        synced_revision: row.try_get("synced_revision")?,
    })
}

fn pair(row: &super::DbRow) -> Result<PairRow> {
    let data: String = row.try_get("data")?;
    Ok(PairRow {
        label: row.try_get("label")?,
        left_id: row.try_get("left_id")?,
        right_id: row.try_get("right_id")?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Bind a local record to an external id (dropping any other binding of
    /// either) and stamp the sync date. `data` of `None` keeps the stored data.
    /// The versions of the link are kept if the external id is the same,
    /// else cleared; the record's create intent, if any, ends.
    pub async fn bind(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
        external_id: &str,
        data: Option<Value>,
    ) -> Result<LinkRow> {
        let mut tx = self.begin_write().await?;
        let row = Self::bind_in(&mut tx, instance, model, local_id, external_id, data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Bind like [`Store::bind`], and record both sides as synced: the
    /// external record's `remote_version` and the local record's current
    /// revision (the record must exist). Ends the record's create intent in
    /// the same transaction.
    pub async fn bind_synced(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
        external_id: &str,
        synced: SyncedAt<'_>,
        data: Option<Value>,
    ) -> Result<LinkRow> {
        let mut tx = self.begin_write().await?;
        let row = Self::bind_synced_in(
            &mut tx,
            instance,
            model,
            local_id,
            external_id,
            synced,
            data,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Store::bind_synced`] inside a write transaction of the caller (a
    /// step's chunk commits its links with its records).
    pub(crate) async fn bind_synced_in(
        tx: &mut super::DbConn,
        instance: &str,
        model: &str,
        local_id: i64,
        external_id: &str,
        synced: SyncedAt<'_>,
        data: Option<Value>,
    ) -> Result<LinkRow> {
        let versions = Versions::Synced(synced.remote_version.map(str::to_string), synced.revision);
        Self::bind_with(tx, instance, model, local_id, external_id, data, versions).await
    }

    /// [`Store::bind`] inside a transaction of the caller.
    pub(crate) async fn bind_in(
        tx: &mut super::DbConn,
        instance: &str,
        model: &str,
        local_id: i64,
        external_id: &str,
        data: Option<Value>,
    ) -> Result<LinkRow> {
        let versions = Versions::KeepIfSame;
        Self::bind_with(tx, instance, model, local_id, external_id, data, versions).await
    }

    async fn bind_with(
        tx: &mut super::DbConn,
        instance: &str,
        model: &str,
        local_id: i64,
        external_id: &str,
        data: Option<Value>,
        versions: Versions,
    ) -> Result<LinkRow> {
        let kept: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT data, remote_version, synced_revision FROM links \
             WHERE instance = $1 AND model = $2 AND local_id = $3 AND external_id = $4",
        )
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .bind(external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (kept_data, kept_version, kept_revision) = match kept {
            Some((data, version, revision)) => (Some(data), version, revision),
            None => (None, None, None),
        };
        let (remote_version, synced_revision) = match versions {
            Versions::KeepIfSame => (kept_version, kept_revision),
            Versions::Synced(version, synced) => {
                let revision: Option<i64> =
                    sqlx::query_scalar("SELECT revision FROM records WHERE model = $1 AND id = $2")
                        .bind(model)
                        .bind(local_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let revision = revision.ok_or_else(|| {
                    Error::not_found("record", format!("{model} {local_id} (to bind as synced)"))
                })?;
                // A revision the record never had would mark future changes as synced.
                if !(1..=revision).contains(&synced) {
                    return Err(Error::Invalid(format!(
                        "{model} {local_id} is at revision {revision}: it cannot have been synced at revision {synced}"
                    )));
                }
                (version, Some(synced))
            }
        };
        let data = data
            .map(|d| d.to_string())
            .or(kept_data)
            .unwrap_or_else(|| "{}".into());
        sqlx::query("DELETE FROM links WHERE instance = $1 AND model = $2 AND (local_id = $3 OR external_id = $4)")
            .bind(instance)
            .bind(model)
            .bind(local_id)
            .bind(external_id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&format!(
            "INSERT INTO links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {LINK_COLUMNS}"
        ))
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .bind(external_id)
        .bind(now_ms())
        .bind(data)
        .bind(remote_version)
        .bind(synced_revision)
        .fetch_one(&mut *tx)
        .await?;
        // The twin exists and is bound: a later try has nothing to find again.
        Self::end_intent_in(tx, instance, model, local_id).await?;
        link(&row)
    }

    /// The link of a local record.
    pub async fn link_by_local(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
    ) -> Result<Option<LinkRow>> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE instance = $1 AND model = $2 AND local_id = $3"
        ))
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(link).transpose()
    }

    /// The link of an external record.
    pub async fn link_by_external(
        &self,
        instance: &str,
        model: &str,
        external_id: &str,
    ) -> Result<Option<LinkRow>> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE instance = $1 AND model = $2 AND external_id = $3"
        ))
        .bind(instance)
        .bind(model)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(link).transpose()
    }

    /// Links of an instance (optionally of one model, synced before a time).
    pub async fn search_links(
        &self,
        instance: Option<&str>,
        model: Option<&str>,
        synced_before: Option<i64>,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<LinkRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE ($1 IS NULL OR instance = $1) AND ($2 IS NULL OR model = $2) \
             AND ($3 IS NULL OR sync_date < $3) ORDER BY instance, model, local_id LIMIT $4 OFFSET $5"
        ))
        .bind(instance)
        .bind(model)
        .bind(synced_before)
        .bind(limit.map(i64::from).unwrap_or(i64::MAX))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(link).collect()
    }

    /// Links matching `filter`, by instance, model and local id.
    pub async fn links(&self, filter: &LinkFilter) -> Result<Vec<LinkRow>> {
        let mut when = super::jobs::Conditions::default();
        when.text_equals("instance", filter.instance.as_deref());
        when.text_equals("model", filter.model.as_deref());
        when.number("local_id", "=", filter.local_id);
        when.text_equals("external_id", filter.external_id.as_deref());
        let limit = when.next_param();
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links{} ORDER BY instance, model, local_id LIMIT {limit} \
             OFFSET {}",
            when.clause(),
            format_args!("${}", when.count() + 2)
        );
        let rows = when
            .bind(sqlx::query(&sql))
            .bind(i64::from(filter.limit))
            .bind(i64::from(filter.offset))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(link).collect()
    }

    /// Remove the link of a local record.
    pub async fn unbind(&self, instance: &str, model: &str, local_id: i64) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM links WHERE instance = $1 AND model = $2 AND local_id = $3")
                .bind(instance)
                .bind(model)
                .bind(local_id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Couple two external ids (dropping any other couple of either).
    pub async fn bind_pair(
        &self,
        instance: &str,
        label: &str,
        left_id: &str,
        right_id: &str,
        data: Option<Value>,
    ) -> Result<PairRow> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM link_pairs WHERE instance = $1 AND label = $2 AND (left_id = $3 OR right_id = $4)")
            .bind(instance)
            .bind(label)
            .bind(left_id)
            .bind(right_id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "INSERT INTO link_pairs (instance, label, left_id, right_id, data, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING label, left_id, right_id, data, updated_at",
        )
        .bind(instance)
        .bind(label)
        .bind(left_id)
        .bind(right_id)
        .bind(
            data.unwrap_or_else(|| Value::Object(Default::default()))
                .to_string(),
        )
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        pair(&row)
    }

    /// The couple with this id on one side (`left` or right).
    pub async fn find_pair(
        &self,
        instance: &str,
        label: &str,
        id: &str,
        left: bool,
    ) -> Result<Option<PairRow>> {
        let side = if left { "left_id" } else { "right_id" };
        let row = sqlx::query(&format!(
            "SELECT label, left_id, right_id, data, updated_at FROM link_pairs \
             WHERE instance = $1 AND label = $2 AND {side} = $3"
        ))
        .bind(instance)
        .bind(label)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(pair).transpose()
    }

    /// Remove the couple whose left id is given.
    pub async fn unbind_pair(&self, instance: &str, label: &str, left_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM link_pairs WHERE instance = $1 AND label = $2 AND left_id = $3",
        )
        .bind(instance)
        .bind(label)
        .bind(left_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
