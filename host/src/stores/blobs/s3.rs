//! Blobs of type `s3`: objects of a bucket on an S3-compatible endpoint
//! (AWS, MinIO, Ceph, Garage…), under a key prefix, through `object_store`.
//!
//! Requests are path-style (`ENDPOINT/BUCKET/KEY`), which every
//! S3-compatible server answers; the secret key is a secret of the instance,
//! opened in the run's vault. Clients are shared by the process, one per
//! endpoint, bucket and credentials: building one loads TLS roots.

use super::blob::{BlobInfo, check_size};
use crate::stores::{StoreError, StoreRow};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, PutPayload, RetryConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Region sent when none is set (most S3-compatible servers ignore it).
pub const DEFAULT_REGION: &str = "us-east-1";

/// S3 clients of the process.
#[derive(Default)]
pub struct S3Clients {
    open: Mutex<HashMap<String, Arc<AmazonS3>>>,
}

impl S3Clients {
    /// The bucket `row` says, under its key prefix, with secret key `secret`.
    pub fn open(
        &self,
        row: &StoreRow,
        secret: Option<&str>,
        max_bytes: u64,
    ) -> Result<S3Blobs, StoreError> {
        let settings = &row.settings;
        let endpoint = settings.url.clone().unwrap_or_default();
        let bucket = settings.bucket.clone().unwrap_or_default();
        let region = settings
            .region
            .clone()
            .unwrap_or_else(|| DEFAULT_REGION.into());
        let access = settings.access_key_id.clone();
        let identity = format!(
            "{endpoint}\n{bucket}\n{region}\n{}\n{}",
            access.as_deref().unwrap_or(""),
            secret.unwrap_or("")
        );
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let client = match open.get(&identity) {
            Some(client) => client.clone(),
            None => {
                let mut builder = AmazonS3Builder::new()
                    .with_endpoint(&endpoint)
                    .with_bucket_name(&bucket)
                    .with_region(&region)
                    .with_virtual_hosted_style_request(false)
                    .with_client_options(
                        ClientOptions::new()
                            .with_allow_http(endpoint.starts_with("http://"))
                            .with_connect_timeout(Duration::from_secs(5))
                            .with_timeout(Duration::from_secs(60)),
                    )
                    .with_retry(RetryConfig {
                        max_retries: 2,
                        retry_timeout: Duration::from_secs(20),
                        ..Default::default()
                    });
                match (&access, secret) {
                    (Some(access), Some(secret)) => {
                        builder = builder
                            .with_access_key_id(access)
                            .with_secret_access_key(secret);
                    }
                    // A public bucket, or credentials from the environment
                    // are not wanted: sign nothing.
                    _ => builder = builder.with_skip_signature(true),
                }
                let client = Arc::new(builder.build().map_err(|e| {
                    StoreError::Refused(format!("blobs store (s3) of `{}`: {e}", row.instance))
                })?);
                open.insert(identity, client.clone());
                client
            }
        };
        Ok(S3Blobs {
            client,
            key_prefix: settings.key_prefix.clone().unwrap_or_default(),
            max_bytes,
        })
    }
}

/// A bucket of blobs, under a key prefix.
pub struct S3Blobs {
    client: Arc<AmazonS3>,
    key_prefix: String,
    max_bytes: u64,
}

impl S3Blobs {
    fn path(&self, key: &str) -> Result<Path, StoreError> {
        Path::parse(format!("{}{key}", self.key_prefix))
            .map_err(|e| StoreError::Refused(format!("blob `{key}`: {e}")))
    }

    /// The bytes at `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let got = match self.client.get(&self.path(key)?).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(s3_error(key, e)),
        };
        check_size(key, got.meta.size, self.max_bytes)?;
        let bytes = got.bytes().await.map_err(|e| s3_error(key, e))?;
        Ok(Some(bytes.to_vec()))
    }

    /// Store `data` at `key`.
    pub async fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        check_size(key, data.len() as u64, self.max_bytes)?;
        self.client
            .put(&self.path(key)?, PutPayload::from(data.to_vec()))
            .await
            .map_err(|e| s3_error(key, e))?;
        Ok(())
    }

    /// Remove `key`; whether there was a blob (S3 deletes answer the same
    /// either way, so the object is looked up first).
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.path(key)?;
        match self.client.head(&path).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(s3_error(key, e)),
        }
        self.client
            .delete(&path)
            .await
            .map_err(|e| s3_error(key, e))?;
        Ok(true)
    }

    /// Blobs whose keys start with `prefix`, in key order, after `after`.
    pub async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<BlobInfo>, StoreError> {
        // `object_store` lists whole segments: list the directory the prefix
        // is certainly in, keep what starts with it. S3 answers in key order.
        let full = format!("{}{prefix}", self.key_prefix);
        let dir = match full.rfind('/') {
            Some(i) => Some(self.path_of_dir(&full[..i])?),
            None => None,
        };
        let offset = after.map(|a| self.path(a)).transpose()?;
        let mut stream = match &offset {
            Some(offset) => self.client.list_with_offset(dir.as_ref(), offset),
            None => self.client.list(dir.as_ref()),
        };
        let mut found = Vec::new();
        while let Some(item) = stream.next().await {
            let meta = item.map_err(|e| s3_error(prefix, e))?;
            let location = meta.location.as_ref();
            let Some(key) = location.strip_prefix(self.key_prefix.as_str()) else {
                continue;
            };
            if key.starts_with(prefix) && after.is_none_or(|a| key > a) {
                found.push(BlobInfo {
                    key: key.to_string(),
                    size: meta.size,
                });
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found.truncate(limit as usize);
        Ok(found)
    }

    fn path_of_dir(&self, dir: &str) -> Result<Path, StoreError> {
        Path::parse(dir).map_err(|e| StoreError::Refused(format!("blob prefix `{dir}`: {e}")))
    }
}

/// An S3 error: refused credentials or rights are not worth retrying; the
/// rest (the endpoint away, a 5xx) is.
fn s3_error(key: &str, e: object_store::Error) -> StoreError {
    let message = format!("blob `{key}` (s3): {e}");
    match e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. }
        | object_store::Error::NotSupported { .. }
        | object_store::Error::InvalidPath { .. } => StoreError::Refused(message),
        _ => StoreError::Unavailable(message),
    }
}
