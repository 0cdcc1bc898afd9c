//! `ferry:connector/conflicts`: records changed on both sides since their
//! last sync. A connector asks the operator's policy for a model and, under
//! `manual`, reports the conflict with both versions and the jobs that apply
//! either; a person resolves it later (`ferry conflicts`). Everything is
//! stored for the run's backend instance.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{Produced, RunContext};
use super::wit::{WitResult, check_model, final_error, parse_json, record_id};
use crate::bindings::conflicts::{self, Conflict, ConflictPolicy as WitPolicy};
use crate::bindings::types;
use crate::engine::config::EngineConfig;
use crate::store::{ConflictPolicy, JobRef, NewConflict, Store};
use serde_json::{Map, Value};
use wasmtime::component::Linker;

/// Conflicts of the backend instance. No state of its own: everything is in
/// the store.
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

fn wit_policy(policy: ConflictPolicy) -> WitPolicy {
    match policy {
        ConflictPolicy::RemoteWins => WitPolicy::RemoteWins,
        ConflictPolicy::LocalWins => WitPolicy::LocalWins,
        ConflictPolicy::NewestWins => WitPolicy::NewestWins,
        ConflictPolicy::Manual => WitPolicy::Manual,
    }
}

/// One version of the record: a JSON object within the payload limit.
fn version(run: &RunContext, what: &str, text: &str) -> Result<Map<String, Value>, types::Error> {
    run.check_payload(what, text)?;
    match parse_json(text, what)? {
        Value::Object(values) => Ok(values),
        other => Err(final_error(format!(
            "{what}: expected a JSON object of field values, got {other}"
        ))),
    }
}

/// A job reference: a job name and a JSON payload within the payload limit.
/// Whether the chain has the job is checked when it runs, as for any job.
fn job_ref(run: &RunContext, what: &str, job: conflicts::JobRef) -> Result<JobRef, types::Error> {
    if !crate::manifest::valid_name(&job.name) {
        return Err(final_error(format!(
            "{what}: {:?} is not a job name (letters, digits, `.`, `-` and `_`, 64 at most)",
            job.name
        )));
    }
    run.check_payload(&format!("{what} payload"), &job.payload)?;
    let payload = parse_json(&job.payload, &format!("{what} payload"))?;
    Ok(JobRef {
        name: job.name,
        payload,
    })
}

impl conflicts::Host for View<'_, Conflicts> {
    async fn policy(&mut self, model: String) -> WitResult<WitPolicy> {
        self.with_run(async move |run| {
            check_model(&model)?;
            let policy = run
                .store
                .conflict_policy(&run.instance.name, &model)
                .await?;
            Ok(wit_policy(policy))
        })
        .await
    }

    async fn report(&mut self, conflict: Conflict) -> WitResult<u64> {
        self.with_run(async move |run| {
            // A stored row, like a link: the same budget bounds a runaway loop.
            run.charge(Produced::Links)?;
            check_model(&conflict.model)?;
            run.check_key("external id", &conflict.external_id)?;
            let job = run.job.as_ref().map(|j| j.id);
            let new = NewConflict {
                instance: run.instance.name.clone(),
                local_id: record_id(conflict.local_id)?,
                external_id: conflict.external_id,
                local: version(&run, "conflict local version", &conflict.local)?,
                remote: version(&run, "conflict remote version", &conflict.remote)?,
                take_local: job_ref(&run, "take-local", conflict.take_local)?,
                take_remote: job_ref(&run, "take-remote", conflict.take_remote)?,
                model: conflict.model,
                job_id: job,
                reported_by: match job {
                    Some(id) => crate::audit::job(id),
                    None => crate::audit::run(&run.user),
                },
            };
            Ok(run.store.report_conflict(&new).await? as u64)
        })
        .await
    }
}
