//! Rows of sealed secrets: the store only ever sees ciphertext; sealing and
//! opening are done by [`crate::secrets`]. A change is written in one
//! transaction with its audit entry, so that neither is kept without the other.

use super::{AuditEntry, Store, audit, now_ms};
use crate::error::Result;
use sqlx::Row;

impl Store {
    /// Store (or replace) the sealed value of secret `name` of `instance`,
    /// with `entry` in the audit log.
    pub async fn put_secret(
        &self,
        instance: &str,
        name: &str,
        sealed: &str,
        entry: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO secrets (instance, name, sealed, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance, name) DO UPDATE SET sealed = $3, updated_at = $4",
        )
        .bind(instance)
        .bind(name)
        .bind(sealed)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        audit::insert(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Names of the secrets of `instance` (of every instance when none), as
    /// `(instance, name)` pairs, sorted.
    pub async fn secret_names(&self, instance: Option<&str>) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT instance, name FROM secrets WHERE ($1 IS NULL OR instance = $1) \
             ORDER BY instance, name",
        )
        .bind(instance)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("instance")?, r.try_get("name")?)))
            .collect()
    }

    /// Sealed values of every secret of `instance`, as `(name, sealed)` pairs.
    pub async fn sealed_secrets(&self, instance: &str) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT name, sealed FROM secrets WHERE instance = $1 ORDER BY name")
                .bind(instance)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("sealed")?)))
            .collect()
    }

    /// Forget secret `name` of `instance`, with `entry` in the audit log;
    /// false (and nothing audited) when there was none.
    pub async fn delete_secret(
        &self,
        instance: &str,
        name: &str,
        entry: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM secrets WHERE instance = $1 AND name = $2")
            .bind(instance)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        audit::insert(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }
}
