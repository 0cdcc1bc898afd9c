//! [`Ferry`]: one installation (a data directory and a database), and the
//! operations the CLI, the demo and the tests share.

use crate::backend::{BackendKey, Description, Module, Registry};
use crate::capabilities::Configs;
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::events::RecordWriter;
use crate::install::{
    check_against_manifest, load_module, load_registry, module_file, module_file_name,
    write_module_file,
};
use crate::invoke::{self, CallScope, Failure, JobScope, UnitCall};
use crate::limits::OperatorConfig;
use crate::manifest::Manifest;
use crate::queue::{self, WorkerConfig, WorkerStats};
use crate::store::{
    BackendInstance, InstalledModule, NewJob, RecordRow, Store, SubscriptionRow, now_ms,
};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Where and how to open an installation.
#[derive(Debug, Clone)]
pub struct FerryOptions {
    /// Data directory: database, installed components, compiled cache.
    pub data_dir: PathBuf,
    /// Database URL; default: `sqlite://DATA_DIR/ferry.db`.
    pub database_url: Option<String>,
    /// Engine limits.
    pub engine: EngineConfig,
}

impl FerryOptions {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        let mut engine = EngineConfig::new(data_dir.join("cache"));
        engine.work_root = Some(data_dir.join("work"));
        engine.secret_key_file = Some(crate::secrets::key_file(&data_dir));
        FerryOptions {
            engine,
            data_dir,
            database_url: None,
        }
    }
}

struct Inner {
    data_dir: PathBuf,
    store: Store,
    engine: Arc<Engine>,
    registry: RwLock<Arc<Registry>>,
    /// Fingerprint of the modules the registry was loaded from.
    fingerprint: Mutex<String>,
    /// The capabilities' configuration (`lock-or-retry`'s locks among it).
    capabilities: Arc<Configs>,
    /// Module versions no longer current, loaded for jobs pinned to them.
    kept_versions: Mutex<std::collections::HashMap<String, Arc<Module>>>,
}

/// A Ferry installation. Cheap to clone.
#[derive(Clone)]
pub struct Ferry {
    inner: Arc<Inner>,
}

/// What `install` did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The stored module.
    pub module: InstalledModule,
    /// What the component implements.
    pub description: Description,
}

impl Ferry {
    /// Open the installation in `data_dir` with default limits.
    pub async fn open(data_dir: impl Into<PathBuf>) -> Result<Ferry> {
        Self::open_with(FerryOptions::new(data_dir)).await
    }

