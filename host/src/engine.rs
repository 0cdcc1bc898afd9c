//! The WebAssembly engine: configuration, limits, the component cache, and the
//! check that a component implements the connector world.
//!
//! Components are compiled once and cached on disk, keyed by the SHA-256 of the
//! component and the engine's compatibility hash (so a new wasmtime or other
//! settings never load a stale artefact). Instances come from the pooling
//! allocator, made on the first run (a command that runs no guest does not
//! pay for it); every run gets a fresh store with a memory cap and a CPU
//! deadline (epoch interruption), see [`crate::invoke`].
//!
//! **Slots.** The pool has room for `max_instances` instances at once; one
//! more fails to instantiate. A run (a job, a webhook, a direct call) is
//! therefore admitted before it starts ([`Engine::admit`]): at most
//! [`Engine::runs_at_once`] runs hold instances at once, three quarters of
//! the pool, the last quarter kept for the unit calls they make. A run that
//! finds no room waits for one, before its time budget starts, instead of
//! failing; a worker runs no more jobs at once than there is room for.
//!
//! The engine also holds the components it has pre-linked, by content hash:
//! the registry ([`crate::backend`]) is plain data and names each module's
//! component by that hash, and [`crate::invoke`] instantiates what the engine
//! keeps under it (`Engine::prepared`).

pub mod config;

pub use config::EngineConfig;

use crate::bindings::{GUEST_INTERFACE, GuestPre, guest_contract};
use crate::capabilities::{self, HostState};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{InstanceAllocationStrategy, PoolingAllocationConfig};

/// Runs admitted at once for a pool of `max_instances` (see [`Engine::runs_at_once`]).
fn runs_at_once(max_instances: u32) -> usize {
    (max_instances as usize - max_instances as usize / 4).max(1)
}

/// How often the epoch advances: the granularity of CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The wasmtime engine and linker shared by every run.
///
/// Two wasmtime engines with the same compilation settings: one without an
/// instance pool, cheap to make, that compiles components and names their
/// cache files; and the runtime (the pooling allocator, the linker, the epoch
/// ticker), made on the first use that needs it. A command that runs no guest
/// (`ferry run`, `ferry connectors`, `ferry jobs`) never reserves the pool,
/// which was about a tenth of its start (~1 ms to make, ~0.3 ms to drop).
pub struct Engine {
    compiler: wasmtime::Engine,
    /// Made on first use; its error, if it could not be made, is kept and
    /// given to every caller (a pool too large for this machine's address
    /// space, for example).
    runtime: OnceLock<std::result::Result<Runtime, String>>,
    config: EngineConfig,
    /// Pre-linked components by content hash. Never emptied: a registry
    /// snapshot that a run still holds, or a module version a job is pinned
    /// to, may name any component loaded since the start, and there are only
    /// as many as installs (the compiled code is mapped from the disk cache).
    prepared: RwLock<HashMap<String, GuestPre>>,
    /// Room for runs: [`Engine::runs_at_once`] permits.
    admission: Arc<tokio::sync::Semaphore>,
}

/// What running guests needs: the pooling engine, the linker holding every
/// host capability, and the epoch ticker behind CPU deadlines.
struct Runtime {
    engine: wasmtime::Engine,
    linker: Linker<HostState>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// The pooling engine for `config`, its linker, and its epoch ticker.
    fn new(config: &EngineConfig) -> Result<Runtime> {
        let mut pool = PoolingAllocationConfig::default();
        let n = config.max_instances;
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 4)
            .total_stacks(n)
            .max_memory_size(config.memory_limit)
            .max_memories_per_component(4)
            .max_tables_per_component(16)
            .max_core_instances_per_component(64)
            .max_unused_warm_slots(64)
            // Reset a slot by rewriting only the pages a run dirtied (found with
            // PAGEMAP_SCAN where the kernel has it) instead of unmapping them:
            // the next instance then takes no page faults. This is most of the
            // cost of a fresh instance.
            .pagemap_scan(wasmtime::Enabled::Auto)
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(256 << 10)
            .async_stack_keep_resident(256 << 10);
        let mut wasm = compilation_settings(config);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = wasmtime::Engine::new(&wasm).map_err(|e| {
            Error::Invalid(format!(
                "cannot make the instance pool for {n} instances of up to {} MiB \
                 ([limits] instances and memory in ferry.toml): {e:#}",
                config.memory_limit >> 20
            ))
        })?;
        let mut linker = Linker::new(&engine);
        capabilities::add_to_linker(&mut linker)?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let (weak, stop) = (engine.weak(), stop_ticker.clone());
        std::thread::Builder::new()
            .name("ferry-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| Error::Invalid(format!("cannot start the epoch ticker thread: {e}")))?;
        Ok(Runtime {
            engine,
            linker,
            stop_ticker,
        })
    }
}

