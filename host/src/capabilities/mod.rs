//! The host side of the WIT contract: one folder per capability, each with
//! the same shape (like Spin's factors, see `capability.rs`).
//!
//! | capability | what the guest gets |
//! |---|---|
//! | [`session`] | the context of a call, local records |
//! | [`events`] | custom events, runtime subscriptions |
//! | [`jobs`] | enqueue jobs, the running job's progress, `lock-or-retry` |
//! | [`links`] | bindings of the backend instance |
//! | [`units`] | calls to units of the backend chain |
//! | [`http`] | outbound `wasi:http`, under the manifest's policy |
//! | [`secrets`] | revealed secrets |
//! | [`files`] | the work directory (WASI files) |
//! | [`cursors`] | how far a job has read a stream, committed with the job |
//! | [`conflicts`] | records changed on both sides: policies, reports |
//! | [`messaging`] | messages to topics, written to the outbox with the job |
//! | [`meta`] | the instance's key-value store (local or Redis), by granted prefixes |
//! | [`blobs`] | the instance's object data (a granted directory or an S3 bucket), by granted prefixes |
//!
//! Each folder owns its configuration (from the engine configuration and the
//! module's manifest), its state per run and per instance, the `Host` traits
//! of its WIT interface (implemented on its `View`) and
//! its linker registration. The code that runs guests ([`crate::invoke`])
//! hands each capability a plain [`RunContext`]; a capability never reaches
//! into it. [`HostState`], the `T` of every `Store<T>`, is WASI (granting
//! nothing), the resource table, the memory limit, and one field per
//! capability, all from the one list below.
//!
//! Every WIT function answers `result<_, error>` for what the guest did wrong
//! or the outside world refused, and traps only on host bugs (a missing
//! resource): see `wit.rs`.
//!
//! # Adding a capability
//!
//! 1. Describe its interface in `wit/` and import it in the `connector` world
//!    (a new contract version gets its own folder: see [`crate::bindings`]).
//! 2. Make a folder here, `capabilities/NAME/mod.rs`, with a unit struct
//!    `Name` that implements `Capability` (`capability.rs`):
//!    - `type Config` from the [`EngineConfig`]
//!      (`config`), `type RunState` for what the run's instances share
//!      (`run_state`), `type State` for one instance (`state`: from the run,
//!      the module's manifest, the WASI builder); `()` where there is none;
//!    - `add_to_linker`: the generated `add_to_linker` of its interface with
//!      `ViewOf<Name>` and `T::view`;
//!    - `impl name::Host for View<'_, Name>`: a function that needs the run
//!      is `self.with_run(async move |run| { … }).await`, host errors
//!      converting with `?`.
//! 3. Add one line to the list below: `name: name::Name,` (and
//!    `pub mod name;` above it).
//! 4. If the operator configures it, add its field to `EngineConfig`
//!    (`engine/config.rs`); if its interface has resources, map them to its
//!    types in the `with:` of [`crate::bindings`].
//!
//! So a capability is three files: its WIT (`wit/…/types.wit`, interface
//! and world import), its folder (`capabilities/NAME/mod.rs`) and its line
//! here; plus `engine/config.rs` when the operator configures it and
//! `bindings.rs` when its interface has resources (5 at most), and its tests.
//! Nothing in [`crate::invoke`], [`crate::engine`] or `HostState` changes.

pub mod blobs;
pub(crate) mod capability;
pub mod conflicts;
pub mod context;
pub mod cursors;
pub mod events;
pub mod files;
pub mod http;
pub mod jobs;
pub mod links;
mod memory;
pub mod messaging;
pub mod meta;
pub mod secrets;
pub mod session;
mod store_access;
pub mod units;
pub(crate) mod wit;

pub use context::{RunContext, UnitCall};
pub(crate) use memory::MemoryLimit;

use crate::backend::{BackendKey, Module};
use crate::bindings::types;
use crate::engine::config::EngineConfig;
use crate::store::Store;
use capability::{Capability, HasCapability, Instance, Setup, View};
use context::UnitCaller;
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much of a guest's stderr (panic messages) is kept.
const STDERR_CAPACITY: usize = 64 << 10;
/// Host resources (sessions, HTTP fields, streams…) one instance may hold.
const MAX_RESOURCES: usize = 10_000;

