//! Backends, their versions and parents, and the registry of installed modules.
//!
//! A backend key is `name` or `name@version` (`shop`, `shop@1.7`, `shop@2.0`).
//! Each key is implemented by at most one module, which also says which key is
//! its parent. A lookup (a unit, a job) starts at a key and walks up the
//! parents until a module answers: `shop@2.0 → shop@1.7 → shop`.
//!
//! The registry is an immutable snapshot: installing a module builds a new one,
//! and runs already going keep the snapshot they started with.

use crate::bindings::ConnectorPre;
use crate::capabilities::HostState;
use crate::error::{Error, Result};
use crate::manifest::{Manifest, valid_name};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// `name` or `name@version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BackendKey(String);

impl BackendKey {
    /// The key of a name and optional version.
    pub fn new(name: &str, version: Option<&str>) -> Self {
        match version {
            Some(v) => BackendKey(format!("{name}@{v}")),
            None => BackendKey(name.to_string()),
        }
    }

    /// Parse `name` or `name@version`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match text.split_once('@') {
            Some((name, version)) if ok(name) && ok(version) => Ok(Self::new(name, Some(version))),
            None if ok(text) => Ok(Self::new(text, None)),
            _ => Err(format!(
                "`{text}` is not a backend key (expected `name` or `name@version`, e.g. `shop@2.0`)"
            )),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDecl {
    /// Job name.
    pub name: String,
    /// What it does.
    pub description: String,
}

/// What a component reports through `describe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
        }
        for e in &self.events {
            name("event", e)?;
            if crate::manifest::is_record_event(e) {
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

/// An installed module, ready to instantiate.
pub struct Module {
    /// The manifest.
    pub manifest: Manifest,
    /// What the component implements.
    pub description: Description,
    /// SHA-256 of the component, hex.
    pub content_hash: String,
    pub(crate) pre: ConnectorPre<HostState>,
}

impl Module {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.manifest.module.name
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name())
            .field("hash", &self.content_hash)
            .finish()
    }
}

/// A snapshot of the installed modules and their backend keys.
#[derive(Debug, Default)]
pub struct Registry {
    by_key: BTreeMap<BackendKey, Arc<Module>>,
    parent: BTreeMap<BackendKey, BackendKey>,
    by_name: BTreeMap<String, Arc<Module>>,
}

/// Where a lookup was answered.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The module that answers.
    pub module: Arc<Module>,
    /// The backend key at which it was found.
    pub at: BackendKey,
}

impl Registry {
    /// Build a registry; two modules claiming one backend key is an error.
    pub fn new(modules: impl IntoIterator<Item = Arc<Module>>) -> Result<Self> {
        let mut reg = Registry::default();
        for module in modules {
            reg.add(module)?;
        }
        Ok(reg)
    }

    /// This registry with `module` added, replacing the module of the same name.
    pub fn with(&self, module: Arc<Module>) -> Result<Self> {
        let mut modules: Vec<Arc<Module>> = self
            .by_name
            .values()
            .filter(|m| m.name() != module.name())
            .cloned()
            .collect();
        modules.push(module);
        Registry::new(modules)
    }

    fn add(&mut self, module: Arc<Module>) -> Result<()> {
        for decl in &module.manifest.backends {
            let key = decl.key();
            if let Some(other) = self.by_key.get(&key) {
                return Err(Error::Invalid(format!(
                    "backend `{key}` is already implemented by module `{}`; module `{}` cannot implement it too",
                    other.name(),
                    module.name()
                )));
            }
            if let Some(parent) = &decl.parent {
                let parent = BackendKey::parse(parent).map_err(Error::Invalid)?;
                self.parent.insert(key.clone(), parent);
            }
            self.by_key.insert(key, module.clone());
        }
        self.by_name.insert(module.name().to_string(), module);
        Ok(())
    }

    /// The module of this name.
    pub fn module(&self, name: &str) -> Option<&Arc<Module>> {
        self.by_name.get(name)
    }

    /// Every module, by name.
    pub fn modules(&self) -> impl Iterator<Item = &Arc<Module>> {
        self.by_name.values()
    }

    /// The module implementing exactly this key.
    pub fn module_at(&self, key: &BackendKey) -> Option<&Arc<Module>> {
        self.by_key.get(key)
    }

    /// Whether some module implements this key.
    pub fn knows(&self, key: &BackendKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// The parent of a backend key.
    pub fn parent(&self, key: &BackendKey) -> Option<&BackendKey> {
        self.parent.get(key)
    }

    /// The chain of keys from `start` up through its parents (cycle-safe).
    pub fn chain(&self, start: &BackendKey) -> Vec<BackendKey> {
        let mut chain = vec![start.clone()];
        while let Some(parent) = self
            .parent
            .get(chain.last().expect("chain starts non-empty"))
        {
            if chain.contains(parent) {
                break;
            }
            chain.push(parent.clone());
        }
        chain
    }

    fn chain_text(&self, start: &BackendKey) -> String {
        self.chain(start)
            .iter()
            .map(BackendKey::as_str)
            .collect::<Vec<_>>()
            .join(" → ")
    }

    fn resolve(
        &self,
        start: &BackendKey,
        what: String,
        answers: impl Fn(&Module) -> bool,
    ) -> Result<Resolved> {
        self.chain(start)
            .into_iter()
            .find_map(|at| {
                self.by_key
                    .get(&at)
                    .filter(|m| answers(m))
                    .map(|m| Resolved {
                        module: m.clone(),
                        at,
                    })
            })
            .ok_or_else(|| Error::NotFoundInChain {
                what,
                chain: self.chain_text(start),
            })
    }

    /// The module answering unit (`kind`, `model`), from `start` up.
    pub fn resolve_unit(&self, start: &BackendKey, kind: &str, model: &str) -> Result<Resolved> {
        self.resolve(start, format!("a {kind} unit for model `{model}`"), |m| {
            m.description.has_unit(kind, model)
        })
    }

    /// The module implementing job `name`, from `start` up.
    pub fn resolve_job(&self, start: &BackendKey, name: &str) -> Result<Resolved> {
        self.resolve(start, format!("job `{name}`"), |m| {
            m.description.has_job(name)
        })
    }
}