/// The settings that decide what compiled code looks like, shared by the
/// compiler and the runtime so that what one compiles the other loads
/// (wasmtime checks it again when loading).
fn compilation_settings(config: &EngineConfig) -> wasmtime::Config {
    let mut wasm = wasmtime::Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(config.fuel.is_some())
        .max_wasm_stack(1 << 20);
    wasm
}

/// A run's room in the instance pool, given back when dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish()
    }
}

impl Engine {
    /// An engine with these limits. Cheap: the instance pool and the epoch
    /// ticker are made on the first run (or by [`Engine::start`]).
    pub fn new(config: EngineConfig) -> Result<Self> {
        let compiler = wasmtime::Engine::new(&compilation_settings(&config))?;
        Ok(Engine {
            compiler,
            runtime: OnceLock::new(),
            admission: Arc::new(tokio::sync::Semaphore::new(runs_at_once(
                config.max_instances,
            ))),
            config,
            prepared: RwLock::default(),
        })
    }

    /// Make the instance pool and the epoch ticker now, if not made yet:
    /// what a worker or a server does before it takes work, so that a pool
    /// this machine cannot hold is an error at start, not at the first job.
    pub fn start(&self) -> Result<()> {
        self.runtime().map(|_| ())
    }

    fn runtime(&self) -> Result<&Runtime> {
        self.runtime
            .get_or_init(|| Runtime::new(&self.config).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Invalid(e.clone()))
    }

    /// How many runs may hold instances at once: three quarters of the
    /// pool's `max_instances` (at least one), the rest kept for their unit
    /// calls.
    pub fn runs_at_once(&self) -> usize {
        runs_at_once(self.config.max_instances)
    }

    /// Room for one run, waiting for a run to end when there is none.
    pub(crate) async fn admit(&self) -> Admission {
        // The semaphore is never closed.
        let permit = self.admission.clone().acquire_owned().await;
        Admission {
            _permit: permit.expect("the admission semaphore is never closed"),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Put a fresh store under the limits: memory and tables through its
    /// [`MemoryLimit`](crate::capabilities::MemoryLimit), fuel when counted.
    pub(crate) fn limit_store(&self, store: &mut wasmtime::Store<HostState>) {
        store.data_mut().limits.max_table_elements = self.config.max_table_elements;
        store.limiter(|s| &mut s.limits);
        if let Some(fuel) = self.config.fuel {
            store.data_mut().limits.fuel = Some(fuel);
            // Cannot fail: fuel is enabled whenever `config.fuel` is set.
            let _ = store.set_fuel(fuel);
        }
    }

    /// Read a component file, compile it (or load it from the cache) and return
    /// it with its content hash. Refuses files that are not components.
    pub fn load(&self, path: &Path) -> Result<(Component, String)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.load_bytes(path, &bytes)
    }

    /// Like [`Engine::load`] for bytes already read (`path` names them in errors).
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<(Component, String)> {
        let not_component = |reason: String| Error::NotAComponent {
            path: path.to_path_buf(),
            reason,
        };
        if !wasmparser::Parser::is_component(bytes) {
            return Err(not_component(if wasmparser::Parser::is_core_wasm(bytes) {
                "it is a core WebAssembly module; build connectors for `wasm32-wasip2` (e.g. `ferry build DIR`)"
                    .into()
            } else {
                "it does not start with the WebAssembly header".into()
            }));
        }
        let hash = hex::encode(Sha256::digest(bytes));
        if let Some(component) = self.cached(&hash) {
            return Ok((component, hash));
        }
        let cached = self.cache_file(&hash);
        let compiled = self
            .compiler
            .precompile_component(bytes)
            .map_err(|e| not_component(format!("{e:#}")))?;
        std::fs::create_dir_all(&self.config.cache_dir)
            .map_err(|e| Error::io(&self.config.cache_dir, e))?;
        // Written aside, then renamed into place: a process or thread that
        // compiles the same component at the same time never reads half a
        // file (each writes its own temporary file; the last rename wins).
        let mut tmp = tempfile::Builder::new()
            .prefix(".compiling-")
            .tempfile_in(&self.config.cache_dir)
            .map_err(|e| Error::io(&self.config.cache_dir, e))?;
        std::io::Write::write_all(&mut tmp, &compiled).map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(&cached)
            .map_err(|e| Error::io(&cached, e.error))?;
        // SAFETY: `compiled` was just produced with the runtime's compilation
        // settings (and wasmtime checks them again).
        let component = unsafe { Component::deserialize(&self.runtime()?.engine, &compiled) }?;
        Ok((component, hash))
    }

    /// The compiled component of content hash `hash` from the disk cache, if
    /// it is there: what a module installed earlier loads from, without
    /// reading or hashing its component again (the cache is keyed by the hash
    /// of the bytes that were compiled, so it holds exactly what was installed).
    pub fn cached(&self, hash: &str) -> Option<Component> {
        if !self.is_cached(hash) {
            return None;
        }
        let file = self.cache_file(hash);
        let runtime = match self.runtime() {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::error!("cannot run the compiled component {hash}: {e}");
                return None;
            }
        };
        // SAFETY: the file was written by `precompile_component` of an engine
        // with the same compatibility hash, into Ferry's own cache directory.
        unsafe { Component::deserialize_file(&runtime.engine, &file) }.ok()
    }

