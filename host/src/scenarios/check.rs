//! `ferry test` and `ferry install --canary`: record, replay, compare.

use super::run::{self, Candidate, Setup};
use super::snapshot::{self, Snapshot};
use super::{Scenario, Scenarios};
use crate::cassette::{Cassette, FORMAT, Redactor, Tape};
use crate::error::{Error, Result};
use crate::ferry::Ferry;
use crate::manifest::Manifest;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// How one scenario went.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: String,
    /// Its cassette.
    pub cassette: String,
    /// Requests recorded or replayed.
    pub requests: usize,
    /// Local records it left.
    pub records: usize,
    /// What makes it fail (empty: it passed).
    pub problems: Vec<String>,
}

impl ScenarioReport {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a new version does differently from the installed one in a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct CanaryReport {
    /// The scenario.
    pub scenario: String,
    /// The installed version (`shop 1.0.0`).
    pub installed: String,
    /// The new version.
    pub candidate: String,
    /// Differences in local writes and links (see [`snapshot::differences`]).
    pub local: Vec<String>,
    /// Differences in outbound requests.
    pub requests: Vec<String>,
}

/// The backend scenarios run on: the one `scenarios.toml` names, else the
/// first of the connector's manifest.
fn backend(scenarios: &Scenarios, dir: &Path) -> Result<String> {
    if let Some(backend) = &scenarios.instance.backend {
        return Ok(backend.clone());
    }
    let manifest = Manifest::load(&dir.join("connector.toml"))?;
    manifest
        .backends
        .first()
        .map(|b| b.key().to_string())
        .ok_or_else(|| Error::Invalid(format!("{}: no [[backend]] to test", dir.display())))
}

/// Run each scenario against the live API (params and secrets from
/// `scenarios.toml` and the environment) and write its cassette.
pub async fn record(home: &Ferry, dir: &Path, only: Option<&str>) -> Result<Vec<ScenarioReport>> {
    let scenarios = Scenarios::load(dir)?;
    let backend = backend(&scenarios, dir)?;
    let params = scenarios.live_params()?;
    let secrets = scenarios.live_secrets()?;
    let redactor = Redactor::new(super::sensitive_values(&params, &secrets));
    let mut reports = Vec::new();
    for scenario in scenarios.select(only)? {
        let tape = Arc::new(Tape::record(redactor.clone()));
        let setup = Setup {
            home,
            backend: backend.clone(),
            params: params.clone(),
            secrets: secrets.clone(),
            tape: tape.clone(),
        };
        let outcome = run::run(&setup, &Candidate::Folder(dir.to_path_buf()), scenario).await?;
        let cassette = Cassette {
            format: FORMAT,
            scenario: scenario.name.clone(),
            recorded_with: outcome.ran,
            recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            params: redactor.params(&params),
            interactions: tape.interactions(),
            result: serde_json::to_value(&outcome.snapshot)?,
        };
        let path = scenarios.cassette_path(&scenario.name);
        cassette.save(&path)?;
        reports.push(ScenarioReport {
            scenario: scenario.name.clone(),
            cassette: path.display().to_string(),
            requests: cassette.interactions.len(),
            records: outcome.snapshot.records.len(),
            problems: outcome.snapshot.failed.clone(),
        });
    }
    Ok(reports)
}

/// A scenario's cassette, or an error naming the file and how to make it.
fn cassette(scenarios: &Scenarios, scenario: &Scenario) -> Result<Cassette> {
    let path = scenarios.cassette_path(&scenario.name);
    if !path.exists() {
        return Err(Error::Invalid(format!(
            "scenario `{}`: no cassette at {}: record it with `ferry test DIR --record` against the live API",
            scenario.name,
            path.display()
        )));
    }
    Cassette::load(&path)
}

/// The setup of a replay of `cassette`: its params, secrets as placeholders.
fn replay_setup<'a>(
    home: &'a Ferry,
    scenarios: &Scenarios,
    backend: &str,
    cassette: &Cassette,
    strict: bool,
) -> Setup<'a> {
    let secrets = scenarios
        .instance
        .secrets
        .keys()
        .map(|name| (name.clone(), crate::cassette::REDACTED.to_string()))
        .collect();
    Setup {
        home,
        backend: backend.to_string(),
        params: cassette.params.clone(),
        secrets,
        tape: Arc::new(Tape::replay(cassette, strict, Redactor::default())),
    }
}

/// Replay each scenario's cassette with no network: a request with no
/// recording, a recording nobody asked, or a local result other than the
/// recorded one is a problem, named.
pub async fn replay(home: &Ferry, dir: &Path, only: Option<&str>) -> Result<Vec<ScenarioReport>> {
    let scenarios = Scenarios::load(dir)?;
    let backend = backend(&scenarios, dir)?;
    let mut reports = Vec::new();
    for scenario in scenarios.select(only)? {
        let cassette = cassette(&scenarios, scenario)?;
        let setup = replay_setup(home, &scenarios, &backend, &cassette, true);
        let outcome = run::run(&setup, &Candidate::Folder(dir.to_path_buf()), scenario).await?;
        let played = setup.tape.played();
        let mut problems = Vec::new();
        for line in &played.unmatched {
            problems.push(format!("request not in the cassette: {line}"));
        }
        for line in &played.unplayed {
            problems.push(format!("recorded request never made: {line}"));
        }
        let recorded: Snapshot = serde_json::from_value(cassette.result.clone())?;
        for line in snapshot::differences(&recorded, &outcome.snapshot) {
            problems.push(format!("local result: {line}"));
        }
        reports.push(ScenarioReport {
            scenario: scenario.name.clone(),
            cassette: scenarios
                .cassette_path(&scenario.name)
                .display()
                .to_string(),
            requests: played.asked.len(),
            records: outcome.snapshot.records.len(),
            problems,
        });
    }
    Ok(reports)
}

/// Replay each scenario through the installed version of the connector in
/// `dir` and through `dir` itself, and tell what differs: local writes,
/// links, outbound requests. Installs nothing.
pub async fn canary(home: &Ferry, dir: &Path, only: Option<&str>) -> Result<Vec<CanaryReport>> {
    let scenarios = Scenarios::load(dir)?;
    let backend = backend(&scenarios, dir)?;
    let name = Manifest::load(&dir.join("connector.toml"))?.module.name;
    let mut reports = Vec::new();
    for scenario in scenarios.select(only)? {
        let cassette = cassette(&scenarios, scenario)?;
        let old_setup = replay_setup(home, &scenarios, &backend, &cassette, false);
        let old = run::run(&old_setup, &Candidate::Installed(name.clone()), scenario).await?;
        let new_setup = replay_setup(home, &scenarios, &backend, &cassette, false);
        let new = run::run(&new_setup, &Candidate::Folder(dir.to_path_buf()), scenario).await?;
        let (old_asked, new_asked) = (old_setup.tape.played().asked, new_setup.tape.played().asked);
        reports.push(CanaryReport {
            scenario: scenario.name.clone(),
            installed: old.ran,
            candidate: new.ran,
            local: snapshot::differences(&old.snapshot, &new.snapshot),
            requests: snapshot::request_differences(&old_asked, &new_asked),
        });
    }
    Ok(reports)
}
