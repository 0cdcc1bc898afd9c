//! Installing and loading modules: the checks a component passes at install
//! (its manifest must not promise what it does not do), and where installed
//! components are kept (the database, cached in the data directory under
//! paths relative to it) and loaded from.

use crate::backend::{Description, Module, Registry};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::store::{InstalledModule, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The registry of the modules stored in the database, and their fingerprint.
pub(crate) async fn load_registry(
    store: &Store,
    engine: &Arc<Engine>,
    data_dir: &Path,
) -> Result<(Registry, String)> {
    let fingerprint = store.modules_fingerprint().await?;
    let mut found = Vec::new();
    for module in store.modules().await? {
        // A module whose compiled component is cached loads from the cache:
        // its component file is neither looked for nor read.
        let file = if engine.is_cached(&module.content_hash) {
            Ok(Some(data_dir.join(module_file_name(
                &module.name,
                &module.content_hash,
            ))))
        } else {
            module_file(store, data_dir, &module).await
        };
        found.push((module, file));
    }
    let engine = engine.clone();
    // Reading and (on a cache miss) compiling components is blocking work.
    let loaded = tokio::task::spawn_blocking(move || {
        found
            .into_iter()
            .map(|(s, file)| {
                let module = match file {
                    Ok(Some(path)) => load_module(&engine, &s, &path),
                    Ok(None) => Err(Error::Invalid(format!(
                        "module `{}`: its component is neither in the database nor at `{}`",
                        s.name, s.wasm_path
                    ))),
                    Err(e) => Err(e),
                };
                (s.name.clone(), module)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Error::Invalid(format!("loading the installed modules did not finish: {e}")))?;
    let mut modules = Vec::new();
    for (name, module) in loaded {
        match module {
            Ok(m) => modules.push(Arc::new(m)),
            // One broken module must not take the others down with it.
            Err(e) => tracing::error!(module = %name, "module not loaded: {e}"),
        }
    }
    Ok((Registry::new(modules)?, fingerprint))
}

/// Where an installed component is kept in a data directory, relative to it.
pub(crate) fn module_file_name(module: &str, content_hash: &str) -> String {
    format!(
        "modules/{module}-{}.wasm",
        &content_hash[..16.min(content_hash.len())]
    )
}

pub(crate) fn write_module_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    // Whole or not at all: another process may be loading it.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The component file of `stored` in `data_dir`, written there from the
/// database when this data directory does not have it (it was moved, copied,
/// or is another node's). Paths stored by older versions (absolute, or
/// relative to where `ferry` ran) are tried last. None when no copy exists.
pub(crate) async fn module_file(
    store: &Store,
    data_dir: &Path,
    stored: &InstalledModule,
) -> Result<Option<PathBuf>> {
    let local = data_dir.join(module_file_name(&stored.name, &stored.content_hash));
    if local.exists() {
        return Ok(Some(local));
    }
    if let Some(bytes) = store.module_blob(&stored.content_hash).await? {
        write_module_file(&local, &bytes)?;
        return Ok(Some(local));
    }
    let legacy = PathBuf::from(&stored.wasm_path);
    let candidates = [
        data_dir.join(&legacy),
        legacy
            .file_name()
            .map(|f| data_dir.join("modules").join(f))
            .unwrap_or_default(),
        legacy,
    ];
    Ok(candidates
        .into_iter()
        .find(|p| !p.as_os_str().is_empty() && p.exists()))
}

pub(crate) fn load_module(
    engine: &Engine,
    stored: &InstalledModule,
    path: &Path,
) -> Result<Module> {
    let path = path.to_path_buf();
    let manifest = Manifest::parse(&stored.manifest).map_err(|message| Error::Manifest {
        path: path.clone(),
        message,
    })?;
    // The cache holds what was compiled at install, under its hash: such a
    // module is prepared from it on its first run (`Engine::prepared`), and
    // its component file is neither read nor hashed (a file changed since
    // install is not run either way). Otherwise it is compiled now.
    let hash = if engine.is_cached(&stored.content_hash) {
        stored.content_hash.clone()
    } else {
        let (component, hash) = engine.load(&path)?;
        if hash != stored.content_hash {
            return Err(Error::Invalid(format!(
                "{}: content changed since install (hash {hash})",
                path.display()
            )));
        }
        engine.keep_prepared(&hash, engine.prepare(&path, &component)?);
        hash
    };
    let description = serde_json::from_str(&stored.description)?;
    Ok(Module {
        manifest,
        description,
        content_hash: hash,
    })
}

/// The manifest must not promise what the component does not do.
pub(crate) fn check_against_manifest(
    path: &Path,
    manifest: &Manifest,
    description: &Description,
) -> Result<()> {
    let mismatch = |reason: String| Error::Mismatch {
        path: path.to_path_buf(),
        reason,
    };
    let jobs: Vec<&str> = description.jobs.iter().map(|j| j.name.as_str()).collect();
    for (i, sub) in manifest.subscriptions.iter().enumerate() {
        if let Some(job) = &sub.job
            && !description.has_job(job)
        {
            return Err(mismatch(format!(
                "[[subscription]] #{} names job `{job}`, which the component does not export (it exports: {})",
                i + 1,
                if jobs.is_empty() {
                    "no jobs".into()
                } else {
                    jobs.join(", ")
                }
            )));
        }
    }
    for (i, cron) in manifest.crons.iter().enumerate() {
        if !description.has_job(&cron.job) {
            return Err(mismatch(format!(
                "[[cron]] #{} (`{}`) names job `{}`, which the component does not export (it exports: {})",
                i + 1,
                cron.name,
                cron.job,
                if jobs.is_empty() {
                    "no jobs".into()
                } else {
                    jobs.join(", ")
                }
            )));
        }
    }
    for (name, declared) in &manifest.jobs {
        let Some(component) = description.jobs.iter().find(|j| &j.name == name) else {
            return Err(mismatch(format!(
                "[jobs.{name}] declares a job the component does not export (it exports: {})",
                if jobs.is_empty() {
                    "no jobs".into()
                } else {
                    jobs.join(", ")
                }
            )));
        };
        ferry_manifest::job_decl::agree(component, declared).map_err(mismatch)?;
    }
    if description.units.is_empty() && description.jobs.is_empty() {
        return Err(mismatch(
            "the component implements no unit and no job".into(),
        ));
    }
    Ok(())
}
