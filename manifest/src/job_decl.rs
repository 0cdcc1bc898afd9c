//! `[jobs.NAME]` in `connector.toml`, and the one declaration of a job the
//! host uses: what the component's `describe` reports ([`crate::description`]),
//! refined by the manifest (see [`crate::jobs`] for what a declaration holds).
//!
//! The rule: a job the manifest declares must exist in the component. When
//! only one side declares parameters (a 0.1 component declares none), that
//! side's are used. When both do, they must name the same parameters with the
//! same types; the manifest's entry then wins for everything else (default,
//! required, constraints, description), so that an installation can give a
//! parameter a default or narrow its range without rebuilding the component.
//! Steps are code, not configuration: only a component that declares steps
//! (contract 0.2) has them. The manifest may repeat them (same names and
//! kinds in the same order) to set their `chunk_size`; steps that only the
//! manifest declares are refused, as a 0.1 component cannot run them.

use crate::description::JobDecl;
use crate::jobs::{JobParam, StepDecl};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[jobs.NAME]`: what the manifest says of a job the component implements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestJob {
    /// What it does (shown to operators when the component says nothing).
    #[serde(default)]
    pub description: String,
    /// `[jobs.NAME.params.KEY]`: its parameters, by key.
    #[serde(default)]
    pub params: BTreeMap<String, JobParam>,
    /// `[[jobs.NAME.steps]]`: its steps, in order.
    #[serde(default)]
    pub steps: Vec<StepDecl>,
}

impl ManifestJob {
    /// Its parameters as a list, each named after its key.
    pub fn param_list(&self) -> Vec<JobParam> {
        self.params
            .iter()
            .map(|(name, p)| JobParam {
                name: name.clone(),
                ..p.clone()
            })
            .collect()
    }
}

/// Whether the manifest's declaration of job `component.name` agrees with the
/// component's (see the module's rule); the error says what differs.
pub fn agree(component: &JobDecl, manifest: &ManifestJob) -> Result<(), String> {
    let job = &component.name;
    if !component.params.is_empty() && !manifest.params.is_empty() {
        for p in &component.params {
            match manifest.params.get(&p.name) {
                None => {
                    return Err(format!(
                        "[jobs.{job}]: the component declares parameter `{}`, the manifest does not",
                        p.name
                    ));
                }
                Some(m) if m.ty != p.ty => {
                    return Err(format!(
                        "[jobs.{job}.params.{}]: type {} here, {} in the component",
                        p.name, m.ty, p.ty
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = manifest
            .params
            .keys()
            .find(|k| !component.params.iter().any(|p| &p.name == *k))
        {
            return Err(format!(
                "[jobs.{job}.params.{extra}]: the component declares no such parameter"
            ));
        }
    }
    if component.steps.is_empty() && !manifest.steps.is_empty() {
        return Err(format!(
            "[[jobs.{job}.steps]]: the component declares no steps for this job (a plain job, \
             or a component built against contract 0.1); steps come from the component's code, \
             the manifest may only set their `chunk_size`"
        ));
    }
    if !component.steps.is_empty() && !manifest.steps.is_empty() {
        let shape = |s: &[StepDecl]| {
            s.iter()
                .map(|s| format!("{} ({:?})", s.name, s.kind).to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (c, m) = (shape(&component.steps), shape(&manifest.steps));
        if c != m {
            return Err(format!(
                "[[jobs.{job}.steps]]: the manifest declares steps {m}, the component {c}"
            ));
        }
    }
    Ok(())
}

/// The declaration the host uses for `component`, refined by the manifest's.
pub fn effective(component: &JobDecl, manifest: Option<&ManifestJob>) -> JobDecl {
    let Some(m) = manifest else {
        return component.clone();
    };
    let mut decl = component.clone();
    if decl.description.is_empty() {
        decl.description = m.description.clone();
    }
    if !m.params.is_empty() {
        decl.params = if component.params.is_empty() {
            m.param_list()
        } else {
            // The component's order, the manifest's entries.
            component
                .params
                .iter()
                .map(|p| {
                    m.params.get(&p.name).map_or_else(
                        || p.clone(),
                        |q| JobParam {
                            name: p.name.clone(),
                            ..q.clone()
                        },
                    )
                })
                .collect()
        };
    }
    if !m.steps.is_empty() {
        decl.steps = m.steps.clone();
    }
    decl
}

#[cfg(test)]
mod tests;
