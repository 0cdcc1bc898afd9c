//! The instance's `blobs` store: object data (sqAPI's data store: the body a
//! message points to), in a directory the operator grants (`ferry store set
//! INSTANCE blobs --type disk --dir DIR`). None is set by default, and every
//! call says so until an operator grants one.
//!
//! Keys are relative paths (`orders/1042/invoice.pdf`): no `..`, `.` or
//! empty segment, no leading `/`, no `\`. A module reaches only the keys
//! under the prefixes its manifest grants, and writes only with
//! `write = true`:
//!
//! ```toml
//! [capabilities.blobs]
//! prefixes = ["invoices/"]
//! write = true
//! ```

use crate::Result;
use crate::bindings::ferry::connector0_1_3::blobs as wit_blobs;

/// A stored blob, as [`list`] answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The bytes at `key`; none when there is no such blob.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    Ok(wit_blobs::get(key)?)
}

/// Store `data` at `key`, replacing what was there (readers see the old or
/// the new blob whole).
pub fn put(key: &str, data: &[u8]) -> Result<()> {
    Ok(wit_blobs::put(key, data)?)
}

/// Remove `key`; whether there was a blob.
pub fn delete(key: &str) -> Result<bool> {
    Ok(wit_blobs::delete(key)?)
}

/// Blobs whose keys start with `prefix`, in key order, after `after` (none:
/// from the first), at most `limit` (at most 1000).
pub fn list(prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<BlobInfo>> {
    Ok(wit_blobs::list_blobs(prefix, after, limit)?
        .into_iter()
        .map(|b| BlobInfo {
            key: b.key,
            size: b.size,
        })
        .collect())
}
