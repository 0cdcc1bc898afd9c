//! What the `ferry` binary carries to build non-Rust connectors: the
//! contract's WIT and the Python and JavaScript SDKs, written into a scratch
//! folder for each build. So `ferry build` needs no checkout of this
//! repository, and a connector is always built against the contract and SDK
//! of the host that builds it.

use crate::error::{Error, Result};
use std::path::Path;

/// A file of a staged tree: its path in the tree and its text.
pub(super) struct File {
    pub(super) path: &'static str,
    pub(super) text: &'static str,
}

macro_rules! files {
    ($($path:literal => $source:literal,)*) => {
        &[$(File { path: $path, text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $source)) },)*]
    };
}

/// The contract, as a WIT `deps/` folder of the world that includes it.
pub(super) const CONTRACT: &[File] = files! {
    "deps/connector-0.1/types.wit" => "wit/since_v0.1.0/types.wit",
    "deps/connector-0.2/connector.wit" => "wit/since_v0.2.0/connector.wit",
};

/// The Python world (the contract and `wasi:http`), its WASI deps.
pub(super) const PYTHON_WIT: &[File] = files! {
    "world.wit" => "guest-sdk/python/wit/world.wit",
    "deps/wasi-cli.wit" => "guest-sdk/python/wit/deps/wasi-cli.wit",
    "deps/wasi-clocks.wit" => "guest-sdk/python/wit/deps/wasi-clocks.wit",
    "deps/wasi-filesystem.wit" => "guest-sdk/python/wit/deps/wasi-filesystem.wit",
    "deps/wasi-http.wit" => "guest-sdk/python/wit/deps/wasi-http.wit",
    "deps/wasi-io.wit" => "guest-sdk/python/wit/deps/wasi-io.wit",
    "deps/wasi-random.wit" => "guest-sdk/python/wit/deps/wasi-random.wit",
    "deps/wasi-sockets.wit" => "guest-sdk/python/wit/deps/wasi-sockets.wit",
};

/// The Python SDK, the package `ferry_sdk`.
pub(super) const PYTHON_SDK: &[File] = files! {
    "ferry_sdk/__init__.py" => "guest-sdk/python/ferry_sdk/__init__.py",
    "ferry_sdk/connector.py" => "guest-sdk/python/ferry_sdk/connector.py",
    "ferry_sdk/context.py" => "guest-sdk/python/ferry_sdk/context.py",
    "ferry_sdk/errors.py" => "guest-sdk/python/ferry_sdk/errors.py",
    "ferry_sdk/generic.py" => "guest-sdk/python/ferry_sdk/generic.py",
    "ferry_sdk/guest.py" => "guest-sdk/python/ferry_sdk/guest.py",
    "ferry_sdk/http.py" => "guest-sdk/python/ferry_sdk/http.py",
    "ferry_sdk/mapper.py" => "guest-sdk/python/ferry_sdk/mapper.py",
    "ferry_sdk/rest.py" => "guest-sdk/python/ferry_sdk/rest.py",
};

/// Write `files` under `dir`.
pub(super) fn write(dir: &Path, files: &[File]) -> Result<()> {
    for file in files {
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, file.text).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Copy a connector's sources from `from` to `to`, leaving out what a build
/// or a package manager made there (`target/`, `node_modules/`,
/// `__pycache__/`) and hidden files. `each_folder(folder, depth)` runs on
/// every folder made, `depth` 0 for `to` itself. Builds run on the copy, so
/// no tool writes into the author's folder.
pub(super) fn copy_sources(
    from: &Path,
    to: &Path,
    each_folder: &mut dyn FnMut(&Path, usize) -> Result<()>,
) -> Result<()> {
    copy_folder(from, to, 0, each_folder)
}

/// Whether a build leaves out the entry `name` of a connector's folder.
fn skipped(name: &std::ffi::OsStr) -> bool {
    ["target", "node_modules", "__pycache__"]
        .iter()
        .any(|s| name == *s)
        || name.to_string_lossy().starts_with('.')
}

/// The files [`copy_sources`] copies from `dir`, as paths relative to it
/// (under `prefix`), added to `files`.
pub(super) fn source_files(
    dir: &Path,
    prefix: &Path,
    files: &mut Vec<std::path::PathBuf>,
) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let (path, name) = (entry.path(), entry.file_name());
        if skipped(&name) {
            continue;
        }
        if path.is_dir() {
            source_files(&path, &prefix.join(&name), files)?;
        } else {
            files.push(prefix.join(&name));
        }
    }
    Ok(())
}

