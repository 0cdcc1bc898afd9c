//! `ferry:connector/cursors`: how far a job has read a stream of changes.
//!
//! In a job, `set` is staged in the run (shared by the instances of every
//! module the run calls) and handed to the queue with the job's outcome: it
//! commits in the transaction that marks the job done, fenced by the claim's
//! lease, and a failed try drops it (see [`crate::store::CursorWrite`]).
//! Outside a job (a webhook, a unit called from the CLI) there is no
//! completion to ride on, so it commits at once.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::wit::{WitResult, final_error, parse_json};
use crate::bindings::cursors;
use crate::engine::config::EngineConfig;
use crate::store::{CursorWrite, Store, check_cursor_name};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use wasmtime::component::Linker;

/// Streams one run may stage cursors of: a run that sets more is not
/// keeping cursors but storing data in them.
pub const MAX_CURSORS_PER_RUN: usize = 256;

/// Cursors of the backend instance.
pub struct Cursors;

/// The cursors a job's run set, by stream: the last `set` of each wins.
#[derive(Debug, Default)]
pub struct CursorsRun {
    staged: Mutex<BTreeMap<String, String>>,
}

impl CursorsRun {
    /// Take the staged values, as writes for the run's `instance`.
    pub(crate) fn take(&self, instance: &str) -> Vec<CursorWrite> {
        let staged = std::mem::take(&mut *self.staged.lock().unwrap_or_else(|p| p.into_inner()));
        staged
            .into_iter()
            .map(|(name, value)| CursorWrite {
                instance: instance.to_string(),
                name,
                value,
            })
            .collect()
    }
}

impl Capability for Cursors {
    type Config = ();
    type RunState = CursorsRun;
    type State = Option<Arc<CursorsRun>>;

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) -> CursorsRun {
        CursorsRun::default()
    }

    fn state(setup: &mut Setup<'_, Self>) -> Self::State {
        setup.run.map(|(_, run)| run.clone())
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        cursors::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

/// A cursor name the guest gave, or a final error saying what names are.
fn checked(name: &str) -> Result<(), crate::bindings::types::Error> {
    check_cursor_name(name).map_err(|e| final_error(e.to_string()))
}

impl cursors::Host for View<'_, Cursors> {
    async fn get(&mut self, name: String) -> WitResult<Option<String>> {
        self.with_run(async move |run| {
            checked(&name)?;
            // The committed value: what this run staged commits only with it.
            let value = run.store.cursor(&run.instance.name, &name).await?;
            Ok(value.map(|v| v.to_string()))
        })
        .await
    }

    async fn set(&mut self, name: String, value: String) -> WitResult<()> {
        let staged = self.state.clone();
        self.with_run(async move |run| {
            checked(&name)?;
            run.check_payload(&format!("value of cursor {name}"), &value)?;
            let parsed = parse_json(&value, &format!("value of cursor {name}"))?;
            let (Some(job), Some(staged)) = (&run.job, staged) else {
                run.store
                    .set_cursor(&run.instance.name, &name, &parsed, None)
                    .await?;
                return Ok(());
            };
            let mut staged = staged.staged.lock().unwrap_or_else(|p| p.into_inner());
            if !staged.contains_key(&name) && staged.len() >= MAX_CURSORS_PER_RUN {
                return Err(final_error(format!(
                    "cursor {name}: job {} already set {MAX_CURSORS_PER_RUN} cursors, \
                     the most one run may set",
                    job.id
                )));
            }
            // Stored as given (re-serialised: one canonical text per value).
            staged.insert(name, parsed.to_string());
            Ok(())
        })
        .await
    }
}
