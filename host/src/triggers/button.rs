//! Button trigger: a person runs a job by hand, with data
//! (`ferry trigger INSTANCE BUTTON --data JSON`, or
//! `POST /api/instances/{instance}/buttons/{button}`). Pressing always enqueues.

use crate::backend::BackendKey;
use crate::backend::Registry;
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::manifest::ButtonDecl;
use crate::store::NewJob;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A button of a backend instance, and the module declaring it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    /// Module whose manifest declares it.
    pub module: String,
    /// The declaration.
    pub decl: ButtonDecl,
}

/// The buttons of a backend on `backend` (a child's button hides a parent's of
/// the same name).
pub fn buttons(registry: &Registry, backend: &str) -> Result<Vec<Button>> {
    let key = BackendKey::parse(backend).map_err(Error::Invalid)?;
    let mut found: Vec<Button> = Vec::new();
    for at in registry.chain(&key) {
        let Some(module) = registry.module_at(&at) else {
            continue;
        };
        for decl in &module.manifest.buttons {
            if !found.iter().any(|b| b.decl.name == decl.name) {
                found.push(Button {
                    module: module.name().to_string(),
                    decl: decl.clone(),
                });
            }
        }
    }
    Ok(found)
}

/// Press `button` of `instance`: enqueue its job with `data` as payload, for
/// `user`. Returns the job id.
pub async fn press(
    store: &Store,
    modules: &Modules,
    instance: &str,
    button: &str,
    data: &Value,
    user: &str,
) -> Result<i64> {
    let backend = store.instance(instance).await?.backend;
    let all = buttons(&modules.current(), &backend)?;
    let Some(found) = all.iter().find(|b| b.decl.name == button) else {
        let names: Vec<&str> = all.iter().map(|b| b.decl.name.as_str()).collect();
        return Err(Error::NotFound {
            kind: "button",
            name: button.into(),
            hint: format!(
                " on backend instance `{instance}` ({backend}; its buttons: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        });
    };
    let decl = &found.decl;
    let mut job = NewJob::new(instance, &decl.job, data);
    if let Some(p) = decl.priority {
        job.priority = i64::from(p);
    }
    if let Some(c) = &decl.channel {
        job.channel = c.clone();
    }
    job.description = if decl.description.is_empty() {
        format!("button `{button}`")
    } else {
        format!("{} (button `{button}`)", decl.description)
    };
    job.user = user.to_string();
    job.trigger = crate::store::Trigger::Button;
    store.enqueue(&modules.pinned(&job).await?).await
}
