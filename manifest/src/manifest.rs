//! `connector.toml`: what a connector module is and what it asks for.
//!
//! Parsing is kept apart from the runtime: a manifest is plain data, checked
//! here for everything that can be checked without the component (names, backend
//! keys, params, subscriptions, schedules, hosts); the host then checks it against
//! what the component's `describe` reports ([`crate::description`]).
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
//! [capabilities]           # see `capabilities` for the grammar of entries
//! allowed_hosts = ["{{ params.url }}", "GET https://*.cdn.example/images/*"]
//!
//! [capabilities.work_dir]   # optional: the instance's folder, seen as /work
//! max_bytes = 104857600
//!
//! [[subscription]]         # record events that enqueue a job of this module
//! event = "record.updated"
//! models = ["product"]
//! job = "export-record"
//! priority = 4
//! fields = ["name", "list_price"]   # conditions: see `subscription`
//!
//! [jobs.import-batch]      # parameters (and steps) of a job: see `jobs`
//! description = "Import a batch of records"
//! [jobs.import-batch.params.model]
//! type = "string"
//! required = true
//! [jobs.import-batch.params.since]
//! type = "duration"
//! default = "2d"
//!
//! [build]                  # how `ferry build` makes it: see `build`
//! language = "rust"
//!
//! [[cron]]                 # schedules: see `cron`
//! name = "import-products"
//! schedule = "*/15 * * * *"
//! job = "import-batch"
//! payload = { model = "product" }
//! ```
//!
//! Triggers a person or another system pulls have their own modules:
//! `[[webhook]]` ([`webhooks`]), `[[button]]` ([`buttons`]) and `[[listener]]`
//! ([`listeners`], broker messages).

use crate::backend_key::BackendKey;
use crate::build::BuildDecl;
use crate::buttons::{self, ButtonDecl};
use crate::capabilities::Capabilities;
use crate::cron::CronDecl;
use crate::error::{Error, Result};
use crate::job_decl::ManifestJob;
use crate::jobs::{check_params, check_steps};
use crate::listeners::{self, ListenerDecl};
use crate::names::valid_name;
use crate::params::ParamDecl;
use crate::subscription::SubscriptionDecl;
use crate::webhooks::{self, WebhookDecl};
use ferry_declarative::RestConnector;
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
    /// HTTP endpoints external systems call.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<WebhookDecl>,
    /// Manual runs of jobs.
    #[serde(default, rename = "button")]
    pub buttons: Vec<ButtonDecl>,
    /// Broker messages that become jobs (bound to sources by operators).
    #[serde(default, rename = "listener", skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerDecl>,
    /// Schedules that enqueue jobs of this module.
    #[serde(default, rename = "cron", skip_serializing_if = "Vec::is_empty")]
    pub crons: Vec<CronDecl>,
    /// `[jobs.NAME]`: parameters and steps of jobs the component implements.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub jobs: BTreeMap<String, ManifestJob>,
    /// `[rest]`: a declarative REST connector, run by Ferry's `rest` module
    /// instead of a component of its own (see [`ferry_declarative`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<RestConnector>,
    /// `[build]`: the language and entry file `ferry build` uses (see [`crate::build`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildDecl>,
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

/// The page that describes every key of a manifest, named in its errors.
pub const REFERENCE: &str = "docs/manifest.md";

impl ModuleInfo {
    /// The module's version, which must be semver: installs compare
    /// versions (a downgrade warns), so `one` or `1.7` cannot stand for one.
    pub fn semver(&self) -> std::result::Result<semver::Version, String> {
        semver::Version::parse(self.version.trim()).map_err(|e| {
            format!(
                "[module] version = {:?}: not a semver version ({e}): write MAJOR.MINOR.PATCH, \
                 e.g. \"1.7.0\"",
                self.version
            )
        })
    }
}

