//! Files: none by default. A module whose manifest asks for
//! `[capabilities.work_dir]` sees the work directory of its backend instance as
//! `/work` (for file exports); nothing else of the host's file system.
//!
//! The directory is `WORK_ROOT/INSTANCE/` ([`EngineConfig::work_root`]),
//! shared by the modules of the instance's backend chain. Its size is checked
//! when an instance of the module starts: over `max_bytes`, the run gets it
//! read-only (and a warning in its log) until someone cleans it. A single run
//! can therefore overshoot the cap by what it writes within its time budget;
//! WASI has no quota of its own.
//!
//! [`EngineConfig::work_root`]: crate::engine::EngineConfig::work_root

use super::capability::{Capability, HasCapability, Setup};
use super::context::RunContext;
use crate::engine::config::EngineConfig;
use crate::manifest::WorkDirDecl;
use crate::store::Store;
use std::path::{Path, PathBuf};
use wasmtime::component::Linker;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Files: the work directory, through WASI (no interface of its own).
pub struct Files;

impl Capability for Files {
    /// The work root: one folder per backend instance below it.
    type Config = Option<PathBuf>;
    type RunState = ();
    type State = ();

    fn config(engine: &EngineConfig, _store: &Store) -> Option<PathBuf> {
        engine.work_root.clone()
    }

    fn run_state(_config: &Option<PathBuf>, _run: &RunContext) {}

    /// The one thing WASI grants: a work directory, if the manifest asks for it.
    fn state(setup: &mut Setup<'_, Self>) {
        if let (Some(run), Some(manifest), Some((root, _))) =
            (&setup.instance.run, setup.manifest, setup.run)
            && let Some(decl) = &manifest.work_dir
        {
            grant_work_dir(
                setup.wasi,
                run,
                root.as_deref(),
                &setup.instance.module,
                decl,
            );
        }
    }

    /// Nothing to link: the files are WASI's.
    fn add_to_linker<T: HasCapability<Self>>(_linker: &mut Linker<T>) -> wasmtime::Result<()> {
        Ok(())
    }
}

/// Where the guest sees its work directory.
pub const GUEST_PATH: &str = "/work";

/// Entries visited at most when measuring a directory (beyond, it counts as full).
const MAX_ENTRIES: usize = 100_000;

/// Preopen the work directory of the run's instance for `module`, if the
/// engine has a work root; problems are logged to the run and grant nothing.
fn grant_work_dir(
    wasi: &mut WasiCtxBuilder,
    run: &RunContext,
    root: Option<&Path>,
    module: &str,
    decl: &WorkDirDecl,
) {
    let warn = |message: String| run.log("warn", module, &message);
    let Some(root) = root else {
        return warn("no work directory: this host has no work root".into());
    };
    let instance = &run.instance.name;
    let plain = !instance.is_empty()
        && instance != "."
        && instance != ".."
        && instance
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        return warn(format!(
            "no work directory: instance name `{instance}` is not a plain folder name"
        ));
    }
    let dir = root.join(instance);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return warn(format!(
            "no work directory: cannot create {}: {e}",
            dir.display()
        ));
    }
    let used = size_of(&dir);
    let perms = if used >= decl.max_bytes {
        warn(format!(
            "work directory holds {used} bytes, over its cap of {} (max_bytes): read-only for this run",
            decl.max_bytes
        ));
        FsPerms::ReadOnly
    } else {
        FsPerms::ReadWrite
    };
    if let Err(e) = wasi.preopened_dir(&dir, GUEST_PATH, perms) {
        warn(format!(
            "no work directory: cannot open {}: {e:#}",
            dir.display()
        ));
    }
}

/// Bytes of the files below `dir` (symbolic links are not followed).
fn size_of(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return u64::MAX;
            }
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => total = total.saturating_add(m.len()),
                Err(_) => {}
            }
        }
    }
    total
}
