//! `connector.toml`: what a connector module is and what it asks for.
//!
//! Parsing is kept apart from the runtime: a manifest is plain data, checked
//! here for everything that can be checked without the component (names, backend
//! keys, params, subscriptions, hosts); [`crate::backend`] then checks it against
//! what the component's `describe` reports.
//!
//! ```toml
//! [module]
//! name = "shop-v2"
//! version = "2.0.0"
//!
//! [[backend]]              # one or more backends this module implements
//! name = "shop"
//! version = "2.0"
//! parent = "shop@1.7"      # lookups this module does not answer go there
//!
//! [params.url]             # params of backend instances
//! required = true
//!
//! [capabilities]
//! allowed_hosts = ["{{ params.url }}"]
//!
//! [[subscription]]         # record events that enqueue a job of this module
//! event = "record.updated"
//! models = ["product"]
//! job = "export-record"
//! priority = 4
//! ```

use crate::backend::BackendKey;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A parsed and checked `connector.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Name and version of the module.
    pub module: ModuleInfo,
    /// Backends the module implements (at least one).
    #[serde(rename = "backend")]
    pub backends: Vec<BackendDecl>,
    /// Params that backend instances of these backends take.
    #[serde(default)]
    pub params: BTreeMap<String, ParamDecl>,
    /// What the module may reach.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Events that enqueue jobs of this module.
    #[serde(default, rename = "subscription")]
    pub subscriptions: Vec<SubscriptionDecl>,
}

/// `[module]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleInfo {
    /// Unique name of the module, e.g. `shop-v2`.
    pub name: String,
    /// Version of the module's code, e.g. `2.0.0`.
    pub version: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
}

/// `[[backend]]`: a backend (name and version) this module implements.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackendDecl {
    /// Backend name, e.g. `shop`.
    pub name: String,
    /// Backend version, e.g. `2.0`; none for the root backend.
    #[serde(default)]
    pub version: Option<String>,
    /// Backend key of the parent, e.g. `shop@1.7`.
    #[serde(default)]
    pub parent: Option<String>,
}

impl BackendDecl {
    /// The key `name@version` (or `name`).
    pub fn key(&self) -> BackendKey {
        BackendKey::new(&self.name, self.version.as_deref())
    }
}

/// `[params.NAME]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    /// A backend instance must set it.
    #[serde(default)]
    pub required: bool,
    /// Value when an instance does not set it.
    #[serde(default)]
    pub default: Option<String>,
    /// What it is.
    #[serde(default)]
    pub description: String,
}

/// `[capabilities]`: deny by default, allow what is listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Origins the module may send HTTP requests to: `scheme://host[:port]`, or a
    /// template of the instance's params such as `{{ params.url }}`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Secrets of the instance the module may use (enforced by the sandbox layer).
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// `[[subscription]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDecl {
    /// `record.created`, `record.updated`, `record.deleted` or a custom event.
    pub event: String,
    /// Models it applies to; all when empty.
    #[serde(default)]
    pub models: Vec<String>,
    /// Job of this module to enqueue; none means the module's `handle-event`.
    #[serde(default)]
    pub job: Option<String>,
    /// Priority of the enqueued jobs (lower runs first).
    #[serde(default = "default_priority")]
    pub priority: u32,
}

fn default_priority() -> u32 {
    10
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

impl Manifest {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            message: format!("cannot read the manifest: {e}"),
        })?;
        Self::parse(&text).map_err(|message| Error::Manifest {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse and check manifest text; the error names the key and the reason.
    pub fn parse(text: &str) -> std::result::Result<Manifest, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = line_of(text, s.start);
                    let source = text.lines().nth(line - 1).unwrap_or_default().trim();
                    format!("line {line} (`{source}`): ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if !valid_name(&self.module.name) {
            return Err(format!(
                "[module] name = {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                self.module.name
            ));
        }
        if self.module.version.trim().is_empty() {
            return Err("[module] version: must not be empty".into());
        }
        if self.backends.is_empty() {
            return Err("[[backend]]: a module implements at least one backend".into());
        }
        for (i, b) in self.backends.iter().enumerate() {
            let at = format!("[[backend]] #{}", i + 1);
            if !valid_name(&b.name) {
                return Err(format!(
                    "{at} name = {:?}: not a valid backend name",
                    b.name
                ));
            }
            if let Some(v) = &b.version
                && !valid_name(v)
            {
                return Err(format!("{at} version = {v:?}: not a valid version"));
            }
            if let Some(parent) = &b.parent {
                let parent = BackendKey::parse(parent).map_err(|e| format!("{at} parent: {e}"))?;
                if parent == b.key() {
                    return Err(format!(
                        "{at} parent = \"{parent}\": a backend cannot be its own parent"
                    ));
                }
            }
        }
        for (name, p) in &self.params {
            if !valid_name(name) {
                return Err(format!("[params.{name}]: not a valid param name"));
            }
            if p.required && p.default.is_some() {
                return Err(format!(
                    "[params.{name}]: a required param cannot have a default"
                ));
            }
        }
        for (i, host) in self.capabilities.allowed_hosts.iter().enumerate() {
            crate::api::http::HostPattern::check(host, &self.params)
                .map_err(|e| format!("[capabilities] allowed_hosts[{i}] = {host:?}: {e}"))?;
        }
        for (i, s) in self.subscriptions.iter().enumerate() {
            if s.event.trim().is_empty() {
                return Err(format!(
                    "[[subscription]] #{}: event must not be empty",
                    i + 1
                ));
            }
        }
        Ok(())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[module]
name = "shop-v2"
version = "2.0.0"

[[backend]]
name = "shop"
version = "2.0"
parent = "shop@1.7"

[params.url]
required = true

[capabilities]
allowed_hosts = ["{{ params.url }}", "https://api.example.com:8443"]

[[subscription]]
event = "record.updated"
models = ["product"]
job = "export-record"
priority = 4
"#;

    #[test]
    fn parses_a_full_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.backends[0].key().to_string(), "shop@2.0");
        assert_eq!(m.subscriptions[0].priority, 4);
        assert!(m.params["url"].required);
    }

    #[test]
    fn errors_name_the_key_and_reason() {
        let err =
            Manifest::parse(&GOOD.replace("name = \"shop-v2\"", "name = \"shop v2\"")).unwrap_err();
        assert!(err.contains("[module] name"), "{err}");
        let err =
            Manifest::parse(&GOOD.replace("priority = 4", "priority = \"high\"")).unwrap_err();
        assert!(
            err.contains("line") && err.contains("invalid type"),
            "{err}"
        );
        let err = Manifest::parse(&GOOD.replace("parent = \"shop@1.7\"", "parent = \"shop@@\""))
            .unwrap_err();
        assert!(err.contains("[[backend]] #1 parent"), "{err}");
        let err = Manifest::parse(&GOOD.replace("[capabilities]", "[capabilites]")).unwrap_err();
        assert!(err.contains("unknown field `capabilites`"), "{err}");
        let err =
            Manifest::parse(&GOOD.replace("{{ params.url }}", "{{ params.nope }}")).unwrap_err();
        assert!(
            err.contains("allowed_hosts[0]") && err.contains("nope"),
            "{err}"
        );
    }
}