    /// Open an installation: database (created and migrated on first use),
    /// engine, and the installed modules.
    pub async fn open_with(mut options: FerryOptions) -> Result<Ferry> {
        std::fs::create_dir_all(&options.data_dir).map_err(|e| Error::io(&options.data_dir, e))?;
        // The operator's file, when there is one, has the last word.
        if OperatorConfig::path(&options.data_dir).exists() {
            let config = OperatorConfig::load(&options.data_dir)?.limits;
            if let Some(memory) = config.memory {
                options.engine.memory_limit = memory.as_u64() as usize;
            }
            if let Some(budget) = config.time_budget {
                options.engine.time_budget = budget;
            }
            if let Some(queries) = config.queries {
                options.engine.guest_queries = queries;
            }
            options.engine.limits = config.guest;
        }
        let store = match &options.database_url {
            Some(url) => Store::open_url(url).await?,
            None => Store::open_sqlite(&options.data_dir.join("ferry.db")).await?,
        };
        let engine = Arc::new(Engine::new(options.engine.clone())?);
        let (registry, fingerprint) = load_registry(&store, &engine, &options.data_dir).await?;
        let capabilities = Arc::new(Configs::new(engine.config(), &store));
        Ok(Ferry {
            inner: Arc::new(Inner {
                data_dir: options.data_dir,
                store,
                engine,
                registry: RwLock::new(Arc::new(registry)),
                fingerprint: Mutex::new(fingerprint),
                capabilities,
                kept_versions: Mutex::default(),
            }),
        })
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The current registry snapshot (runs keep the one they started with).
    pub fn registry(&self) -> Arc<Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reload the registry if another process installed or replaced a module
    /// since it was loaded; returns whether it did. Runs in progress keep the
    /// snapshot they started with.
    pub async fn refresh(&self) -> Result<bool> {
        let current = self.store().modules_fingerprint().await?;
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
            load_registry(self.store(), self.engine(), self.data_dir()).await?;
        self.swap_registry(registry, fingerprint);
        tracing::info!("installed modules changed: registry reloaded");
        Ok(true)
    }

    fn swap_registry(&self, registry: Registry, fingerprint: String) {
        *self
            .inner
            .registry
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(registry);
        *self
            .inner
            .fingerprint
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = fingerprint;
    }

    /// The scope of a run for `instance`.
    pub(crate) fn scope(
        &self,
        instance: BackendInstance,
        user: &str,
        job: Option<JobScope>,
    ) -> Result<Arc<CallScope>> {
        self.scope_on(self.registry(), instance, user, job)
    }

    /// The scope of a run for `instance` on a given registry snapshot (e.g.
    /// one holding the module version a job is pinned to).
    pub(crate) fn scope_on(
        &self,
        registry: Arc<Registry>,
        instance: BackendInstance,
        user: &str,
        job: Option<JobScope>,
    ) -> Result<Arc<CallScope>> {
        let (store, engine, capabilities) = (
            self.store().clone(),
            self.engine().clone(),
            self.inner.capabilities.clone(),
        );
        CallScope::new(store, engine, registry, capabilities, instance, user, job)
    }

    /// Install (or replace) a module from its manifest and component. New runs
    /// use it at once; runs already going finish on the module they started with.
    pub async fn install(&self, manifest_path: &Path, wasm_path: &Path) -> Result<Installed> {
        let max = self.engine().config().limits.max_manifest_bytes;
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
        let manifest = Manifest::load(manifest_path)?;
        let bytes = std::fs::read(wasm_path).map_err(|e| Error::io(wasm_path, e))?;
        let engine = &self.inner.engine;
        let (component, hash) = engine.load_bytes(wasm_path, &bytes)?;
        let pre = engine.prepare(wasm_path, &component)?;
        let description = invoke::describe(engine, &pre, &manifest.module.name).await?;
        check_against_manifest(manifest_path, &manifest, &description)?;

        // The database keeps the component for every node; the data
        // directory keeps a copy under a path relative to itself.
        self.store().save_module_blob(&hash, &bytes).await?;
        let relative = module_file_name(&manifest.module.name, &hash);
        write_module_file(&self.inner.data_dir.join(&relative), &bytes)?;

        let module = Arc::new(Module {
            manifest: manifest.clone(),
            description: description.clone(),
            content_hash: hash.clone(),
            pre,
        });
        let registry = self.registry().with(module)?;
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
        self.store().save_module(&stored, &subscriptions).await?;
        self.swap_registry(registry, self.store().modules_fingerprint().await?);
        Ok(Installed {
            module: stored,
            description,
        })
    }

    /// Add a backend instance: its backend must be installed and its required
    /// params set.
    pub async fn add_instance(
        &self,
        name: &str,
        backend: &str,
        params: Map<String, Value>,
    ) -> Result<BackendInstance> {
        let key = BackendKey::parse(backend).map_err(Error::Invalid)?;
        let registry = self.registry();
        if !registry.knows(&key) {
            let known: Vec<String> = registry
                .modules()
                .flat_map(|m| m.manifest.backends.iter().map(|b| b.key().to_string()))
                .collect();
            return Err(Error::NotFound {
                kind: "backend",
                name: backend.into(),
                hint: format!(
                    " (installed backends: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        }
        let instance = BackendInstance {
            name: name.into(),
            backend: backend.into(),
            params: params.clone(),
            created_at: now_ms(),
        };
        invoke::effective_params(&registry, &key, &instance)?;
        self.store().add_instance(name, backend, &params).await
    }

    /// Enqueue a job for an instance (the job must exist along its chain).
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64> {
        let instance = self.store().instance(&job.instance).await?;
        let key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        let resolved = self.registry().resolve_job(&key, &job.name)?;
        if job.pin.is_none() {
            // Pin the job to the module version that answers it now.
            let mut pinned = job.clone();
            pinned.pin = Some(crate::store::Pin {
                module: resolved.module.name().to_string(),
                hash: resolved.module.content_hash.clone(),
            });
            return self.store().enqueue(&pinned).await;
        }
        self.store().enqueue(job).await
    }

    /// A version of a module ever installed here, by content hash: the current
    /// one, or a kept earlier version (loaded once, then cached).
    pub async fn module_version(&self, content_hash: &str) -> Result<Option<Arc<Module>>> {
        if let Some(m) = self
            .registry()
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
        let Some(stored) = self.store().module_version(content_hash).await? else {
            return Ok(None);
        };
        let Some(path) = module_file(self.store(), self.data_dir(), &stored).await? else {
            return Ok(None);
        };
        let engine = self.engine().clone();
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

    /// Call a unit of an instance directly, outside any job.
    pub async fn call_unit(
        &self,
        instance: &str,
        call: UnitCall,
    ) -> Result<Result<String, Failure>> {
        self.runner(instance).await?.call_unit(call).await
    }

    /// A [`Runner`] for `instance`: runs its jobs and units in-process, without
    /// the queue.
    pub async fn runner(&self, instance: &str) -> Result<Runner> {
        let instance = self.store().instance(instance).await?;
        self.scope(instance.clone(), "ferry", None)?;
        Ok(Runner {
            ferry: self.clone(),
            instance,
        })
    }

    /// Create a local record as a person would: `record.created` fires (its
    /// jobs are stored with the record, in one transaction).
    pub async fn create_record(&self, model: &str, values: Value, user: &str) -> Result<RecordRow> {
        let registry = self.registry();
        self.writer(&registry, user).create(model, values).await
    }

    /// Change a local record as a person would: `record.updated` fires with the
    /// fields that changed. Returns them.
    pub async fn write_record(
        &self,
        model: &str,
        id: i64,
        values: Value,
        user: &str,
    ) -> Result<Vec<String>> {
        let registry = self.registry();
        self.writer(&registry, user).write(model, id, values).await
    }

    /// Delete a local record as a person would: `record.deleted` fires.
    pub async fn unlink_record(&self, model: &str, id: i64, user: &str) -> Result<()> {
        let registry = self.registry();
        self.writer(&registry, user)
            .unlink(model, id)
            .await
            .map(|_| ())
    }

    fn writer<'a>(&'a self, registry: &'a Registry, user: &'a str) -> RecordWriter<'a> {
        // Local changes come from no backend instance; record events reach them all.
        static LOCAL: std::sync::OnceLock<BackendInstance> = std::sync::OnceLock::new();
        let origin = LOCAL.get_or_init(|| BackendInstance {
            name: String::new(),
            backend: String::new(),
            params: Map::new(),
            created_at: 0,
        });
        RecordWriter {
            store: self.store(),
            registry,
            origin,
            user,
            fire: true,
        }
    }

    /// Run a worker (see [`WorkerConfig`]).
    pub async fn run_worker(
        &self,
        config: &WorkerConfig,
        on_change: impl FnMut(&WorkerStats),
    ) -> Result<WorkerStats> {
        queue::run_worker(self, config, on_change).await
    }
}

/// Runs jobs and units of one backend instance directly (tests, benchmarks,
/// and tools that need an answer now rather than a queued job). Each call gets
/// a fresh instance, as queued runs do.
pub struct Runner {
    ferry: Ferry,
    instance: BackendInstance,
}

impl Runner {
    /// Run job `name` now, outside the queue (no job row; progress is not stored).
    pub async fn run_job(&self, name: &str, payload: &str) -> Result<Result<String, Failure>> {
        let scope = self.ferry.scope(self.instance.clone(), "ferry", None)?;
        let (_, out) = invoke::run_job(&scope, &name.to_string(), &payload.to_string()).await;
        Ok(out)
    }

    /// Call a unit, looked up from the instance's backend.
    pub async fn call_unit(&self, call: UnitCall) -> Result<Result<String, Failure>> {
        let scope = self.ferry.scope(self.instance.clone(), "ferry", None)?;
        let start = scope.instance_key.clone();
        let out = invoke::call_unit(scope, start, 0, call).await?;
        Ok(out.map_err(|e| Failure {
            kind: kind_name(e.kind),
            message: e.message,
            retry_after_ms: e.retry_after_ms,
        }))
    }
}

fn kind_name(kind: crate::bindings::types::ErrorKind) -> &'static str {
    use crate::bindings::types::ErrorKind;
    match kind {
        ErrorKind::Retryable => "retryable",
        ErrorKind::Final => "final",
        ErrorKind::NotFound => "not-found",
        ErrorKind::Denied => "denied",
    }
}
