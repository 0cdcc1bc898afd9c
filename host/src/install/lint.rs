//! Warnings at install: what installs but is likely a mistake the module
//! would otherwise only show by never doing its work. Errors (what cannot
//! work at all) are the manifest's checks and [`super::load`]'s.

use crate::backend::{Module, Registry};

/// What a user should look at in the module about to replace what
/// `before` holds, once it is in `after`.
pub(crate) fn warnings(before: &Registry, after: &Registry, module: &Module) -> Vec<String> {
    let mut warnings = Vec::new();
    let name = module.name();
    let version = &module.manifest.module.version;
    if let Some(old) = before.module(name) {
        let old_version = &old.manifest.module.version;
        match (
            old.manifest.module.semver(),
            module.manifest.module.semver(),
        ) {
            (Ok(old_v), Ok(new_v)) if new_v < old_v => warnings.push(format!(
                "module `{name}` {version} replaces {old_version}, a newer version: a downgrade \
                 (intended? jobs pinned to {old_version} keep running it)"
            )),
            (Ok(old_v), Ok(new_v)) if new_v == old_v && old.content_hash != module.content_hash => {
                warnings.push(format!(
                    "module `{name}` keeps version {version} but its component changed: bump \
                     `[module] version` so that operators and pinned jobs can tell them apart"
                ))
            }
            _ => {}
        }
    }
    // A subscription's models name records the job will handle; for the
    // generic jobs that means units of the model somewhere up the chain.
    for (i, sub) in module.manifest.subscriptions.iter().enumerate() {
        for model in &sub.models {
            for backend in &module.manifest.backends {
                let start = backend.key();
                if !chain_complete(after, &start) {
                    // A parent is not installed yet: its units may answer.
                    continue;
                }
                let answered = after.chain(&start).iter().any(|key| {
                    after.module_at(key).is_some_and(|m| {
                        m.description
                            .units
                            .iter()
                            .any(|u| u.model == *model || u.model == "*")
                    })
                });
                if !answered {
                    let known: Vec<String> = after
                        .chain(&start)
                        .iter()
                        .filter_map(|key| after.module_at(key))
                        .flat_map(|m| m.description.units.iter().map(|u| u.model.clone()))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    warnings.push(format!(
                        "[[subscription]] #{} models = [\"{model}\"]: no module of backend chain \
                         {start} declares a unit for model `{model}` (units are for: {}); a job \
                         that maps or sends `{model}` records will find none (a typo?)",
                        i + 1,
                        if known.is_empty() {
                            "no model".to_string()
                        } else {
                            known.join(", ")
                        }
                    ));
                    // One warning per model: the module's other backends
                    // share the chain's root.
                    break;
                }
            }
        }
    }
    warnings
}

/// Whether every backend of `start`'s chain is installed, up to a root.
fn chain_complete(registry: &Registry, start: &crate::backend::BackendKey) -> bool {
    let chain = registry.chain(start);
    let Some(last) = chain.last() else {
        return false;
    };
    registry.module_at(last).is_some_and(|m| {
        m.manifest
            .backends
            .iter()
            .any(|b| b.key() == *last && b.parent.is_none())
    })
}
