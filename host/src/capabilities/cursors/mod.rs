//! `ferry:connector/cursors`: how far a job has read a stream of changes.
//! SCAFFOLD (issue 13): filled in by the links/cursors work.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::wit::{WitResult, final_error};
use crate::bindings::cursors;
use crate::engine::config::EngineConfig;
use crate::store::Store;
use wasmtime::component::Linker;

/// Cursors of the backend instance.
pub struct Cursors;

impl Capability for Cursors {
    type Config = ();
    type RunState = ();
    type State = ();

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) {}

    fn state(_setup: &mut Setup<'_, Self>) {}

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        cursors::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl cursors::Host for View<'_, Cursors> {
    async fn get(&mut self, _name: String) -> WitResult<Option<String>> {
        Ok(Err(final_error("cursors.get: not built yet")))
    }

    async fn set(&mut self, _name: String, _value: String) -> WitResult<()> {
        Ok(Err(final_error("cursors.set: not built yet")))
    }
}
