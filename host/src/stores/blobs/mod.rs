//! The `blobs` store of an instance, opened: a directory ([`disk`]) or a
//! bucket of an S3-compatible endpoint ([`s3`]).
//!
//! Keys reach a store already checked
//! ([`ferry_manifest::stores::check_key`]: relative paths, no `..`); each
//! type still keeps them inside itself (the directory resolves every path
//! again, the bucket sits under its key prefix).

mod blob;
pub mod disk;
pub mod s3;

pub use blob::{BlobInfo, MAX_LIST};

use crate::stores::{DEFAULT_MAX_BLOB_BYTES, StoreError, StoreRow};

/// An instance's `blobs` store, ready for operations.
pub enum BlobStore {
    /// A directory.
    Disk(disk::DiskBlobs),
    /// A bucket.
    S3(s3::S3Blobs),
}

impl BlobStore {
    /// Open the store `row` says, with the secret key `secret` (for S3);
    /// S3 clients come from `clients`, shared by the process.
    pub async fn open(
        row: &StoreRow,
        secret: Option<&str>,
        clients: &s3::S3Clients,
    ) -> Result<BlobStore, StoreError> {
        let max_bytes = row.settings.max_bytes.unwrap_or(DEFAULT_MAX_BLOB_BYTES);
        match row.kind.as_str() {
            "disk" => {
                let dir = row.settings.dir.clone().unwrap_or_default();
                Ok(BlobStore::Disk(
                    disk::DiskBlobs::open(&dir, &row.instance, max_bytes).await?,
                ))
            }
            "s3" => Ok(BlobStore::S3(clients.open(row, secret, max_bytes)?)),
            other => Err(StoreError::Refused(format!(
                "the blobs store of `{}` has type `{other}`, which this Ferry does not know",
                row.instance
            ))),
        }
    }

    /// The bytes at `key`; none when there is no such blob.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            BlobStore::Disk(d) => d.get(key).await,
            BlobStore::S3(s) => s.get(key).await,
        }
    }

    /// Store `data` at `key`, replacing what was there.
    pub async fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        match self {
            BlobStore::Disk(d) => d.put(key, data).await,
            BlobStore::S3(s) => s.put(key, data).await,
        }
    }

    /// Remove `key`; whether there was a blob.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        match self {
            BlobStore::Disk(d) => d.delete(key).await,
            BlobStore::S3(s) => s.delete(key).await,
        }
    }

    /// Blobs whose keys start with `prefix`, in key order, after `after`, at
    /// most `limit` (capped at [`MAX_LIST`]).
    pub async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<BlobInfo>, StoreError> {
        let limit = limit.min(MAX_LIST);
        match self {
            BlobStore::Disk(d) => d.list(prefix, after, limit).await,
            BlobStore::S3(s) => s.list(prefix, after, limit).await,
        }
    }
}