impl Manifest {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            message: format!("cannot read the manifest: {e}"),
        })?;
        Self::parse(&text)
            .and_then(|manifest| manifest.check_new().map(|()| manifest))
            .map_err(|message| Error::Manifest {
                path: path.to_path_buf(),
                message: format!("{message} (every key: {REFERENCE})"),
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

    /// The rules a manifest meets when it is installed or built, beyond
    /// [`Manifest::parse`]'s: added later than some stored manifests, so
    /// that a module installed before them keeps loading.
    pub fn check_new(&self) -> std::result::Result<(), String> {
        self.module.semver()?;
        for (i, s) in self.subscriptions.iter().enumerate() {
            s.check_event_name(&format!("[[subscription]] #{}", i + 1))?;
        }
        Ok(())
    }

    fn check(&self) -> std::result::Result<(), String> {
        if let Some(build) = &self.build {
            build.check()?;
        }
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
        for (name, p) in &self.params {
            p.check(name)?;
        }
        for (name, job) in &self.jobs {
            if !valid_name(name) {
                return Err(format!("[jobs.{name}]: not a valid job name"));
            }
            check_params(name, &job.param_list()).map_err(|e| format!("[jobs.{name}] {e}"))?;
            check_steps(name, &job.steps).map_err(|e| format!("[jobs.{name}] {e}"))?;
        }
        self.capabilities.check(&self.params)?;
        for (i, s) in self.subscriptions.iter().enumerate() {
            s.check(&format!("[[subscription]] #{}", i + 1))?;
        }
        for (i, c) in self.crons.iter().enumerate() {
            c.check(&format!("[[cron]] #{}", i + 1))?;
            if self.crons[..i].iter().any(|other| other.name == c.name) {
                return Err(format!(
                    "[[cron]] #{} name = {:?}: another [[cron]] of this module has this name",
                    i + 1,
                    c.name
                ));
            }
        }
        webhooks::check(&self.webhooks, &self.params)?;
        buttons::check(&self.buttons)?;
        listeners::check(&self.listeners)?;
        self.check_listener_payloads()?;
        self.check_rest()
    }

    /// A declarative connector's `[rest]` names only declared params, and
    /// its subscriptions only models it has a stream for (the `rest` module
    /// answers every model, so nothing else would catch the typo).
    fn check_rest(&self) -> std::result::Result<(), String> {
        let Some(rest) = &self.rest else {
            return Ok(());
        };
        rest.check(&|param| self.params.contains_key(param))?;
        if let Some(name) = &rest.credential
            && !self
                .capabilities
                .credentials
                .iter()
                .any(|c| &c.name == name)
        {
            return Err(format!(
                "[rest] credential = {name:?}: no [[capabilities.credential]] has this name: declare it"
            ));
        }
        if !self.webhooks.is_empty() {
            return Err(
                "[[webhook]]: a declarative connector cannot answer webhooks (the `rest` module has \
                 no webhook handler): write this connector in Rust to take webhooks"
                    .into(),
            );
        }
        for (i, s) in self.subscriptions.iter().enumerate() {
            let exports = s.job.as_deref() == Some("export-record");
            if let Some(model) = s
                .models
                .iter()
                .find(|m| exports && rest.stream(m).is_some_and(|s| s.write.is_none()))
            {
                return Err(format!(
                    "[[subscription]] #{} exports {model:?}, whose [[rest.stream]] has no `write`: \
                     add `write = {{ method = \"PUT\" }}` or remove the subscription",
                    i + 1
                ));
            }
            if let Some(model) = s.models.iter().find(|m| rest.stream(m).is_none()) {
                let streams: Vec<&str> = rest.streams.iter().map(|s| s.model.as_str()).collect();
                return Err(format!(
                    "[[subscription]] #{} models = [{model:?}]: no [[rest.stream]] has model {model:?} (the streams: {})",
                    i + 1,
                    streams.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// A listener of a job that declares its params fills only those (else
    /// every message would be refused at enqueue).
    fn check_listener_payloads(&self) -> std::result::Result<(), String> {
        for l in &self.listeners {
            let Some(job) = self.jobs.get(&l.job) else {
                continue;
            };
            let params = job.param_list();
            if params.is_empty() {
                continue;
            }
            if let Some(key) = l
                .payload_keys()
                .find(|k| !params.iter().any(|p| p.name == *k))
            {
                return Err(format!(
                    "[[listener]] ({}) fills payload key `{key}`, which job `{}` does not declare: \
                     add [jobs.{}.params.{key}] or remove it from the listener",
                    l.name, l.job, l.job
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
mod tests;
