//! `[[listener]]`: messages of a broker that become jobs of this module.
//!
//! A listener says what it takes (content types, size) and how a message maps
//! to the job's payload; the operator binds it, for one backend instance, to a
//! source of some type (`ferry source add INSTANCE LISTENER --type rabbitmq …`).
//! As sqAPI's `message_fields`, each field names the message key it reads and
//! whether it is required: a message missing one, of a content type not
//! listed, not JSON, or too large does not become a job but a dead letter.
//!
//! ```toml
//! [[listener]]
//! name = "orders"
//! job = "import-order"
//! description = "Orders the shop announces on its broker"
//! content_types = ["application/json"]   # default; the first is assumed when a message has none
//! max_bytes = 1048576                     # default 1 MiB
//!
//! [listener.fields]                       # payload key = { key = message key, required }
//! order_id = { key = "id", required = true }
//! total = { key = "amount.total" }        # a dotted path into the body
//!
//! [listener.metadata]                     # payload key = what of the message
//! message_id = "id"                       # id | source | subject | content_type | received_at | header:NAME
//! ```
//!
//! With no `fields`, the payload is the message's body (a JSON object).

use crate::names::valid_name;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Default `max_bytes`: 1 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 20;
/// Largest `max_bytes` a listener may ask for: 64 MiB (a job payload is not a file).
pub const MAX_MAX_BYTES: u64 = 64 << 20;
/// Default `content_types`.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// `[[listener]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListenerDecl {
    /// Name, as `ferry source add INSTANCE LISTENER` takes it.
    pub name: String,
    /// The job each message becomes (resolved along the instance's backend chain).
    pub job: String,
    /// What it listens for (shown to operators).
    #[serde(default)]
    pub description: String,
    /// Content types taken; a message of another goes to dead letters.
    #[serde(default = "default_content_types")]
    pub content_types: Vec<String>,
    /// Largest body taken, in bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Payload key → the message field it is read from.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDecl>,
    /// Payload key → what of the message's metadata it receives.
    #[serde(default)]
    pub metadata: BTreeMap<String, MetadataField>,
    /// Priority of the jobs (lower runs first); default 10.
    #[serde(default)]
    pub priority: Option<u32>,
    /// Channel of the jobs; default `root`.
    #[serde(default)]
    pub channel: Option<String>,
}

fn default_content_types() -> Vec<String> {
    vec![DEFAULT_CONTENT_TYPE.to_string()]
}

fn default_max_bytes() -> u64 {
    DEFAULT_MAX_BYTES
}

/// One entry of `[listener.fields]`: where a payload key comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldDecl {
    /// The message key, a dotted path into the JSON body (`amount.total`);
    /// default: the payload key itself.
    #[serde(default)]
    pub key: Option<String>,
    /// Whether a message without it is refused (to dead letters).
    #[serde(default)]
    pub required: bool,
}

/// What of a message's metadata a payload key receives (`[listener.metadata]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MetadataField {
    /// The message's id at its broker (the job's identity).
    Id,
    /// The source: `INSTANCE/LISTENER`.
    Source,
    /// Routing key, subject, topic, stream or channel it came on.
    Subject,
    /// Its content type.
    ContentType,
    /// When Ferry took it, RFC 3339.
    ReceivedAt,
    /// One header (AMQP property, NATS header, MQTT 5 user property, Redis field).
    Header(String),
}

impl TryFrom<String> for MetadataField {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Ok(match text.as_str() {
            "id" => Self::Id,
            "source" => Self::Source,
            "subject" => Self::Subject,
            "content_type" => Self::ContentType,
            "received_at" => Self::ReceivedAt,
            other => match other.strip_prefix("header:") {
                Some(name) if !name.is_empty() => Self::Header(name.to_string()),
                _ => {
                    return Err(format!(
                        "unknown metadata `{other}` (id, source, subject, content_type, received_at, header:NAME)"
                    ));
                }
            },
        })
    }
}

impl From<MetadataField> for String {
    fn from(field: MetadataField) -> String {
        match field {
            MetadataField::Id => "id".into(),
            MetadataField::Source => "source".into(),
            MetadataField::Subject => "subject".into(),
            MetadataField::ContentType => "content_type".into(),
            MetadataField::ReceivedAt => "received_at".into(),
            MetadataField::Header(name) => format!("header:{name}"),
        }
    }
}

impl ListenerDecl {
    /// The message key payload key `name` is read from.
    pub fn message_key<'a>(&'a self, name: &'a str) -> &'a str {
        self.fields
            .get(name)
            .and_then(|f| f.key.as_deref())
            .unwrap_or(name)
    }

    /// Whether `content_type` (parameters such as `; charset=utf-8` ignored,
    /// case-insensitive) is one this listener takes.
    pub fn accepts(&self, content_type: &str) -> bool {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        self.content_types.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            t == essence
                || t == "*/*"
                || t.strip_suffix("/*")
                    .is_some_and(|kind| essence.split('/').next() == Some(kind))
        })
    }

    /// The payload keys this listener fills (fields and metadata).
    pub fn payload_keys(&self) -> impl Iterator<Item = &str> {
        self.fields
            .keys()
            .chain(self.metadata.keys())
            .map(String::as_str)
    }
}

/// Check the `[[listener]]` entries.
pub(crate) fn check(listeners: &[ListenerDecl]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, l) in listeners.iter().enumerate() {
        let at = format!("[[listener]] #{}", i + 1);
        if !valid_name(&l.name) {
            return Err(format!(
                "{at} name = {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                l.name
            ));
        }
        if !seen.insert(l.name.as_str()) {
            return Err(format!(
                "{at} name = {:?}: another [[listener]] has this name",
                l.name
            ));
        }
        let at = format!("{at} ({})", l.name);
        if !valid_name(&l.job) {
            return Err(format!("{at} job = {:?}: not a valid job name", l.job));
        }
        if l.content_types.is_empty() {
            return Err(format!(
                "{at} content_types: list at least one (e.g. \"{DEFAULT_CONTENT_TYPE}\")"
            ));
        }
        for t in &l.content_types {
            let mut parts = t.split('/');
            let well_formed = matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() && !t.contains(';')
            );
            if !well_formed {
                return Err(format!(
                    "{at} content_types: {t:?} is not a media type such as \"application/json\""
                ));
            }
        }
        if l.max_bytes == 0 || l.max_bytes > MAX_MAX_BYTES {
            return Err(format!(
                "{at} max_bytes = {}: must be between 1 and {MAX_MAX_BYTES}",
                l.max_bytes
            ));
        }
        for (name, field) in &l.fields {
            if !valid_name(name) {
                return Err(format!("{at} fields.{name}: not a valid payload key"));
            }
            if let Some(key) = &field.key
                && (key.is_empty() || key.split('.').any(str::is_empty))
            {
                return Err(format!(
                    "{at} fields.{name} key = {key:?}: a message key, or a dotted path such as \"amount.total\""
                ));
            }
        }
        for name in l.metadata.keys() {
            if !valid_name(name) {
                return Err(format!("{at} metadata.{name}: not a valid payload key"));
            }
            if l.fields.contains_key(name) {
                return Err(format!(
                    "{at} metadata.{name}: this payload key is already filled from [listener.fields]"
                ));
            }
        }
        if let Some(channel) = &l.channel
            && !(channel.len() <= 128 && channel.split('.').all(valid_name))
        {
            return Err(format!(
                "{at} channel = {channel:?}: dot-separated names such as \"root.orders\""
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
