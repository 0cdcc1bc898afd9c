//! Entries of the `meta` store of type `local`: an instance's key-value
//! pairs in the local database (`meta_entries`), for the `meta` capability.

use super::Store;
use super::sql::{Dialect, now_ms};
use crate::error::Result;

impl Store {
    /// The value at `key` of `instance`'s local meta store.
    pub async fn meta_get(&self, instance: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM meta_entries WHERE instance = $1 AND key = $2")
                .bind(instance)
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Store `value` at `key` of `instance`'s local meta store.
    pub async fn meta_set(&self, instance: &str, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta_entries (instance, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance, key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at",
        )
        .bind(instance)
        .bind(key)
        .bind(value.to_vec())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Remove `key` of `instance`'s local meta store; whether it was there.
    pub async fn meta_delete(&self, instance: &str, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM meta_entries WHERE instance = $1 AND key = $2")
            .bind(instance)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Keys of `instance`'s local meta store that start with `prefix`, in
    /// byte order, after `after`, at most `limit`.
    pub async fn meta_keys(
        &self,
        instance: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        // Byte order on both databases (PostgreSQL's default collation may
        // follow a locale), so that `after` pages the way the order reads.
        let bytes = match self.dialect() {
            Dialect::Postgres => " COLLATE \"C\"",
            Dialect::Sqlite => "",
        };
        let keys: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT key FROM meta_entries WHERE instance = $1 \
             AND substr(key, 1, length($2)) = $2 AND key{bytes} > $3 \
             ORDER BY key{bytes} LIMIT $4"
        ))
        .bind(instance)
        .bind(prefix)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(keys)
    }
}
