//! The host side of the WIT contract: one module per capability.
//!
//! Each capability module (`session`, `events`, `jobs`, `links`, `units`,
//! `secrets`, `http`) has the same shape, like Spin's factors: its per-instance
//! state (a resource type, or fields of [`HostState`]), its configuration, and
//! the `Host` trait implementations of its WIT interface. Adding a capability
//! means adding one module and one line in [`add_to_linker`] (a Ferry
//! interface imported by the world is linked by `Connector::add_to_linker`).
//!
//! Every WIT function answers `result<_, error>` for what the guest did wrong
//! or the outside world refused, and traps only on host bugs (a missing resource).

pub mod events;
pub mod files;
pub mod http;
pub mod jobs;
pub mod links;
pub mod secrets;
pub mod session;
pub mod units;

use crate::backend::BackendKey;
use crate::bindings::{Connector, types};
use crate::error::Error;
use crate::invoke::CallScope;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::ResourceLimiter;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// How much of a guest's stderr (panic messages) is kept.
const STDERR_CAPACITY: usize = 64 << 10;
/// Host resources (sessions, HTTP fields, streams…) one instance may hold.
const MAX_RESOURCES: usize = 10_000;

/// The `T` of every `Store<T>`: the state of one instance of one module.
pub struct HostState {
    /// The call this instance serves (none while `describe` runs at install).
    pub(crate) scope: Option<Arc<CallScope>>,
    /// Module running in this instance.
    pub(crate) module: String,
    /// Backend key at which the module was found (none at install).
    pub(crate) module_backend: Option<BackendKey>,
    /// How deep in unit calls this instance is (0 for the job itself).
    pub(crate) depth: u32,
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) outbound: http::OutboundPolicy,
    pub(crate) limits: MemoryLimit,
    pub(crate) stderr: MemoryOutputPipe,
}

impl HostState {
    /// State for one instance: WASI with nothing granted, HTTP limited to `outbound`.
    pub(crate) fn new(
        scope: Option<Arc<CallScope>>,
        module: &str,
        module_backend: Option<BackendKey>,
        depth: u32,
        outbound: http::OutboundPolicy,
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
        // The one exception: a work directory, if the manifest asks for it.
        if let (Some(scope), Some(at)) = (&scope, &module_backend)
            && let Some(found) = scope.registry.module_at(at)
            && let Some(decl) = &found.manifest.capabilities.work_dir
        {
            files::grant_work_dir(&mut wasi, scope, module, decl);
        }
        let wasi = wasi.build();
        HostState {
            scope,
            module: module.to_string(),
            module_backend,
            depth,
            table,
            wasi,
            http: WasiHttpCtx::new(),
            outbound,
            limits: memory,
            stderr,
        }
    }

    /// The call scope, or a `denied` error while the module is only described.
    pub(crate) fn scope(&self) -> Result<Arc<CallScope>, types::Error> {
        self.scope.clone().ok_or_else(|| types::Error {
            kind: types::ErrorKind::Denied,
            message: "host APIs are not available while a module is being described".into(),
            retry_after_ms: None,
        })
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

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// Memory cap of one run: the linear memories of every instance of the run
/// (the job's and its nested unit calls') count against one budget. Also caps
/// the instance's tables, and remembers which limit stopped a guest so that
/// its failure can say so.
pub(crate) struct MemoryLimit {
    pub(crate) max: usize,
    /// Elements one table may hold.
    pub(crate) max_table_elements: usize,
    /// Fuel the instance was given, when counted.
    pub(crate) fuel: Option<u64>,
    /// Set when a table could not grow.
    pub(crate) table_exceeded: bool,
    /// Bytes of the whole run, shared by its instances.
    run_used: Arc<AtomicUsize>,
    /// Bytes of this instance (given back when it is dropped).
    used: usize,
    pub(crate) exceeded: bool,
}

impl MemoryLimit {
    /// A limit of `max` bytes shared through `run_used`.
    pub(crate) fn new(max: usize, run_used: Arc<AtomicUsize>) -> Self {
        MemoryLimit {
            max,
            max_table_elements: 100_000,
            fuel: None,
            table_exceeded: false,
            run_used,
            used: 0,
            exceeded: false,
        }
    }
}

impl Drop for MemoryLimit {
    fn drop(&mut self) {
        self.run_used.fetch_sub(self.used, Ordering::Relaxed);
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let delta = desired.saturating_sub(current);
        let before = self.run_used.fetch_add(delta, Ordering::Relaxed);
        if before.saturating_add(delta) > self.max {
            self.run_used.fetch_sub(delta, Ordering::Relaxed);
            self.exceeded = true;
            return Ok(false);
        }
        self.used += delta;
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_table_elements {
            self.table_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }
}

/// Link WASI (granting nothing), `wasi:http` (checked by [`http`]) and the
/// Ferry interfaces (every interface the world imports: `session`, `events`,
/// `jobs`, `links`, `units`, `secrets`).
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    Connector::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    Ok(())
}

impl types::Host for HostState {}

/// A host error as the guest sees it: what it should do about it.
impl From<Error> for types::Error {
    fn from(err: Error) -> Self {
        use types::ErrorKind;
        let kind = match &err {
            Error::NotFound { .. } | Error::NotFoundInChain { .. } => ErrorKind::NotFound,
            // The database may come back: the job is worth retrying. What it
            // refused because of the request (a guest's bad query) it refuses
            // on every try.
            e if e.is_transient() => ErrorKind::Retryable,
            _ => ErrorKind::Final,
        };
        types::Error {
            kind,
            message: err.to_string(),
            retry_after_ms: None,
        }
    }
}

/// What a host function returns for `result<T, error>`: traps outside, guest
/// errors inside.
pub(crate) type WitResult<T> = wasmtime::Result<Result<T, types::Error>>;

/// A `final` WIT error.
pub(crate) fn final_error(message: impl Into<String>) -> types::Error {
    types::Error {
        kind: types::ErrorKind::Final,
        message: message.into(),
        retry_after_ms: None,
    }
}

/// A `denied` WIT error: the guest asked for what it is not granted.
pub(crate) fn denied(message: impl Into<String>) -> types::Error {
    types::Error {
        kind: types::ErrorKind::Denied,
        message: message.into(),
        retry_after_ms: None,
    }
}

/// Parse guest JSON, or a final error naming what it was for.
pub(crate) fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, types::Error> {
    serde_json::from_str(text).map_err(|e| final_error(format!("{what}: invalid JSON: {e}")))
}

/// Refuse a model name that is not a name (see [`crate::manifest::valid_name`]).
pub(crate) fn check_model(model: &str) -> Result<(), types::Error> {
    if crate::manifest::valid_name(model) {
        Ok(())
    } else {
        Err(final_error(format!(
            "model {model:?} is not a model name (letters, digits, `.`, `-` and `_`, 64 at most)"
        )))
    }
}

/// A local record id as stored (ids above i64::MAX cannot exist).
pub(crate) fn record_id(id: u64) -> Result<i64, types::Error> {
    i64::try_from(id).map_err(|_| final_error(format!("record id {id} is out of range")))
}
