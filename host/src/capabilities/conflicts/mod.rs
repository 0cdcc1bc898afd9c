//! `ferry:connector/conflicts`: records changed on both sides since their
//! last sync. SCAFFOLD (issue 13): filled in by the conflicts work.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::wit::{WitResult, final_error};
use crate::bindings::conflicts::{self, Conflict, ConflictPolicy};
use crate::engine::config::EngineConfig;
use crate::store::Store;
use wasmtime::component::Linker;

/// Conflicts of the backend instance.
pub struct Conflicts;

impl Capability for Conflicts {
    type Config = ();
    type RunState = ();
    type State = ();

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) {}

    fn state(_setup: &mut Setup<'_, Self>) {}

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        conflicts::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl conflicts::Host for View<'_, Conflicts> {
    async fn policy(&mut self, _model: String) -> WitResult<ConflictPolicy> {
        Ok(Ok(ConflictPolicy::Manual))
    }

    async fn report(&mut self, _conflict: Conflict) -> WitResult<u64> {
        Ok(Err(final_error("conflicts.report: not built yet")))
    }
}
