//! Backends, their versions and parents, and the registry of installed
//! modules: plain data from the `ferry-manifest` crate (see
//! [`ferry_manifest::registry`]). A registry's modules name their components
//! by content hash; the compiled components are the engine's
//! ([`crate::engine`], `Engine::prepared`).

pub use ferry_manifest::{BackendKey, Description, JobDecl, Module, Registry, Resolved, UnitDecl};

use crate::error::{Error, Result};
use crate::manifest::ParamDecl;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The payload (JSON text) of job `job` of `module`, checked against the job's
/// declared parameters, with their defaults applied. A job that declares none
/// keeps its payload as it is.
pub fn checked_payload(module: &Module, job: &str, payload: &str) -> Result<String> {
    let Some(decl) = module.job_decl(job) else {
        return Ok(payload.to_string());
    };
    if decl.params.is_empty() {
        return Ok(payload.to_string());
    }
    let value: serde_json::Value = serde_json::from_str(payload)
        .map_err(|e| Error::Invalid(format!("job `{job}`: the payload is not JSON: {e}")))?;
    let checked = ferry_manifest::jobs::validate(&format!("job `{job}`"), &decl.params, &value)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(checked.to_string())
}

/// The params backend instances of `key` take: those its module and its
/// parents' modules declare (a child's declaration wins).
pub fn declared_params(registry: &Registry, key: &BackendKey) -> BTreeMap<String, ParamDecl> {
    let mut declared = BTreeMap::new();
    for at in registry.chain(key).iter().rev() {
        if let Some(module) = registry.module_at(at) {
            declared.extend(module.manifest.params.clone());
        }
    }
    declared
}

/// Check the params given to backend instance `instance` of `key` against the
/// declared ones (undeclared keys, types, constraints, required ones), so that
/// a typo or a bad URL is refused when the instance is added, not when a job runs.
pub fn check_instance_params(
    registry: &Registry,
    key: &BackendKey,
    instance: &str,
    params: &Map<String, Value>,
) -> Result<()> {
    ferry_manifest::check_instance_params(instance, &declared_params(registry, key), params)
        .map_err(|e| Error::Invalid(e.to_string()))
}
