//! What a component reports through `describe`: its units, jobs and events,
//! checked before the host trusts any of it.

use crate::jobs::{JobParam, StepDecl, check_params, check_steps};
use crate::names::valid_name;
use crate::subscription::is_record_event;
use serde::{Deserialize, Serialize};

/// A unit a module implements (from `describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitDecl {
    /// Kind: mapper, adapter, binder, importer, exporter, deleter or custom.
    pub kind: String,
    /// Model, or `*`.
    pub model: String,
    /// Methods it answers.
    pub methods: Vec<String>,
}

/// A job a module implements (from `describe`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDecl {
    /// Job name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its typed parameters (contract 0.2; none from a 0.1 component).
    #[serde(default)]
    pub params: Vec<JobParam>,
    /// Its steps, in order; empty for a plain job (`run-job`).
    #[serde(default)]
    pub steps: Vec<StepDecl>,
}

/// What a component reports through `describe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// Its units.
    pub units: Vec<UnitDecl>,
    /// Its jobs.
    pub jobs: Vec<JobDecl>,
    /// Custom events it may emit.
    pub events: Vec<String>,
    /// SDK version that built it.
    pub sdk_version: String,
}

/// Most units, jobs or events one component may declare.
const MAX_DECLARED: usize = 1_000;
/// Bytes of a job's description.
const MAX_DESCRIPTION: usize = 1_024;

impl Description {
    /// Check what a component reported: names are names (they are shown to
    /// operators and matched exactly), descriptions are short single-line
    /// text, the `ferry.` job names are the host's, and the lists are bounded.
    pub fn check(&self) -> std::result::Result<(), String> {
        let name = |what: &str, n: &str| {
            if valid_name(n) {
                Ok(())
            } else {
                Err(format!(
                    "{what} {n:?} is not a name (letters, digits, `.`, `-` and `_`, 64 at most)"
                ))
            }
        };
        for (what, count) in [
            ("units", self.units.len()),
            ("jobs", self.jobs.len()),
            ("events", self.events.len()),
        ] {
            if count > MAX_DECLARED {
                return Err(format!("{count} {what} declared; {MAX_DECLARED} at most"));
            }
        }
        for u in &self.units {
            name("unit kind", &u.kind)?;
            if u.model != "*" {
                name("unit model", &u.model)?;
            }
            for m in &u.methods {
                name("unit method", m)?;
            }
        }
        for j in &self.jobs {
            name("job", &j.name)?;
            if j.name.starts_with("ferry.") {
                return Err(format!(
                    "job `{}`: names starting with `ferry.` are the host's own",
                    j.name
                ));
            }
            if j.description.len() > MAX_DESCRIPTION || j.description.chars().any(char::is_control)
            {
                return Err(format!(
                    "job `{}`: its description must be one line of {MAX_DESCRIPTION} bytes at most",
                    j.name
                ));
            }
            check_params(&j.name, &j.params)?;
            check_steps(&j.name, &j.steps)?;
        }
        for e in &self.events {
            name("event", e)?;
            if is_record_event(e) {
                return Err(format!(
                    "event `{e}`: `record.*` events are the host's own; a module cannot emit them"
                ));
            }
        }
        if self.sdk_version.len() > 64 || self.sdk_version.chars().any(char::is_control) {
            return Err("the SDK version must be one short line".into());
        }
        Ok(())
    }

    /// Whether it has a unit of `kind` for `model` (or for every model).
    pub fn has_unit(&self, kind: &str, model: &str) -> bool {
        self.units
            .iter()
            .any(|u| u.kind == kind && (u.model == model || u.model == "*"))
    }
    /// Whether it has a job of this name.
    pub fn has_job(&self, name: &str) -> bool {
        self.jobs.iter().any(|j| j.name == name)
    }
}
