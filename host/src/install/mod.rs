//! The installed modules of an installation: the registry snapshot new runs
//! start from, installing (and replacing) a module, noticing what another
//! process installed, and the earlier versions jobs stay pinned to. Where
//! components are kept and how they load is in [`load`].

mod lint;
mod load;

pub(crate) use load::module_file;

use crate::backend::{BackendKey, Description, Module, Registry, checked_payload};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::invoke;
use crate::manifest::Manifest;
use crate::store::{InstalledModule, NewJob, Pin, Store, SubscriptionRow, now_ms};
use ferry_manifest::declarative::{CONFIG_PARAM, RUNTIME_MODULE};
use load::{
    check_against_manifest, load_module, load_registry, module_file_name, write_module_file,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use wasm_encoder::ComponentSection;

/// What `install` did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The stored module.
    pub module: InstalledModule,
    /// What the component implements.
    pub description: Description,
    /// What installed but is likely a mistake (a downgrade, a subscription
    /// for a model no unit answers), for the user to read.
    pub warnings: Vec<String>,
}

struct Inner {
    store: Store,
    engine: Arc<Engine>,
    data_dir: PathBuf,
    current: RwLock<Arc<Registry>>,
    /// Fingerprint of the modules the registry was loaded from.
    fingerprint: Mutex<String>,
    /// Module versions no longer current, loaded for jobs pinned to them.
    kept_versions: Mutex<HashMap<String, Arc<Module>>>,
}

/// The installed modules of one installation. Cheap to clone.
#[derive(Clone)]
pub struct Modules {
    inner: Arc<Inner>,
}

impl Modules {
    /// Load the modules stored in `store` (components from the database, or
    /// from `data_dir`), compiled by `engine`.
    pub(crate) async fn load(store: Store, engine: Arc<Engine>, data_dir: PathBuf) -> Result<Self> {
        let (registry, fingerprint) = load_registry(&store, &engine, &data_dir).await?;
        Ok(Modules {
            inner: Arc::new(Inner {
                store,
                engine,
                data_dir,
                current: RwLock::new(Arc::new(registry)),
                fingerprint: Mutex::new(fingerprint),
                kept_versions: Mutex::default(),
            }),
        })
    }

    /// The current registry snapshot (runs keep the one they started with).
    pub fn current(&self) -> Arc<Registry> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reload the registry if another process installed or replaced a module
    /// since it was loaded; returns whether it did. Runs in progress keep the
    /// snapshot they started with.
    pub async fn refresh(&self) -> Result<bool> {
        let current = self.inner.store.modules_fingerprint().await?;
        if *self
            .inner
            .fingerprint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            == current
        {
            return Ok(false);
        }
        let (registry, fingerprint) =
            load_registry(&self.inner.store, &self.inner.engine, &self.inner.data_dir).await?;
        self.swap_registry(registry, fingerprint);
        tracing::info!("installed modules changed: registry reloaded");
        Ok(true)
    }

    fn swap_registry(&self, registry: Registry, fingerprint: String) {
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(registry);
        *self
            .inner
            .fingerprint
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = fingerprint;
    }

    /// Install (or replace) a module from its manifest and component. New runs
    /// use it at once; runs already going finish on the module they started with.
    pub async fn install(&self, manifest_path: &Path, wasm_path: &Path) -> Result<Installed> {
        let manifest = self.read_manifest(manifest_path)?;
        let bytes = std::fs::read(wasm_path).map_err(|e| Error::io(wasm_path, e))?;
        self.install_component(manifest_path, manifest, wasm_path, bytes)
            .await
    }

    /// The manifest at `path`, checked (and not over `max_manifest_bytes`).
    fn read_manifest(&self, manifest_path: &Path) -> Result<Manifest> {
        let max = self.inner.engine.config().limits.max_manifest_bytes;
        let size = std::fs::metadata(manifest_path)
            .map_err(|e| Error::io(manifest_path, e))?
            .len();
        if size > max.as_u64() {
            return Err(Error::Manifest {
                path: manifest_path.to_path_buf(),
                message: crate::limits::over(
                    format!("the manifest of {size} bytes"),
                    "max_manifest_bytes",
                    max,
                ),
            });
        }
        Ok(Manifest::load(manifest_path)?)
    }

