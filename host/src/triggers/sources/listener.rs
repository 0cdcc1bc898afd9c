//! The listeners of a backend instance: `[[listener]]` declarations found
//! along its backend chain (a child's listener hides a parent's of the same
//! name), with the module that implements each one's job.

use crate::backend::{BackendKey, Module, Registry};
use crate::error::{Error, Result};
use crate::manifest::ListenerDecl;
use std::sync::Arc;

/// A listener of a backend, ready to map messages.
#[derive(Debug, Clone)]
pub struct BoundListener {
    /// Module whose manifest declares it.
    pub declared_by: String,
    /// The declaration.
    pub decl: ListenerDecl,
    /// The module that implements its job (its parameters check payloads).
    pub module: Arc<Module>,
}

/// Every listener of a backend on `backend`, nearest module first.
pub fn listeners(registry: &Registry, backend: &str) -> Result<Vec<BoundListener>> {
    let key = BackendKey::parse(backend).map_err(Error::Invalid)?;
    let chain = registry.chain(&key);
    let mut found: Vec<BoundListener> = Vec::new();
    for at in &chain {
        let Some(module) = registry.module_at(at) else {
            continue;
        };
        for decl in &module.manifest.listeners {
            if found.iter().any(|l| l.decl.name == decl.name) {
                continue;
            }
            // The job runs where the chain first implements it.
            let runner = chain
                .iter()
                .filter_map(|k| registry.module_at(k))
                .find(|m| m.description.jobs.iter().any(|j| j.name == decl.job))
                .unwrap_or(module);
            found.push(BoundListener {
                declared_by: module.name().to_string(),
                decl: decl.clone(),
                module: runner.clone(),
            });
        }
    }
    Ok(found)
}

/// Listener `name` of a backend on `backend`, or an error listing the ones it has.
pub fn find(registry: &Registry, backend: &str, name: &str) -> Result<BoundListener> {
    let all = listeners(registry, backend)?;
    let names: Vec<&str> = all.iter().map(|l| l.decl.name.as_str()).collect();
    match all.iter().find(|l| l.decl.name == name) {
        Some(found) => Ok(found.clone()),
        None => Err(Error::NotFound {
            kind: "listener",
            name: name.into(),
            hint: format!(
                " on backend {backend} (its listeners: {}; a connector declares them with [[listener]])",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        }),
    }
}
