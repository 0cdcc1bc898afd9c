//! Skipping a build whose inputs have not changed, as cargo does for Rust:
//! componentize-py and componentize-js take 10–20 s, and `ferry test`,
//! `ferry install` and a test suite build the same folder again and again.
//!
//! The fingerprint hashes what decides the component: the sources as
//! [`stage::copy_sources`] copies them (paths and contents), the entry, the
//! tool's version and this Ferry's version (which carries the SDK and the
//! contract's WIT). It is written next to the component after a build that
//! succeeded; the next build with the same fingerprint and the component
//! still there does nothing.

use super::stage;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The fingerprint of building `dir` (entry `entry`) with `tool`.
pub fn of(dir: &Path, entry: &Path, tool: &str) -> Result<String> {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update(stage::digest().as_bytes());
    hash.update(tool.as_bytes());
    hash.update(
        entry
            .strip_prefix(dir)
            .unwrap_or(entry)
            .to_string_lossy()
            .as_bytes(),
    );
    let mut files = Vec::new();
    stage::source_files(dir, Path::new(""), &mut files)?;
    files.sort();
    for relative in files {
        let path = dir.join(&relative);
        let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(&text);
    }
    Ok(hex::encode(hash.finalize()))
}

/// Where the fingerprint of the component `out` is kept.
fn path_of(out: &Path) -> PathBuf {
    out.with_extension("fingerprint")
}

/// Whether `out` was built from inputs of this `fingerprint`.
pub fn fresh(out: &Path, fingerprint: &str) -> bool {
    out.is_file() && std::fs::read_to_string(path_of(out)).is_ok_and(|kept| kept == fingerprint)
}

/// Remember that `out` was built from inputs of this `fingerprint`.
pub fn keep(out: &Path, fingerprint: &str) -> Result<()> {
    let path = path_of(out);
    std::fs::write(&path, fingerprint).map_err(|e| Error::io(&path, e))
}

/// Forget the fingerprint of `out` (before a build: one that fails must
/// not leave an old component looking fresh).
pub fn forget(out: &Path) {
    let _ = std::fs::remove_file(path_of(out));
}
