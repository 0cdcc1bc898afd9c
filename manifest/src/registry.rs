//! Backends, their versions and parents, and the registry of installed modules.
//!
//! A backend key is `name` or `name@version` (`shop`, `shop@1.7`, `shop@2.0`).
//! Each key is implemented by at most one module, which also says which key is
//! its parent. A lookup (a unit, a job) starts at a key and walks up the
//! parents until a module answers: `shop@2.0 → shop@1.7 → shop`.
//!
//! The registry is an immutable snapshot: installing a module builds a new one,
//! and runs already going keep the snapshot they started with.

use crate::backend_key::BackendKey;
use crate::description::{Description, JobDecl};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// An installed module: what it declares and implements. Its compiled
/// component is the runtime's business, found there by `content_hash`.
pub struct Module {
    /// The manifest.
    pub manifest: Manifest,
    /// What the component implements.
    pub description: Description,
    /// SHA-256 of the component, hex.
    pub content_hash: String,
}

impl Module {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.manifest.module.name
    }

    /// The declaration of job `name` the host uses (validation, steps): what
    /// the component reports, refined by the manifest's `[jobs.NAME]` (see
    /// [`crate::job_decl`]). None if the component has no such job.
    pub fn job_decl(&self, name: &str) -> Option<JobDecl> {
        let component = self.description.jobs.iter().find(|j| j.name == name)?;
        Some(crate::job_decl::effective(
            component,
            self.manifest.jobs.get(name),
        ))
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
