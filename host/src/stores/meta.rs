//! The `meta` store of an instance, opened: the local database's
//! `meta_entries`, or keys of a Redis server under a prefix.

use super::{StoreError, StoreRow};
use crate::store::Store;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Most keys one `list-keys` answers.
pub const MAX_LIST: u32 = 1000;
/// How long connecting to a Redis server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one Redis command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Redis connections of the process, one per server URL: a connection
/// manager multiplexes the commands of every run and reconnects by itself.
#[derive(Default)]
pub struct RedisConnections {
    open: Mutex<HashMap<String, ConnectionManager>>,
}

impl RedisConnections {
    async fn get(&self, url: &str) -> Result<ConnectionManager, StoreError> {
        if let Some(conn) = self.lock().get(url) {
            return Ok(conn.clone());
        }
        let unavailable = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!(
                "meta store at {}: {e}",
                crate::store::redact_url(url)
            ))
        };
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            CONNECT_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| unavailable(&"no answer within 5 s"))?
        .map_err(|e| unavailable(&e))?;
        self.lock().insert(url.to_string(), conn.clone());
        Ok(conn)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConnectionManager>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An instance's `meta` store, ready for operations.
pub enum MetaStore {
    /// The Ferry database.
    Local {
        /// The database.
        store: Store,
        /// Whose entries.
        instance: String,
    },
    /// A Redis server.
    Redis {
        /// The connection.
        conn: ConnectionManager,
        /// What the keys are prefixed with on the server.
        key_prefix: String,
    },
}

impl MetaStore {
    /// Open the store `row` says, with the password `password` (for Redis).
    pub async fn open(
        store: &Store,
        row: &StoreRow,
        password: Option<&str>,
        connections: &RedisConnections,
    ) -> Result<MetaStore, StoreError> {
        match row.kind.as_str() {
            "local" => Ok(MetaStore::Local {
                store: store.clone(),
                instance: row.instance.clone(),
            }),
            "redis" => {
                let url = row.settings.url.as_deref().unwrap_or_default();
                let url = crate::service_url::with_password(url, password);
                Ok(MetaStore::Redis {
                    conn: connections.get(&url).await?,
                    key_prefix: row
                        .settings
                        .key_prefix
                        .clone()
                        .unwrap_or_else(|| format!("ferry:meta:{}:", row.instance)),
                })
            }
            other => Err(StoreError::Refused(format!(
                "the meta store of `{}` has type `{other}`, which this Ferry does not know",
                row.instance
            ))),
        }
    }

    /// The value at `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            MetaStore::Local { store, instance } => Ok(store.meta_get(instance, key).await?),
            MetaStore::Redis { conn, key_prefix } => {
                let value: Option<Vec<u8>> = conn
                    .clone()
                    .get(format!("{key_prefix}{key}"))
                    .await
                    .map_err(redis_error)?;
                Ok(value)
            }
        }
    }

    /// Store `value` at `key`.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        match self {
            MetaStore::Local { store, instance } => {
                Ok(store.meta_set(instance, key, value).await?)
            }
            MetaStore::Redis { conn, key_prefix } => conn
                .clone()
                .set(format!("{key_prefix}{key}"), value)
                .await
                .map_err(redis_error),
        }
    }

    /// Remove `key`; whether it was there.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        match self {
            MetaStore::Local { store, instance } => Ok(store.meta_delete(instance, key).await?),
            MetaStore::Redis { conn, key_prefix } => {
                let removed: u64 = conn
                    .clone()
                    .del(format!("{key_prefix}{key}"))
                    .await
                    .map_err(redis_error)?;
                Ok(removed > 0)
            }
        }
    }

    /// Keys starting with `prefix`, in byte order, after `after`, at most
    /// `limit` (capped at [`MAX_LIST`]).
    pub async fn list_keys(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let limit = limit.min(MAX_LIST);
        match self {
            MetaStore::Local { store, instance } => {
                Ok(store.meta_keys(instance, prefix, after, limit).await?)
            }
            MetaStore::Redis { conn, key_prefix } => {
                // SCAN walks the whole keyspace that matches, in no order:
                // sort here. Fine for the thousands of keys a connector keeps
                // per prefix; a bigger keyspace belongs in `blobs` or a table.
                let pattern = format!("{}*", glob_escape(&format!("{key_prefix}{prefix}")));
                let mut conn = conn.clone();
                let mut iter: redis::AsyncIter<'_, Vec<u8>> =
                    conn.scan_match(pattern).await.map_err(redis_error)?;
                let mut keys = Vec::new();
                while let Some(item) = futures_util::StreamExt::next(&mut iter).await {
                    let raw = item.map_err(redis_error)?;
                    let Ok(text) = String::from_utf8(raw) else {
                        continue;
                    };
                    if let Some(key) = text.strip_prefix(key_prefix.as_str())
                        && after.is_none_or(|a| key > a)
                    {
                        keys.push(key.to_string());
                    }
                }
                keys.sort();
                keys.dedup();
                keys.truncate(limit as usize);
                Ok(keys)
            }
        }
    }
}

/// A Redis error: connection trouble is worth retrying, a refused command
/// (a key holding a list, say) is not.
fn redis_error(e: redis::RedisError) -> StoreError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        StoreError::Unavailable(format!("meta store (redis): {e}"))
    } else {
        StoreError::Refused(format!("meta store (redis): {e}"))
    }
}

/// `text` with Redis glob characters escaped, for a `MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn glob_characters_of_keys_match_themselves() {
        assert_eq!(
            glob_escape("ferry:meta:a:orders/*"),
            "ferry:meta:a:orders/\\*"
        );
        assert_eq!(glob_escape("a[1]?"), "a\\[1\\]\\?");
    }
}