    /// Install the declarative connector of `manifest_path` (a manifest with
    /// a `[rest]` section and no code of its own): its component is that of
    /// the installed `rest` module, which reads the section at run time;
    /// everything else (params, hosts, subscriptions) is its own manifest's.
    pub async fn install_declarative(&self, manifest_path: &Path) -> Result<Installed> {
        let manifest = self.read_manifest(manifest_path)?;
        let refused = |message: String| Error::Manifest {
            path: manifest_path.to_path_buf(),
            message,
        };
        if manifest.rest.is_none() {
            return Err(refused(
                "no [rest] section: not a declarative connector (a connector with code, in \
                 Rust, Python or JavaScript, is built and installed from its folder: \
                 `ferry install DIR`)"
                    .into(),
            ));
        }
        if manifest.module.name == RUNTIME_MODULE {
            return Err(refused(format!(
                "[module] name = \"{RUNTIME_MODULE}\" is Ferry's runtime of declarative connectors: \
                 give the connector a name of its own"
            )));
        }
        let runtime = self.current().module(RUNTIME_MODULE).cloned().ok_or_else(|| {
            refused(format!(
                "a declarative connector runs on Ferry's `{RUNTIME_MODULE}` module, which is not \
                 installed here: install it once (`ferry install declarative/rest` from Ferry's \
                 source, or `ferry install --wasm rest.wasm declarative/rest/connector.toml`)"
            ))
        })?;
        let bytes = self
            .inner
            .store
            .module_blob(&runtime.content_hash)
            .await?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "the component of module `{RUNTIME_MODULE}` is missing from the database: \
                     install it again"
                ))
            })?;
        // The connector's own component: the runtime's, with its `[rest]`
        // section appended as a custom section. Each declarative connector,
        // and each change to its streams, then has a content hash of its
        // own, so versions, pinned jobs and the "same version, changed
        // component" warning see it as the module it is.
        let mut bytes = bytes;
        let rest = manifest.rest.as_ref().map(serde_json::to_vec).transpose()?;
        wasm_encoder::CustomSection {
            name: CONFIG_PARAM.into(),
            data: rest.unwrap_or_default().into(),
        }
        .append_to_component(&mut bytes);
        let label = PathBuf::from(module_file_name(RUNTIME_MODULE, &runtime.content_hash));
        self.install_component(manifest_path, manifest, &label, bytes)
            .await
    }

    /// Install `manifest` (read from `manifest_path`) with the component
    /// `bytes` (named `wasm_path` in messages).
    async fn install_component(
        &self,
        manifest_path: &Path,
        manifest: Manifest,
        wasm_path: &Path,
        bytes: Vec<u8>,
    ) -> Result<Installed> {
        let engine = &self.inner.engine;
        let (component, hash) = engine.load_bytes(wasm_path, &bytes)?;
        let pre = engine.prepare(wasm_path, &component)?;
        let description = invoke::describe(engine, &pre, &manifest.module.name).await?;
        check_against_manifest(manifest_path, &manifest, &description)?;

        // The database keeps the component for every node; the data
        // directory keeps a copy under a path relative to itself.
        self.inner.store.save_module_blob(&hash, &bytes).await?;
        let relative = module_file_name(&manifest.module.name, &hash);
        write_module_file(&self.inner.data_dir.join(&relative), &bytes)?;

        engine.keep_prepared(&hash, pre);
        let module = Arc::new(Module {
            manifest: manifest.clone(),
            description: description.clone(),
            content_hash: hash.clone(),
        });
        let before = self.current();
        let registry = before.with(module.clone())?;
        let warnings = lint::warnings(&before, &registry, &module);
        let stored = InstalledModule {
            name: manifest.module.name.clone(),
            version: manifest.module.version.clone(),
            content_hash: hash,
            manifest: std::fs::read_to_string(manifest_path)
                .map_err(|e| Error::io(manifest_path, e))?,
            description: serde_json::to_string(&description)?,
            wasm_path: relative,
            installed_at: now_ms(),
        };
        let subscriptions = manifest
            .subscriptions
            .iter()
            .map(|s| {
                Ok(SubscriptionRow {
                    id: 0,
                    module: manifest.module.name.clone(),
                    event: s.event.clone(),
                    models: s.models.clone(),
                    job: s.job.clone(),
                    priority: i64::from(s.priority),
                    source: "manifest".into(),
                    conditions: s.conditions().map_err(|message| Error::Manifest {
                        path: manifest_path.to_path_buf(),
                        message,
                    })?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.inner
            .store
            .save_module(&stored, &subscriptions)
            .await?;
        self.swap_registry(registry, self.inner.store.modules_fingerprint().await?);
        for warning in &warnings {
            tracing::warn!(module = %stored.name, "{warning}");
        }
        Ok(Installed {
            module: stored,
            description,
            warnings,
        })
    }

    /// A version of a module ever installed here, by content hash: the current
    /// one, or a kept earlier version (loaded once, then cached).
    pub async fn module_version(&self, content_hash: &str) -> Result<Option<Arc<Module>>> {
        if let Some(m) = self
            .current()
            .modules()
            .find(|m| m.content_hash == content_hash)
        {
            return Ok(Some(m.clone()));
        }
        let cached = self
            .inner
            .kept_versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(content_hash)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(stored) = self.inner.store.module_version(content_hash).await? else {
            return Ok(None);
        };
        let Some(path) = module_file(&self.inner.store, &self.inner.data_dir, &stored).await?
        else {
            return Ok(None);
        };
        let engine = self.inner.engine.clone();
        let module = tokio::task::spawn_blocking(move || load_module(&engine, &stored, &path))
            .await
            .map_err(|e| {
                Error::Invalid(format!("loading a kept module version did not finish: {e}"))
            })??;
        let module = Arc::new(module);
        self.inner
            .kept_versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(content_hash.to_string(), module.clone());
        Ok(Some(module))
    }

    /// `job` pinned to the module version that answers it now along its
    /// instance's backend chain (unless it names a pin already), its payload
    /// checked against the job's declared parameters (defaults applied).
    /// Fails when the instance is unknown, nothing along the chain implements
    /// the job or the payload is refused: a job that cannot run is never stored.
    pub async fn pinned(&self, job: &NewJob) -> Result<NewJob> {
        let instance = self.inner.store.instance(&job.instance).await?;
        let key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        let resolved = self.current().resolve_job(&key, &job.name)?;
        let mut pinned = job.clone();
        pinned.payload = checked_payload(&resolved.module, &job.name, &job.payload)?;
        if pinned.pin.is_none() {
            pinned.pin = Some(Pin {
                module: resolved.module.name().to_string(),
                hash: resolved.module.content_hash.clone(),
            });
        }
        Ok(pinned)
    }
}
