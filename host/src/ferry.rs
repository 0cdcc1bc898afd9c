//! [`Ferry`]: one installation (a data directory and a database), and the
//! operations the CLI, the demo and the tests share.

use crate::backend::{BackendKey, Module, Registry};
use crate::capabilities::Configs;
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::events::RecordWriter;
use crate::install::{Installed, Modules};
use crate::invoke::{self, CallScope, Failure, JobScope, UnitCall};
use crate::limits::OperatorConfig;
use crate::store::{BackendInstance, NewJob, RecordRow, Store, now_ms};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    modules: Modules,
    /// The capabilities' configuration (`lock-or-retry`'s locks among it).
    capabilities: Arc<Configs>,
}

/// A Ferry installation. Cheap to clone.
#[derive(Clone)]
pub struct Ferry {
    inner: Arc<Inner>,
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
            if let Some(instances) = config.instances {
                options.engine.max_instances = instances.max(1);
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
        let modules =
            Modules::load(store.clone(), engine.clone(), options.data_dir.clone()).await?;
        let capabilities = Arc::new(Configs::new(engine.config(), &store));
        Ok(Ferry {
            inner: Arc::new(Inner {
                data_dir: options.data_dir,
                store,
                engine,
                modules,
                capabilities,
            }),
        })
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The metrics of this installation (its own registry; see
    /// [`crate::metrics`]).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        self.inner.store.metrics()
    }

    /// The Prometheus text of `/metrics`: this process's counters and
    /// histograms, and the queue depth read from the database now.
    pub async fn metrics_text(&self) -> Result<String> {
        let depth = self.store().queue_depth().await?;
        Ok(self.metrics().render(&depth))
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The installed modules: the registry snapshot, install, reload, versions.
    pub fn modules(&self) -> &Modules {
        &self.inner.modules
    }

    /// The current registry snapshot (runs keep the one they started with).
    pub fn registry(&self) -> Arc<Registry> {
        self.inner.modules.current()
    }

    /// Reload the registry if another process installed or replaced a module
    /// since it was loaded; returns whether it did (see [`Modules::refresh`]).
    pub async fn refresh(&self) -> Result<bool> {
        self.inner.modules.refresh().await
    }

    /// Install (or replace) a module from its manifest and component (see
    /// [`Modules::install`]).
    pub async fn install(&self, manifest_path: &Path, wasm_path: &Path) -> Result<Installed> {
        self.inner.modules.install(manifest_path, wasm_path).await
    }

    /// Install a declarative connector (a manifest with a `[rest]` section,
    /// run by the installed `rest` module; see [`Modules::install_declarative`]).
    pub async fn install_declarative(&self, manifest_path: &Path) -> Result<Installed> {
        self.inner.modules.install_declarative(manifest_path).await
    }

    /// A version of a module ever installed here, by content hash (see
    /// [`Modules::module_version`]).
    pub async fn module_version(&self, content_hash: &str) -> Result<Option<Arc<Module>>> {
        self.inner.modules.module_version(content_hash).await
    }

    /// The scope of a run for `instance`.
    pub(crate) async fn scope(
        &self,
        instance: BackendInstance,
        user: &str,
        job: Option<JobScope>,
    ) -> Result<Arc<CallScope>> {
        self.scope_on(self.registry(), instance, user, job).await
    }

    /// The scope of a run for `instance` on a given registry snapshot (e.g.
    /// one holding the module version a job is pinned to).
    pub(crate) async fn scope_on(
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
        CallScope::new(
            store,
            engine,
            registry,
            capabilities,
            instance,
            user,
            job,
            None,
        )
        .await
    }

    /// Add a backend instance: its backend must be installed, and its params
    /// those the backend declares, of their types, the required ones set.
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
        crate::backend::check_instance_params(&registry, &key, name, &params)?;
        invoke::effective_params(&registry, &key, &instance)?;
        self.store().add_instance(name, backend, &params).await
    }

    /// Enqueue a job for an instance (the job must exist along its chain),
    /// pinned to the module version that answers it now.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64> {
        let pinned = self.modules().pinned(job).await?;
        self.store().enqueue(&pinned).await
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
        self.scope(instance.clone(), "ferry", None).await?;
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
        let scope = self
            .ferry
            .scope(self.instance.clone(), "ferry", None)
            .await?;
        let (_, out) = invoke::run_job(&scope, &name.to_string(), &payload.to_string()).await;
        Ok(out)
    }

    /// Call a unit, looked up from the instance's backend.
    pub async fn call_unit(&self, call: UnitCall) -> Result<Result<String, Failure>> {
        let scope = self
            .ferry
            .scope(self.instance.clone(), "ferry", None)
            .await?;
        let start = scope.instance_key.clone();
        let out = invoke::call_unit(scope, start, 0, call).await?;
        Ok(out.map_err(Failure::from_wit))
    }
}