    /// Whether the compiled component of content hash `hash` is in the disk
    /// cache (a hash that is not one, e.g. a path, never is).
    pub fn is_cached(&self, hash: &str) -> bool {
        !hash.is_empty()
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
            && self.cache_file(hash).exists()
    }

    /// Where the compiled component of content hash `hash` is cached.
    fn cache_file(&self, hash: &str) -> std::path::PathBuf {
        let mut compat = std::collections::hash_map::DefaultHasher::new();
        self.compiler
            .precompile_compatibility_hash()
            .hash(&mut compat);
        self.config
            .cache_dir
            .join(format!("{hash}-{:016x}.cwasm", compat.finish()))
    }

    /// Check that `component` implements the connector world and pre-link it.
    pub fn prepare(&self, path: &Path, component: &Component) -> Result<GuestPre> {
        let wrong = |reason: String| Error::WrongWorld {
            path: path.to_path_buf(),
            reason,
        };
        let runtime = self.runtime()?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&runtime.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        // The newest contract the component exports a `guest` of.
        let contract = exports.iter().filter_map(|e| guest_contract(e)).max();
        let Some(contract) = contract else {
            let found = if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            };
            return Err(wrong(format!(
                "it does not export `{GUEST_INTERFACE}` (it exports: {found})"
            )));
        };
        let pre = runtime
            .linker
            .instantiate_pre(component)
            .map_err(|e| wrong(format!("{e:#}")))?;
        GuestPre::new(contract, pre).map_err(|e| wrong(format!("{e:#}")))
    }

    /// Keep a component [`Engine::prepare`]d for its modules' runs, under its
    /// content hash.
    pub(crate) fn keep_prepared(&self, content_hash: &str, pre: GuestPre) {
        self.prepared
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(content_hash.to_string(), pre);
    }

    /// The pre-linked component of this content hash: the one kept, else
    /// the compiled cache's, prepared now and kept. Modules installed earlier
    /// are loaded this way, on their first run: a command that runs no guest
    /// (`ferry run`, `ferry connectors`) maps and links no component.
    pub(crate) fn prepared(&self, content_hash: &str) -> Option<GuestPre> {
        let kept = self
            .prepared
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(content_hash)
            .cloned();
        if kept.is_some() {
            return kept;
        }
        let component = self.cached(content_hash)?;
        match self.prepare(&self.cache_file(content_hash), &component) {
            Ok(pre) => {
                self.keep_prepared(content_hash, pre.clone());
                Some(pre)
            }
            Err(e) => {
                tracing::error!("the compiled component {content_hash} cannot run here: {e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compat(engine: &wasmtime::Engine) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.finish()
    }

    /// The cache is named by the compiler's settings and loaded by the
    /// runtime's: the two must agree, or every start would compile again.
    #[test]
    fn the_compiler_and_the_runtime_compile_alike() {
        for fuel in [None, Some(1_000_000)] {
            let mut config = EngineConfig::new(std::env::temp_dir());
            config.fuel = fuel;
            config.max_instances = 4;
            let engine = Engine::new(config).unwrap();
            assert!(
                engine.runtime.get().is_none(),
                "the pool is made on first use"
            );
            let runtime = engine.runtime().unwrap();
            assert_eq!(compat(&engine.compiler), compat(&runtime.engine));
        }
    }
}
