//! What every type of blobs store shares: what a listing answers, and the
//! size check.

use crate::stores::StoreError;

/// Most blobs one `list` answers.
pub const MAX_LIST: u32 = 1000;

/// A stored blob, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Refuse a blob of `size` bytes over `max_bytes`.
pub(super) fn check_size(key: &str, size: u64, max_bytes: u64) -> Result<(), StoreError> {
    if size > max_bytes {
        return Err(StoreError::Refused(format!(
            "blob `{key}` of {size} bytes is more than the store's max_bytes ({max_bytes})"
        )));
    }
    Ok(())
}
