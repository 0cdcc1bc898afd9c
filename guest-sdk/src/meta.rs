//! The instance's `meta` store: key-value pairs (sqAPI's metadata store),
//! kept in Ferry's database or in Redis, as the operator set it (`ferry store
//! set INSTANCE meta --type local|redis`).
//!
//! A module reaches only the keys under the prefixes its manifest grants,
//! and writes only with `write = true`:
//!
//! ```toml
//! [capabilities.meta]
//! prefixes = ["orders/"]
//! write = true
//! ```
//!
//! Writes take effect at once, not with the job's commit: a job tried again
//! sees what its earlier try wrote, so write idempotently (set a value, do
//! not append to one).

use crate::bindings::ferry::connector0_1_3::meta as wit_meta;
use crate::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The bytes at `key`; none when there are none.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    Ok(wit_meta::get(key)?)
}

/// Store `value` at `key`, replacing what was there.
pub fn set(key: &str, value: &[u8]) -> Result<()> {
    Ok(wit_meta::set(key, value)?)
}

/// Remove `key`; whether there was a value.
pub fn delete(key: &str) -> Result<bool> {
    Ok(wit_meta::delete(key)?)
}

/// Keys starting with `prefix`, in byte order, after `after` (none: from the
/// first), at most `limit` (at most 1000): page with the last key answered.
pub fn list_keys(prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>> {
    Ok(wit_meta::list_keys(prefix, after, limit)?)
}

/// The JSON value at `key`, read as `T`; a value that does not fit is a
/// final error naming the key.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    let Some(bytes) = get(key)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::fatal(format!(
            "meta key `{key}` does not hold what this connector expects: {e}"
        ))
    })
}

/// Store `value` as JSON at `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    set(key, &serde_json::to_vec(value)?)
}
