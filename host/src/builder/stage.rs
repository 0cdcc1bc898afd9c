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
