//! `[capabilities]`: what a module may reach: hosts (`allowed_hosts`, whose
//! grammar is in [`crate::host_rules`]), secrets, sealed credentials
//! ([`crate::credentials`]), a work directory, topics to publish to
//! ([`crate::topics`]), the `meta` and `blobs` stores ([`crate::stores`]).

use crate::credentials::{Credential, CredentialDecl};
use crate::host_rules::{HostRule, render};
use crate::names::check_secret_name;
use crate::params::ParamDecl;
use crate::stores::{StoreGrant, StoreKind};
use crate::topics::TopicPattern;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `[capabilities]`: deny by default, allow what is listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Where the module may send HTTP requests: `[METHOD ]scheme://host[:port][/path]`
    /// entries with wildcards and `{{ params.NAME }}` templates (see [`crate::host_rules`]).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Params of the instance that hold secret values (an API key passed
    /// the old way, as a param): shown as `***` wherever the instance is
    /// shown. It grants nothing; sealed secrets are `credential` and `reveal`.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// A work directory of the backend instance, seen by the guest as `/work`
    /// (for file exports); none by default.
    #[serde(default)]
    pub work_dir: Option<WorkDirDecl>,
    /// `[[capabilities.credential]]`: sealed credentials the host adds to
    /// requests toward their hosts when the guest names them (see [`CredentialDecl`]).
    #[serde(default, rename = "credential")]
    pub credentials: Vec<CredentialDecl>,
    /// Secrets of the instance whose values the guest may read
    /// (`secrets.reveal`), e.g. an HMAC key it signs with. Every other secret
    /// stays sealed; prefer a credential when the value only goes into requests.
    #[serde(default)]
    pub reveal: Vec<String>,
    /// Topics the module may publish to (`messaging.publish`): patterns of
    /// [`crate::topics`] (`order.*`, `order.>`). None by default.
    #[serde(default)]
    pub publish: Vec<String>,
    /// `[capabilities.meta]`: keys of the instance's key-value store the
    /// module reaches (none by default).
    #[serde(default)]
    pub meta: Option<StoreGrant>,
    /// `[capabilities.blobs]`: keys of the instance's object store the
    /// module reaches (none by default).
    #[serde(default)]
    pub blobs: Option<StoreGrant>,
}

/// `[capabilities.work_dir]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorkDirDecl {
    /// Size the directory may reach, in bytes: past it, later runs get it
    /// read-only until it is cleaned.
    pub max_bytes: u64,
}

impl Capabilities {
    /// Check every entry at install: templates name declared params, the rest parses.
    pub fn check(&self, params: &BTreeMap<String, ParamDecl>) -> Result<(), String> {
        if self.work_dir.as_ref().is_some_and(|w| w.max_bytes == 0) {
            return Err("[capabilities.work_dir] max_bytes: must be more than 0".into());
        }
        let mut revealed = std::collections::BTreeSet::new();
        for (i, name) in self.reveal.iter().enumerate() {
            let at = format!("[capabilities] reveal[{i}] = {name:?}");
            check_secret_name(name).map_err(|e| format!("{at}: {e}"))?;
            if !revealed.insert(name) {
                return Err(format!("{at}: listed twice"));
            }
        }
        for (i, pattern) in self.publish.iter().enumerate() {
            TopicPattern::parse(pattern)
                .map_err(|e| format!("[capabilities] publish[{i}] = {pattern:?}: {e}"))?;
        }
        if let Some(grant) = &self.meta {
            grant.check(StoreKind::Meta)?;
        }
        if let Some(grant) = &self.blobs {
            grant.check(StoreKind::Blobs)?;
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, c) in self.credentials.iter().enumerate() {
            let at = format!("[[capabilities.credential]] #{i} `{}`", c.name);
            if !names.insert(&c.name) {
                return Err(format!(
                    "{at}: a credential of this name is already declared"
                ));
            }
            c.check(params).map_err(|e| format!("{at}: {e}"))?;
        }
        for (i, entry) in self.allowed_hosts.iter().enumerate() {
            let rendered = render(entry, |name| {
                params
                    .contains_key(name)
                    .then(|| "http://template.invalid".to_string())
            })
            .and_then(|text| HostRule::parse(&text));
            rendered.map_err(|e| format!("[capabilities] allowed_hosts[{i}] = {entry:?}: {e}"))?;
        }
        Ok(())
    }

    /// The patterns of `publish` (checked at install: one that does not
    /// parse is left out).
    pub fn publish_patterns(&self) -> Vec<TopicPattern> {
        self.publish
            .iter()
            .filter_map(|p| TopicPattern::parse(p).ok())
            .collect()
    }

    /// The rules of `allowed_hosts` for an instance with these params; entries
    /// that cannot be filled in are returned apart, with the reason.
    pub fn host_rules(&self, params: &Map<String, Value>) -> (Vec<HostRule>, Vec<String>) {
        rules_of(&self.allowed_hosts, params, "allowed_hosts")
    }

    /// The credentials for an instance with these params; host entries that
    /// cannot be filled in are left out (and reported), a credential whose
    /// presentation cannot be filled in is left out whole.
    pub fn credentials(&self, params: &Map<String, Value>) -> (Vec<Credential>, Vec<String>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for c in &self.credentials {
            let what = format!("credential `{}`", c.name);
            let (rules, mut more) = rules_of(&c.hosts, params, &format!("{what} hosts"));
            problems.append(&mut more);
            match c.presentation(|name| param(params, name)) {
                Ok(presentation) => out.push(Credential {
                    name: c.name.clone(),
                    secret: c.secret.clone(),
                    rules,
                    presentation,
                }),
                Err(e) => problems.push(format!("{what} ignored: {e}")),
            }
        }
        (out, problems)
    }
}

fn param(params: &Map<String, Value>, name: &str) -> Option<String> {
    match params.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// Host rules of `entries` filled in from `params`, and the entries that could not be.
fn rules_of(
    entries: &[String],
    params: &Map<String, Value>,
    what: &str,
) -> (Vec<HostRule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let rendered = render(entry, |name| param(params, name));
        match rendered.and_then(|text| HostRule::parse(&text)) {
            Ok(rule) => rules.push(rule),
            Err(e) => problems.push(format!("{what} entry {entry:?} ignored: {e}")),
        }
    }
    (rules, problems)
}

#[cfg(test)]
mod tests;
