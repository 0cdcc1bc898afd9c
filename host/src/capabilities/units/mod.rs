//! `ferry:connector/units`: one module calls a unit through the host, looked up
//! along the backend chain; each call runs in a fresh instance of the module
//! that answers.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{RunContext, UnitCall, UnitCaller};
use super::wit::WitResult;
use crate::bindings::{types, units};
use crate::engine::config::EngineConfig;
use crate::store::Store;
use std::sync::Arc;
use wasmtime::component::Linker;

/// Units: calls to the units of the backend chain.
pub struct Units;

/// How one instance calls units.
pub struct UnitsState {
    /// How the run calls a unit (none while the module is described).
    caller: Option<Arc<dyn UnitCaller>>,
    /// How deep in unit calls this instance is (0 for the job itself).
    depth: u32,
}

impl Capability for Units {
    type Config = ();
    type RunState = ();
    type State = UnitsState;

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) {}

    fn state(setup: &mut Setup<'_, Self>) -> UnitsState {
        UnitsState {
            caller: setup.units.clone(),
            depth: setup.depth,
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        units::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl View<'_, Units> {
    async fn call_from(&mut self, from_parent: bool, call: UnitCall) -> WitResult<String> {
        let (run, caller) = match (self.run(), &self.state.caller) {
            (Ok(run), Some(caller)) => (run, caller.clone()),
            (Err(e), _) => return Ok(Err(e)),
            // The instances of a run are always given one: a host bug.
            (Ok(_), None) => return Err(wasmtime::Error::msg("no unit caller in this run")),
        };
        let start = if from_parent {
            let here = self
                .instance
                .module_backend
                .clone()
                .unwrap_or_else(|| run.instance_key.clone());
            match run.registry.parent(&here) {
                Some(parent) => parent.clone(),
                None => {
                    return Ok(Err(types::Error {
                        kind: types::ErrorKind::NotFound,
                        message: format!(
                            "module `{}` (backend `{here}`) has no parent backend to call",
                            self.module()
                        ),
                        retry_after_ms: None,
                    }));
                }
            }
        } else {
            run.instance_key.clone()
        };
        caller.call_unit(start, self.state.depth + 1, call).await
    }
}

impl units::Host for View<'_, Units> {
    async fn call(
        &mut self,
        kind: String,
        model: String,
        method: String,
        payload: String,
    ) -> WitResult<String> {
        self.call_from(
            false,
            UnitCall {
                kind,
                model,
                method,
                payload,
            },
        )
        .await
    }

    async fn call_parent(
        &mut self,
        kind: String,
        model: String,
        method: String,
        payload: String,
    ) -> WitResult<String> {
        self.call_from(
            true,
            UnitCall {
                kind,
                model,
                method,
                payload,
            },
        )
        .await
    }
}
