//! The shape every capability has: the [`Capability`] trait, what a
//! capability's host functions see ([`View`]), and what it is built from
//! ([`Setup`]).
//!
//! A capability has three levels of state, like a factor of Spin:
//! - its [`Capability::Config`], built once per process from the engine
//!   configuration (and the store, for what is shared by every run);
//! - its [`Capability::RunState`], shared by the instances of one run (a job
//!   and the unit calls it makes);
//! - its [`Capability::State`], one per instance: a field of
//!   [`HostState`](super::HostState), which its WIT `Host` traits are
//!   implemented on, through a [`View`].

use super::context::{RunContext, UnitCaller};
use super::wit::WitResult;
use crate::backend::{BackendKey, Module};
use crate::bindings::types;
use crate::engine::config::EngineConfig;
use crate::manifest::Capabilities;
use crate::store::Store;
use std::marker::PhantomData;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiCtxBuilder;

/// One capability: its configuration, its state per run and per instance,
/// and the interfaces it links. The type itself is only a name (a unit struct).
pub(crate) trait Capability: Sized + Send + 'static {
    /// What the operator configured for it, and what every run of the
    /// process shares (`()` when nothing).
    type Config: Send + Sync + 'static;
    /// What the instances of one run share (`()` when nothing).
    type RunState: Send + Sync + 'static;
    /// What one instance holds (`()` when nothing).
    type State: Send + 'static;

    /// The configuration, once per process.
    fn config(engine: &EngineConfig, store: &Store) -> Self::Config;

    /// The state of one run, when the run starts.
    fn run_state(config: &Self::Config, run: &RunContext) -> Self::RunState;

    /// The state of one instance, when it is created (also while a module
    /// is only described: then [`Setup::run`] is none, and so should be
    /// everything the capability grants).
    fn state(setup: &mut Setup<'_, Self>) -> Self::State;

    /// Link the capability's interfaces, reaching its state through
    /// [`HasCapability::view`].
    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()>;
}

/// Store data that holds capability `C` (the [`HostState`](super::HostState)
/// holds every capability of the list).
pub(crate) trait HasCapability<C: Capability>: Send + 'static {
    /// What `C`'s host functions see of the instance.
    fn view(&mut self) -> View<'_, C>;
}

/// Which module an instance runs, and for which run.
#[derive(Clone)]
pub(crate) struct Instance {
    /// The run (none while `describe` runs at install).
    pub(crate) run: Option<Arc<RunContext>>,
    /// Module running in this instance.
    pub(crate) module: String,
    /// Backend key at which the module was found (none at install).
    pub(crate) module_backend: Option<BackendKey>,
    /// The installed module (none at install): a declarative connector's
    /// `[rest]` section is read from its manifest.
    pub(crate) installed: Option<Arc<Module>>,
}

impl Instance {
    /// The run, or a `denied` error while the module is only described.
    pub(crate) fn run(&self) -> Result<Arc<RunContext>, types::Error> {
        self.run.clone().ok_or_else(|| types::Error {
            kind: types::ErrorKind::Denied,
            message: "host APIs are not available while a module is being described".into(),
            retry_after_ms: None,
        })
    }
}

/// What capability `C`'s host functions see: its own state, the instance's
/// resource table, and which module runs for which run.
pub(crate) struct View<'a, C: Capability> {
    /// `C`'s state of this instance.
    pub(crate) state: &'a mut C::State,
    /// Resources of the instance (shared by every capability).
    pub(crate) table: &'a mut ResourceTable,
    /// The module and the run.
    pub(crate) instance: &'a Instance,
}

impl<C: Capability> View<'_, C> {
    /// The run, or a `denied` error while the module is only described.
    pub(crate) fn run(&self) -> Result<Arc<RunContext>, types::Error> {
        self.instance.run()
    }

    /// The module of this instance.
    pub(crate) fn module(&self) -> &str {
        &self.instance.module
    }

    /// Answer a WIT call that needs the run: `body` gets it (`denied` while
    /// the module is only described) and answers with a guest error or a
    /// value; host errors convert with `?` ([`types::Error`]'s `From`). The
    /// future does not borrow the view (the resource table is not `Sync`).
    pub(crate) fn with_run<T, F>(
        &self,
        body: F,
    ) -> impl Future<Output = WitResult<T>> + use<T, F, C>
    where
        F: AsyncFnOnce(Arc<RunContext>) -> Result<T, types::Error>,
    {
        let run = self.run();
        async move {
            match run {
                Ok(run) => Ok(body(run).await),
                Err(denied) => Ok(Err(denied)),
            }
        }
    }
}

/// The [`HasData`] of capability `C`: what wasmtime's generated
/// `add_to_linker` functions hand its `Host` implementations.
pub(crate) struct ViewOf<C>(PhantomData<C>);

impl<C: Capability> HasData for ViewOf<C> {
    type Data<'a> = View<'a, C>;
}

/// What one instance of a module is built from, as capability `C` sees it.
pub(crate) struct Setup<'a, C: Capability> {
    /// The module and the run.
    pub(crate) instance: &'a Instance,
    /// What the module's manifest asks for (none at install).
    pub(crate) manifest: Option<&'a Capabilities>,
    /// `C`'s configuration and run state (none at install).
    pub(crate) run: Option<(&'a C::Config, &'a Arc<C::RunState>)>,
    /// How deep in unit calls this instance is (0 for the job itself).
    pub(crate) depth: u32,
    /// How the run calls units (none at install).
    pub(crate) units: Option<Arc<dyn UnitCaller>>,
    /// WASI of the instance, granting nothing until a capability does.
    pub(crate) wasi: &'a mut WasiCtxBuilder,
}
