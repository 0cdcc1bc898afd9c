//! One scenario run in a scratch installation, on a [`Tape`].

use super::{Action, Scenario, Target};
use crate::cassette::Tape;
use crate::error::{Error, Result};
use crate::ferry::{Ferry, FerryOptions};
use crate::manifest::Manifest;
use crate::queue::WorkerConfig;
use crate::store::NewJob;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The instance every scenario runs on, in its scratch installation.
pub(crate) const INSTANCE: &str = "test";

/// Who acts in a scenario (the audit log's actor, the records' user).
const ACTOR: &str = "ferry test";

/// The connector version a scenario runs.
#[derive(Debug, Clone)]
pub enum Candidate {
    /// The module of this name as installed in the home installation.
    Installed(String),
    /// The connector in this folder (built, or declarative).
    Folder(PathBuf),
}

/// What one run left.
pub(crate) struct Outcome {
    /// The module and version that ran (`shop 1.2.0`).
    pub ran: String,
    /// Local result.
    pub snapshot: super::Snapshot,
}

/// What a run needs besides the candidate.
pub(crate) struct Setup<'a> {
    pub home: &'a Ferry,
    pub backend: String,
    pub params: Map<String, Value>,
    pub secrets: BTreeMap<String, String>,
    pub tape: Arc<Tape>,
}

/// Run `scenario` with `candidate` on `setup.tape`.
pub(crate) async fn run(
    setup: &Setup<'_>,
    candidate: &Candidate,
    scenario: &Scenario,
) -> Result<Outcome> {
    let scratch_dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("temp dir"), e))?;
    let scratch = open_scratch(setup, scratch_dir.path()).await?;
    let ran = install(setup.home, &scratch, candidate, scratch_dir.path()).await?;
    scratch
        .add_instance(INSTANCE, &setup.backend, setup.params.clone())
        .await?;
    if !setup.secrets.is_empty() {
        let key = crate::secrets::master_key(Some(&crate::secrets::key_file(scratch_dir.path())))?;
        for (name, value) in &setup.secrets {
            crate::secrets::set(scratch.store(), &key, INSTANCE, name, value, ACTOR).await?;
        }
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let action = step.action().map_err(Error::Invalid)?;
        perform(&scratch, &action).await.map_err(|e| {
            Error::Invalid(format!("scenario `{}`, step {}: {e}", scenario.name, i + 1))
        })?;
        drain(&scratch).await?;
    }
    let snapshot = super::Snapshot::take(scratch.store(), INSTANCE).await?;
    Ok(Outcome { ran, snapshot })
}

/// A scratch installation sharing the home's limits and compiled cache, its
/// outbound HTTP on the tape.
async fn open_scratch(setup: &Setup<'_>, dir: &Path) -> Result<Ferry> {
    let mut options = FerryOptions::new(dir);
    let mut engine = setup.home.engine().config().clone();
    engine.work_root = options.engine.work_root.take();
    engine.secret_key_file = options.engine.secret_key_file.take();
    engine.tape = Some(setup.tape.clone());
    options.engine = engine;
    Ferry::open_with(options).await
}

/// Copy the home's modules into `scratch` (the candidate's own module is
/// replaced by the candidate); returns the candidate's name and version.
async fn install(
    home: &Ferry,
    scratch: &Ferry,
    candidate: &Candidate,
    dir: &Path,
) -> Result<String> {
    let (name, folder) = match candidate {
        Candidate::Installed(name) => (name.clone(), None),
        Candidate::Folder(folder) => {
            let manifest = Manifest::load(&folder.join("connector.toml"))?;
            (manifest.module.name, Some(folder))
        }
    };
    let copies = dir.join("modules-copied");
    std::fs::create_dir_all(&copies).map_err(|e| Error::io(&copies, e))?;
    let mut found = None;
    // The `rest` runtime first: declarative connectors are installed on it.
    let mut modules = home.store().modules().await?;
    modules.sort_by_key(|m| m.name != ferry_manifest::declarative::RUNTIME_MODULE);
    for module in modules {
        if folder.is_some() && module.name == name {
            continue;
        }
        let bytes = home
            .store()
            .module_blob(&module.content_hash)
            .await?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "the component of module `{}` is missing from the database: install it again",
                    module.name
                ))
            })?;
        let manifest_path = copies.join(format!("{}.toml", module.name));
        let wasm_path = copies.join(format!("{}.wasm", module.name));
        std::fs::write(&manifest_path, &module.manifest)
            .map_err(|e| Error::io(&manifest_path, e))?;
        std::fs::write(&wasm_path, &bytes).map_err(|e| Error::io(&wasm_path, e))?;
        scratch.install(&manifest_path, &wasm_path).await?;
        if module.name == name {
            found = Some(format!("{} {}", module.name, module.version));
        }
    }
    if let Some(folder) = folder {
        let manifest = folder.join("connector.toml");
        let installed = if !crate::builder::is_declarative(&manifest) {
            let folder = folder.clone();
            let built =
                tokio::task::spawn_blocking(move || crate::builder::build_connector(&folder, None))
                    .await
                    .map_err(|e| Error::Invalid(format!("the build did not finish: {e}")))??;
            scratch.install(&built.manifest, &built.wasm).await?
        } else {
            scratch.install_declarative(&manifest).await?
        };
        found = Some(format!(
            "{} {}",
            installed.module.name, installed.module.version
        ));
    }
    found.ok_or_else(|| Error::NotFound {
        kind: "module",
        name,
        hint: " installed here to compare with: `ferry install DIR` first".into(),
    })
}

async fn perform(ferry: &Ferry, action: &Action) -> Result<()> {
    match action {
        Action::Job(job, data) => {
            let mut new = NewJob::new(INSTANCE, job, data);
            new.user = ACTOR.into();
            ferry.enqueue(&new).await?;
        }
        Action::Create(model, values) => {
            ferry
                .create_record(model, Value::Object(values.clone()), ACTOR)
                .await?;
        }
        Action::Change(model, target, set) => {
            let id = match target {
                Target::Id(id) => *id,
                Target::External(external) => {
                    ferry
                        .store()
                        .link_by_external(INSTANCE, model, external)
                        .await?
                        .ok_or_else(|| Error::NotFound {
                            kind: "link",
                            name: format!("{model}/{external}"),
                            hint: " (an earlier step must import it)".into(),
                        })?
                        .local_id
                }
            };
            ferry
                .write_record(model, id, Value::Object(set.clone()), ACTOR)
                .await?;
        }
    }
    Ok(())
}

/// Run the queue until nothing is left: one job at a time, so that requests
/// come in the same order on every run; short retries.
async fn drain(ferry: &Ferry) -> Result<()> {
    let config = WorkerConfig {
        until_idle: true,
        concurrency: 1,
        batch: 1,
        retry_base: Duration::from_millis(20),
        idle_horizon: Duration::from_secs(5),
        ..Default::default()
    };
    ferry.run_worker(&config, |_| {}).await?;
    Ok(())
}
