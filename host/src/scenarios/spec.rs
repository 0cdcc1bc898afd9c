//! `scenarios.toml`: [`Scenarios`], each [`Scenario`] and its [`Step`]s.

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file scenarios are read from, in a connector's folder.
pub const FILE: &str = "scenarios.toml";

/// A connector's `scenarios.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenarios {
    /// The backend instance the scenarios run on.
    #[serde(default)]
    pub instance: InstanceSpec,
    /// The scenarios, in order.
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<Scenario>,
    #[serde(skip)]
    dir: PathBuf,
}

/// The instance scenarios run on: `${NAME}` in a value is the environment
/// variable `NAME`, read when recording only (a replay runs with the params
/// kept in the cassette).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    /// The backend (default: the first one the connector's manifest declares).
    pub backend: Option<String>,
    /// Its params.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Its secrets (sealed in the scratch installation; never on tape).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// One scenario: steps run in order, the queue drained after each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name (the cassette's file name).
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

/// One step: a job enqueued, or a local record created or changed as a
/// person would (so that subscriptions fire).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Enqueue this job of the instance…
    pub job: Option<String>,
    /// …with this payload.
    #[serde(default)]
    pub data: Option<Value>,
    /// Create a local record of this model…
    pub create: Option<String>,
    /// …with these values.
    pub values: Option<Map<String, Value>>,
    /// Change a local record of this model…
    pub change: Option<String>,
    /// …found by local id…
    pub id: Option<i64>,
    /// …or by the external id it is linked to…
    pub external_id: Option<String>,
    /// …setting these values.
    pub set: Option<Map<String, Value>>,
}

/// What a [`Step`] does, checked.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Job(String, Value),
    Create(String, Map<String, Value>),
    Change(String, Target, Map<String, Value>),
}

/// The record a change step changes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Id(i64),
    External(String),
}

impl Step {
    pub(crate) fn action(&self) -> std::result::Result<Action, String> {
        match (&self.job, &self.create, &self.change) {
            (Some(job), None, None) => Ok(Action::Job(
                job.clone(),
                self.data.clone().unwrap_or_else(|| Value::Object(Map::new())),
            )),
            (None, Some(model), None) => Ok(Action::Create(
                model.clone(),
                self.values.clone().ok_or("`create` needs `values`")?,
            )),
            (None, None, Some(model)) => {
                let target = match (self.id, &self.external_id) {
                    (Some(id), None) => Target::Id(id),
                    (None, Some(external)) => Target::External(external.clone()),
                    _ => return Err("`change` needs one of `id` or `external_id`".into()),
                };
                let set = self.set.clone().ok_or("`change` needs `set`")?;
                Ok(Action::Change(model.clone(), target, set))
            }
            _ => Err(
                "a step is one of { job, data }, { create, values } or { change, id | external_id, set }"
                    .into(),
            ),
        }
    }
}

impl Scenarios {
    /// Read `DIR/scenarios.toml`, checking every step.
    pub fn load(dir: &Path) -> Result<Scenarios> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Invalid(format!(
                "{}: no scenarios to run: write one (docs/testing.md)",
                path.display()
            )),
            _ => Error::io(&path, e),
        })?;
        let invalid = |message: String| Error::Manifest {
            path: path.clone(),
            message,
        };
        let mut scenarios: Scenarios = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if scenarios.scenarios.is_empty() {
            return Err(invalid("no [[scenario]]: nothing to run".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for scenario in &scenarios.scenarios {
            let name = &scenario.name;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(format!(
                    "scenario name `{name}`: use letters, digits, `-` and `_` (it names the cassette file)"
                )));
            }
            if !names.insert(name) {
                return Err(invalid(format!("scenario `{name}` is written twice")));
            }
            for (i, step) in scenario.steps.iter().enumerate() {
                step.action()
                    .map_err(|e| invalid(format!("scenario `{name}`, step {}: {e}", i + 1)))?;
            }
        }
        scenarios.dir = dir.to_path_buf();
        Ok(scenarios)
    }

    /// The scenarios to run: all, or the one named `only`.
    pub fn select(&self, only: Option<&str>) -> Result<Vec<&Scenario>> {
        let chosen: Vec<&Scenario> = self
            .scenarios
            .iter()
            .filter(|s| only.is_none_or(|name| s.name == name))
            .collect();
        if chosen.is_empty() {
            let names: Vec<&str> = self.scenarios.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::NotFound {
                kind: "scenario",
                name: only.unwrap_or_default().into(),
                hint: format!(" (scenarios: {})", names.join(", ")),
            });
        }
        Ok(chosen)
    }

    /// Where scenario `name`'s cassette is kept.
    pub fn cassette_path(&self, name: &str) -> PathBuf {
        self.dir.join("cassettes").join(format!("{name}.json"))
    }

    /// The params for a live run, `${NAME}`s filled from the environment.
    pub fn live_params(&self) -> Result<Map<String, Value>> {
        self.instance
            .params
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::String(s) => Value::String(fill(s, &format!("params.{name}"))?),
                    other => other.clone(),
                };
                Ok((name.clone(), value))
            })
            .collect()
    }

    /// The secrets for a live run, `${NAME}`s filled from the environment.
    pub fn live_secrets(&self) -> Result<BTreeMap<String, String>> {
        self.instance
            .secrets
            .iter()
            .map(|(name, value)| Ok((name.clone(), fill(value, &format!("secrets.{name}"))?)))
            .collect()
    }
}

/// `text` with each `${NAME}` replaced by the environment variable `NAME`.
fn fill(text: &str, key: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + len];
        let value = std::env::var(name).map_err(|_| {
            Error::Invalid(format!(
                "{FILE}: [instance] {key} uses ${{{name}}}, which is not set: set {name} to the \
                 live value to record (a replay does not need it)"
            ))
        })?;
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Values a recording must never show: the secrets, and the params named
/// like one ([`crate::cassette::sensitive_name`]).
pub(crate) fn sensitive_values(
    params: &Map<String, Value>,
    secrets: &BTreeMap<String, String>,
) -> Vec<String> {
    let named = params.iter().filter_map(|(name, value)| match value {
        Value::String(s) if crate::cassette::sensitive_name(name) => Some(s.clone()),
        _ => None,
    });
    named.chain(secrets.values().cloned()).collect()
}