/// A digest of everything this module stages (the SDKs and the WIT): a
/// change to any of them makes every non-Rust connector build again.
pub(super) fn digest() -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for file in CONTRACT
        .iter()
        .chain(PYTHON_WIT)
        .chain(PYTHON_SDK)
        .chain(JS_SDK)
    {
        hash.update(file.path.as_bytes());
        hash.update(file.text.as_bytes());
    }
    hex::encode(hash.finalize())
}

fn copy_folder(
    from: &Path,
    to: &Path,
    depth: usize,
    each_folder: &mut dyn FnMut(&Path, usize) -> Result<()>,
) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    each_folder(to, depth)?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let (path, name) = (entry.path(), entry.file_name());
        if skipped(&name) {
            continue;
        }
        let target = to.join(&name);
        if path.is_dir() {
            copy_folder(&path, &target, depth + 1, each_folder)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// A scratch folder for one build, removed when dropped.
pub(super) fn scratch() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("ferry-build-")
        .tempdir()
        .map_err(|e| Error::Invalid(format!("cannot make a scratch folder for the build: {e}")))
}

/// The JavaScript SDK, the package `ferry-sdk`.
pub(super) const JS_SDK: &[File] = files! {
    "package.json" => "guest-sdk/js/package.json",
    "index.js" => "guest-sdk/js/index.js",
    "index.d.ts" => "guest-sdk/js/index.d.ts",
    "src/adapter.js" => "guest-sdk/js/src/adapter.js",
    "src/connector.js" => "guest-sdk/js/src/connector.js",
    "src/context.js" => "guest-sdk/js/src/context.js",
    "src/convert.js" => "guest-sdk/js/src/convert.js",
    "src/errors.js" => "guest-sdk/js/src/errors.js",
    "src/host.js" => "guest-sdk/js/src/host.js",
    "src/http.js" => "guest-sdk/js/src/http.js",
    "src/json.js" => "guest-sdk/js/src/json.js",
    "src/links.js" => "guest-sdk/js/src/links.js",
    "src/mapper.js" => "guest-sdk/js/src/mapper.js",
    "src/stores.js" => "guest-sdk/js/src/stores.js",
    "src/unit.js" => "guest-sdk/js/src/unit.js",
    "src/webhook.js" => "guest-sdk/js/src/webhook.js",
    "src/generic/binder.js" => "guest-sdk/js/src/generic/binder.js",
    "src/generic/conflict.js" => "guest-sdk/js/src/generic/conflict.js",
    "src/generic/exporter.js" => "guest-sdk/js/src/generic/exporter.js",
    "src/generic/importer.js" => "guest-sdk/js/src/generic/importer.js",
    "src/generic/index.js" => "guest-sdk/js/src/generic/index.js",
    "src/generic/jobs.js" => "guest-sdk/js/src/generic/jobs.js",
    "src/generic/payload.js" => "guest-sdk/js/src/generic/payload.js",
    "src/generic/version.js" => "guest-sdk/js/src/generic/version.js",
    "src/rest/client.js" => "guest-sdk/js/src/rest/client.js",
    "src/rest/collection.js" => "guest-sdk/js/src/rest/collection.js",
    "src/rest/index.js" => "guest-sdk/js/src/rest/index.js",
    "src/rest/paging.js" => "guest-sdk/js/src/rest/paging.js",
};