/// The list of capabilities: for each, a field of [`Configs`], of
/// [`RunStates`] and of [`HostState`], and its interfaces in the linker.
macro_rules! capabilities {
    ($($field:ident: $cap:ty,)*) => {
        /// The configuration of every capability, built once per process.
        pub struct Configs {
            $(pub(crate) $field: <$cap as Capability>::Config,)*
        }

        impl Configs {
            /// Every capability's configuration, from the engine's.
            pub(crate) fn new(engine: &EngineConfig, store: &Store) -> Self {
                Configs {
                    $($field: <$cap>::config(engine, store),)*
                }
            }
        }

        /// What the instances of one run share, per capability.
        pub struct RunStates {
            $(pub(crate) $field: Arc<<$cap as Capability>::RunState>,)*
        }

        impl RunStates {
            /// Every capability's state of the run `run`.
            pub(crate) fn new(configs: &Configs, run: &RunContext) -> Self {
                RunStates {
                    $($field: Arc::new(<$cap>::run_state(&configs.$field, run)),)*
                }
            }
        }

        /// Every capability's state of one instance.
        struct InstanceStates {
            $($field: <$cap as Capability>::State,)*
        }

        impl InstanceStates {
            fn new(
                instance: &Instance,
                run: Option<&InstanceRun<'_>>,
                depth: u32,
                wasi: &mut wasmtime_wasi::WasiCtxBuilder,
            ) -> Self {
                InstanceStates {
                    $($field: <$cap>::state(&mut Setup {
                        instance,
                        manifest: run.map(|r| &r.module.manifest.capabilities),
                        run: run.map(|r| (&r.configs.$field, &r.states.$field)),
                        depth,
                        units: run.map(|r| r.units.clone()),
                        wasi: &mut *wasi,
                    }),)*
                }
            }
        }

        $(impl HasCapability<$cap> for HostState {
            fn view(&mut self) -> View<'_, $cap> {
                View {
                    state: &mut self.capabilities.$field,
                    table: &mut self.table,
                    instance: &self.instance,
                }
            }
        })*

        fn link_capabilities(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
            $(<$cap>::add_to_linker(linker)?;)*
            Ok(())
        }
    };
}

capabilities! {
    session: session::Session,
    events: events::Events,
    jobs: jobs::Jobs,
    links: links::Links,
    units: units::Units,
    http: http::Http,
    secrets: secrets::Secrets,
    files: files::Files,
    cursors: cursors::Cursors,
    conflicts: conflicts::Conflicts,
    messaging: messaging::Messaging,
    meta: meta::Meta,
    blobs: blobs::Blobs,
}

/// The run an instance serves, for [`HostState::new`].
pub(crate) struct InstanceRun<'a> {
    /// The run.
    pub(crate) context: &'a Arc<RunContext>,
    /// The capabilities' configuration.
    pub(crate) configs: &'a Configs,
    /// The capabilities' state of the run.
    pub(crate) states: &'a RunStates,
    /// How the run calls units.
    pub(crate) units: Arc<dyn UnitCaller>,
    /// Backend key at which the module was found.
    pub(crate) module_backend: BackendKey,
    /// The module (its manifest: what it asks for).
    pub(crate) module: &'a Arc<Module>,
}

/// The `T` of every `Store<T>`: the state of one instance of one module.
pub struct HostState {
    pub(crate) instance: Instance,
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    pub(crate) limits: MemoryLimit,
    pub(crate) stderr: MemoryOutputPipe,
    capabilities: InstanceStates,
}

impl HostState {
    /// State for one instance of `module` serving `run` (none while the
    /// module is described): WASI with nothing granted but what the
    /// capabilities grant.
    pub(crate) fn new(
        module: &str,
        run: Option<InstanceRun<'_>>,
        depth: u32,
        memory: MemoryLimit,
    ) -> Self {
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // Nothing granted: no preopened dirs, no env, no args, no sockets, no
        // name lookups. Stdout is dropped; stderr is kept for panic messages.
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let instance = Instance {
            run: run.as_ref().map(|r| r.context.clone()),
            module: module.to_string(),
            module_backend: run.as_ref().map(|r| r.module_backend.clone()),
            installed: run.as_ref().map(|r| r.module.clone()),
        };
        let capabilities = InstanceStates::new(&instance, run.as_ref(), depth, &mut wasi);
        HostState {
            instance,
            table,
            wasi: wasi.build(),
            limits: memory,
            stderr,
            capabilities,
        }
    }

    /// What the guest wrote to stderr (a panic message, typically), trimmed.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

/// Link WASI (granting nothing), the shared WIT types, and every capability
/// of the list.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    types::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    link_capabilities(linker)
}
