//! Blobs of type `disk`: files under the directory the operator granted,
//! one per key (`orders/1042/invoice.pdf` is that path below the
//! directory).
//!
//! Keys are checked before they reach the file system
//! ([`ferry_manifest::stores::check_key`]: no `..`, no absolute path, no
//! `\`), and every path is resolved again below the directory, so a
//! symbolic link placed there by someone else does not lead out of it
//! either. A put writes a temporary file beside the target and renames it
//! over: readers see the old or the new blob whole.

use super::blob::{BlobInfo, MAX_LIST, check_size};
use crate::stores::StoreError;
use std::path::{Path, PathBuf};

/// Temporary files of puts in progress start with this; listings skip them.
const TEMP_PREFIX: &str = ".ferry-put-";

/// A directory of blobs.
pub struct DiskBlobs {
    /// The directory (absolute, resolved).
    root: PathBuf,
    /// The largest blob put or got.
    max_bytes: u64,
}

impl DiskBlobs {
    /// The blobs in `dir` (of `instance`), at most `max_bytes` each.
    pub async fn open(dir: &Path, instance: &str, max_bytes: u64) -> Result<DiskBlobs, StoreError> {
        let root = tokio::fs::canonicalize(dir).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "blobs directory {} of `{instance}`: {e}",
                dir.display()
            ))
        })?;
        Ok(DiskBlobs { root, max_bytes })
    }

    /// The bytes at `key` (a checked key).
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(path) = self.existing(key).await? else {
            return Ok(None);
        };
        let meta = tokio::fs::metadata(&path).await.map_err(|e| io(key, e))?;
        if !meta.is_file() {
            return Ok(None);
        }
        check_size(key, meta.len(), self.max_bytes)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key, e)),
        }
    }

    /// Store `data` at `key` (a checked key), replacing what was there.
    pub async fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        check_size(key, data.len() as u64, self.max_bytes)?;
        let target = self.root.join(key);
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| io(key, e))?;
        self.inside(key, &parent).await?;
        if tokio::fs::symlink_metadata(&target)
            .await
            .is_ok_and(|m| m.is_dir() || m.file_type().is_symlink())
        {
            return Err(StoreError::Refused(format!(
                "blob `{key}`: a directory or link of that name is in the way"
            )));
        }
        let temp = parent.join(format!(
            "{TEMP_PREFIX}{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let written = async {
            tokio::fs::write(&temp, data).await?;
            tokio::fs::rename(&temp, &target).await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io(key, e));
        }
        Ok(())
    }

    /// Remove `key` (a checked key); whether there was a blob.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let Some(path) = self.existing(key).await? else {
            return Ok(false);
        };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(key, e)),
        }
    }

    /// Blobs whose keys start with `prefix` (a checked prefix), in key
    /// order, after `after`, at most `limit` (capped at [`MAX_LIST`]).
    pub async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<BlobInfo>, StoreError> {
        let limit = limit.min(MAX_LIST) as usize;
        // Walk only the directory the prefix is certainly in.
        let base = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start = self.root.join(base);
        let root = self.root.clone();
        let prefix = prefix.to_string();
        let after = after.map(str::to_string);
        let found = tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            walk(&root, &start, &mut |key, size| {
                if key.starts_with(&prefix) && after.as_deref().is_none_or(|a| key > a) {
                    found.push(BlobInfo {
                        key: key.to_string(),
                        size,
                    });
                }
            });
            found
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("listing blobs: {e}")))?;
        let mut found = found;
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found.truncate(limit);
        Ok(found)
    }

    /// The path of `key` if something is there, resolved inside the root.
    async fn existing(&self, key: &str) -> Result<Option<PathBuf>, StoreError> {
        let path = self.root.join(key);
        match tokio::fs::canonicalize(&path).await {
            Ok(resolved) if resolved.starts_with(&self.root) => Ok(Some(resolved)),
            Ok(_) => Err(outside(key)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // A path through a file (`a/b` where `a` is a blob) holds nothing.
            Err(e) if e.raw_os_error() == Some(20) => Ok(None),
            Err(e) => Err(io(key, e)),
        }
    }

    /// Check that `dir` (made for `key`) resolves inside the root.
    async fn inside(&self, key: &str, dir: &Path) -> Result<(), StoreError> {
        let resolved = tokio::fs::canonicalize(dir).await.map_err(|e| io(key, e))?;
        if resolved.starts_with(&self.root) {
            Ok(())
        } else {
            Err(outside(key))
        }
    }
}

/// Files below `dir`, as keys relative to `root` with their sizes; links
/// are not followed, temporary files of puts are skipped.
fn walk(root: &Path, dir: &Path, found: &mut dyn FnMut(&str, u64)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            walk(root, &path, found);
        } else if kind.is_file() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                continue;
            }
            let (Ok(relative), Ok(meta)) = (path.strip_prefix(root), entry.metadata()) else {
                continue;
            };
            if let Some(key) = relative.to_str() {
                found(key, meta.len());
            }
        }
    }
}

fn io(key: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("blob `{key}`: {e}"))
}

fn outside(key: &str) -> StoreError {
    StoreError::Refused(format!(
        "blob `{key}` resolves outside the store's directory (a link there leads out)"
    ))
}

#[cfg(test)]
mod tests {
    use super::{BlobInfo, DiskBlobs};

    #[tokio::test]
    async fn blobs_round_trip_list_in_order_and_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = DiskBlobs::open(dir.path(), "acme", 1024).await.unwrap();
        blobs.put("orders/2/a.json", b"two").await.unwrap();
        blobs.put("orders/1/a.json", b"one").await.unwrap();
        blobs.put("other", b"x").await.unwrap();
        assert_eq!(
            blobs.get("orders/1/a.json").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(blobs.get("orders/3").await.unwrap(), None);
        assert_eq!(blobs.get("other/x").await.unwrap(), None);
        let listed = blobs.list("orders/", None, 10).await.unwrap();
        assert_eq!(
            listed,
            vec![
                BlobInfo {
                    key: "orders/1/a.json".into(),
                    size: 3
                },
                BlobInfo {
                    key: "orders/2/a.json".into(),
                    size: 3
                },
            ]
        );
        let after = blobs.list("orders/", Some("orders/1/a.json"), 10).await;
        assert_eq!(after.unwrap().len(), 1);
        assert!(blobs.delete("orders/1/a.json").await.unwrap());
        assert!(!blobs.delete("orders/1/a.json").await.unwrap());
        assert!(blobs.put("big", &[0; 2048]).await.is_err());

        // A link someone placed in the directory does not lead out of it.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        assert!(blobs.get("escape/secret").await.is_err());
        assert!(blobs.put("escape/new", b"x").await.is_err());
        assert!(!outside.path().join("new").exists());
    }
}
