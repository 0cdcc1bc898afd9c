//! `connector.toml`: what a connector module is and what it asks for.
//!
//! Parsing is kept apart from the runtime: a manifest is plain data, checked
//! here for everything that can be checked without the component (names, backend
//! keys, params, subscriptions, schedules, hosts); [`crate::backend`] then checks it against
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
//! [[cron]]                 # schedules: see `cron`
//! name = "import-products"
//! schedule = "*/15 * * * *"
//! job = "import-batch"
//! payload = { model = "product" }
//! ```
//!
//! Triggers a person or another system pulls have their own modules:
//! `[[webhook]]` ([`webhooks`]) and `[[button]]` ([`buttons`]).

mod buttons;
mod webhooks;

pub use buttons::ButtonDecl;
pub use webhooks::{
    DEFAULT_SIGNATURE_HEADER, DEFAULT_TOKEN_HEADER, WebhookAuth, WebhookContent, WebhookDecl,
};

mod cron;
mod subscription;

pub use cron::{CronDecl, Schedule};
pub use subscription::{
    After, AfterDecl, Conditions, EventSource, FieldCondition, RECORD_EVENT_PREFIX,
    SubscriptionDecl, TIMED_EVENT, is_record_event, op_text,
};

mod capabilities;
mod credentials;

pub use capabilities::{
    Capabilities, Credential, CredentialDecl, HostMatch, HostRule, PathMatch, Presentation, Target,
    WorkDirDecl,
};

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
    /// HTTP endpoints external systems call.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<WebhookDecl>,
    /// Manual runs of jobs.
    #[serde(default, rename = "button")]
    pub buttons: Vec<ButtonDecl>,
    /// Schedules that enqueue jobs of this module.
    #[serde(default, rename = "cron", skip_serializing_if = "Vec::is_empty")]
    pub crons: Vec<CronDecl>,
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

fn default_priority() -> u32 {
    10
}

/// Whether `s` is a name (of a module, job, event, model, channel part…):
/// 1 to 64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter
/// or digit. Names are shown to operators and matched exactly: nothing else.
pub fn valid_name(s: &str) -> bool {
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
    fn schedules_and_record_conditions_are_part_of_the_manifest() {
        let text = format!(
            r#"{GOOD}
fields = ["name", "list_price"]
filter = {{ active = true }}

[[subscription]]
event = "record.timed"
models = ["order"]
job = "send-survey"
after = {{ field = "closed_at", delay = "1d" }}

[[cron]]
name = "import-products"
schedule = "*/15 * * * *"
job = "import-batch"
payload = {{ model = "product" }}
since_key = "since"
"#
        );
        let m = Manifest::parse(&text).unwrap();
        let conditions = m.subscriptions[0].conditions().unwrap();
        assert_eq!(conditions.fields, ["list_price", "name"]);
        assert_eq!(conditions.filter.len(), 1);
        assert_eq!(
            m.subscriptions[1]
                .conditions()
                .unwrap()
                .after
                .unwrap()
                .delay_ms,
            86_400_000
        );
        assert_eq!(m.crons[0].payload().unwrap()["model"], "product");

        let twice = format!(
            "{text}\n[[cron]]\nname = \"import-products\"\nschedule = \"@daily\"\njob = \"import-batch\"\n"
        );
        let err = Manifest::parse(&twice).unwrap_err();
        assert!(
            err.contains("[[cron]] #2 name = \"import-products\": another [[cron]]"),
            "{err}"
        );
        let err = Manifest::parse(&text.replace("*/15 * * * *", "*/15 * *")).unwrap_err();
        assert!(
            err.contains("[[cron]] #1 (`import-products`) schedule"),
            "{err}"
        );
        let err = Manifest::parse(&text.replace("delay = \"1d\"", "delay = \"soon\"")).unwrap_err();
        assert!(err.contains("[[subscription]] #2 after delay"), "{err}");
        let err = Manifest::parse(&text.replace("sched", "shed")).unwrap_err();
        assert!(err.contains("unknown field `shedule`"), "{err}");
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
