//! The listeners of a backend instance: `[[listener]]` declarations found
//! along its backend chain (a child's listener hides a parent's of the same
//! name).

use crate::backend::{BackendKey, Registry};
use crate::error::{Error, Result};
use crate::manifest::ListenerDecl;

/// A listener of a backend, ready to map messages.
#[derive(Debug, Clone)]
pub struct BoundListener {
    /// Module whose manifest declares it.
    pub declared_by: String,
    /// The declaration.
    pub decl: ListenerDecl,
}

/// Every listener of a backend on `backend`, nearest module first.
pub fn listeners(registry: &Registry, backend: &str) -> Result<Vec<BoundListener>> {
    let key = BackendKey::parse(backend).map_err(Error::Invalid)?;
    let mut found: Vec<BoundListener> = Vec::new();
    for at in &registry.chain(&key) {
        let Some(module) = registry.module_at(at) else {
            continue;
        };
        for decl in &module.manifest.listeners {
            if found.iter().any(|l| l.decl.name == decl.name) {
                continue;
            }
            found.push(BoundListener {
                declared_by: module.name().to_string(),
                decl: decl.clone(),
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
