//! Where a link stands for two-way sync: its sync state (what it knew at the
//! last sync against the local record now), and the create intents that make
//! an exporter's create safe to try again.
//!
//! **Why an intent.** The queue runs a job at least once: an exporter that
//! creates the remote record and then dies before it binds would create it
//! again on the next try. The intent is committed before the create is sent
//! and carries a key that is the same on every try (sent as
//! `Idempotency-Key`, or stored in the remote's external reference field), so
//! the next try finds the remote record instead of creating a twin. Binding
//! the record ends it, in the bind's transaction.

use super::links::{LINK_COLUMNS, LinkRow, link};
use super::{Store, now_ms};
use crate::error::{Error, Result};
use serde::Serialize;
use sqlx::Row;

/// Longest idempotency key made (a header value many remotes bound).
pub const MAX_INTENT_KEY: usize = 128;

/// A link and where its local record stands now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStateRow {
    /// The link, with the versions of its last sync.
    pub link: LinkRow,
    /// Revision of the local record now.
    pub revision: i64,
    /// When the local record last changed, ms.
    pub local_updated_at: i64,
}

/// An unfinished intent to create the external twin of a local record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntentRow {
    /// The same on every try until the record is bound.
    pub key: String,
    /// An earlier try made it and did not bind: the remote may hold the record.
    pub resumed: bool,
    /// When it was first made, ms.
    pub created_at: i64,
    /// The local record's revision when the intent was asked for (by
    /// `begin_create`; 0 from `create_intent`): an exporter reads the
    /// values after it, so binding as synced at this revision never claims a
    /// change it did not send.
    pub revision: i64,
}

/// A fresh intent key: `ferry-{instance}-{model}-{local_id}-{random}`. The
/// random part makes it unique even for a record id seen before (a database
/// restored from a backup, another installation writing to the same
/// remote); names are cut so that the key stays within
/// [`MAX_INTENT_KEY`], and anything but letters, digits, `.`, `-`, `_` is
/// replaced, so that it is a valid HTTP header value.
fn intent_key(instance: &str, model: &str, local_id: i64) -> String {
    let part = |s: &str| -> String {
        s.chars()
            .take(40)
            .map(|c| match c {
                c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
                _ => '_',
            })
            .collect()
    };
    format!(
        "ferry-{}-{}-{local_id}-{:016x}",
        part(instance),
        part(model),
        fastrand::u64(..)
    )
}

impl Store {
    /// The sync state of a local record's link; `None` if it has no link.
    /// A link whose local record does not exist (bound to an id that has no
    /// record) is an error, not `None`: an exporter told "no link" would
    /// create the remote record again.
    pub async fn sync_state(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
    ) -> Result<Option<SyncStateRow>> {
        let columns = LINK_COLUMNS
            .split(", ")
            .map(|c| format!("l.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "SELECT {columns}, r.revision AS record_revision, r.updated_at AS record_updated_at \
             FROM links l LEFT JOIN records r ON r.model = l.model AND r.id = l.local_id \
             WHERE l.instance = $1 AND l.model = $2 AND l.local_id = $3"
        ))
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let link = link(&row)?;
        let revision: Option<i64> = row.try_get("record_revision")?;
        let updated_at: Option<i64> = row.try_get("record_updated_at")?;
        match (revision, updated_at) {
            (Some(revision), Some(local_updated_at)) => Ok(Some(SyncStateRow {
                link,
                revision,
                local_updated_at,
            })),
            _ => Err(Error::not_found(
                "record",
                format!(
                    "{model} {local_id} (linked to external id {:?} of instance {instance}; \
                     unbind the link or bind another record)",
                    link.external_id
                ),
            )),
        }
    }

    /// Commit at once an intent to create the external twin of record
    /// `local_id`, or return the unfinished one an earlier try left
    /// (`resumed`). Ended by any bind of the record.
    pub async fn begin_create(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
    ) -> Result<IntentRow> {
        let key = intent_key(instance, model, local_id);
        let mut tx = self.begin_write().await?;
        // Two tries racing (a job whose lease expired while it still ran)
        // agree on the first intent: the second insert does nothing.
        sqlx::query(
            "INSERT INTO create_intents (instance, model, local_id, key, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance, model, local_id) DO NOTHING",
        )
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .bind(&key)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let (stored, created_at): (String, i64) = sqlx::query_as(
            "SELECT key, created_at FROM create_intents \
             WHERE instance = $1 AND model = $2 AND local_id = $3",
        )
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .fetch_one(&mut *tx)
        .await?;
        let revision: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM records WHERE model = $1 AND id = $2")
                .bind(model)
                .bind(local_id)
                .fetch_optional(&mut *tx)
                .await?;
        let revision = revision
            .ok_or_else(|| Error::not_found("record", format!("{model} {local_id} (to export)")))?;
        tx.commit().await?;
        Ok(IntentRow {
            resumed: stored != key,
            key: stored,
            created_at,
            revision,
        })
    }

    /// The unfinished create intent of a record, if any.
    pub async fn create_intent(
        &self,
        instance: &str,
        model: &str,
        local_id: i64,
    ) -> Result<Option<IntentRow>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT key, created_at FROM create_intents \
             WHERE instance = $1 AND model = $2 AND local_id = $3",
        )
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(key, created_at)| IntentRow {
            key,
            resumed: true,
            created_at,
            revision: 0,
        }))
    }

    /// End the create intent of a record, in the caller's transaction.
    pub(super) async fn end_intent_in(
        tx: &mut super::DbConn,
        instance: &str,
        model: &str,
        local_id: i64,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM create_intents WHERE instance = $1 AND model = $2 AND local_id = $3",
        )
        .bind(instance)
        .bind(model)
        .bind(local_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_keys_are_header_values_within_the_bound() {
        let long = "a".repeat(64);
        let key = intent_key(&long, &long, i64::MAX);
        assert!(key.len() <= MAX_INTENT_KEY, "{} chars: {key}", key.len());
        assert!(key.starts_with("ferry-aaaa"));
        let odd = intent_key("shop 1", "prod/uct", 7);
        assert!(
            odd.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')),
            "{odd}"
        );
        assert_ne!(intent_key("a", "b", 1), intent_key("a", "b", 1));
    }
}
