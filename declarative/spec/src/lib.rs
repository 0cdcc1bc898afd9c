//! Declarative connectors: a REST connector written as configuration only.
//!
//! A `connector.toml` with a `[rest]` section needs no code: Ferry runs it
//! with its `rest` module, in the same sandbox and under the same
//! `[capabilities]` as any other module. Each `[[rest.stream]]` is one local
//! model and the API collection it syncs with:
//!
//! ```toml
//! [rest]
//! base_url = "{{ params.url }}"
//! headers = { x-api-key = "{{ params.api_key }}" }
//!
//! [[rest.stream]]
//! model = "product"                 # the local model
//! path = "api/v1/products"          # the collection, relative to base_url
//! records = "/items"                # where a page holds its records (JSON pointer)
//! paging = { type = "page_number", param = "page", size_param = "per_page", size = 200, pages_at = "/pages" }
//! cursor = { field = "updated_at", param = "updated_since" }
//! write = { method = "PUT", if_match = true, idempotency_header = "idempotency-key" }
//! fields = { name = "name", sku = "default_code", price = { local = "list_price", type = "decimal", decimals = 2 } }
//! ```
//!
//! This crate is the grammar ([`RestConnector`]), its checks
//! ([`RestConnector::check`], naming the key at fault) and the
//! `{{ params.NAME }}` templates ([`render`]); the manifest crate checks a
//! manifest with it at install, and the `rest` module reads the same
//! structures at run time from the reserved param [`CONFIG_PARAM`].

mod fields;
mod paging;
mod template;

pub use fields::{Direction, Field, FieldType};
pub use paging::Paging;
pub use template::{render, template_params};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The param under which the host hands a declarative module its `[rest]`
/// section (as JSON). `:` cannot appear in a declared param's name, so no
/// instance can set or shadow it.
pub const CONFIG_PARAM: &str = "ferry:rest";

/// The module that runs declarative REST connectors.
pub const RUNTIME_MODULE: &str = "rest";

/// `[rest]`: a REST API and the streams synced with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RestConnector {
    /// The API's base URL; usually `{{ params.url }}`.
    pub base_url: String,
    /// Headers sent with every request (`{{ params.NAME }}` templates allowed).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The `[[capabilities.credential]]` presented with every request: the
    /// host adds the instance's sealed secret (bearer, basic, header or
    /// query), the module never sees it.
    #[serde(default)]
    pub credential: Option<String>,
    /// The streams: one per local model.
    #[serde(rename = "stream")]
    pub streams: Vec<Stream>,
}

/// `[[rest.stream]]`: one local model and the API collection it syncs with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// The local model (`product`).
    pub model: String,
    /// The collection's path, relative to `base_url` (`api/v1/products`);
    /// one record is `{path}/{id}`.
    pub path: String,
    /// Where a page of the list holds its records (a JSON pointer; empty:
    /// the body is the array).
    #[serde(default)]
    pub records: String,
    /// The record's id field.
    #[serde(default = "default_primary_key")]
    pub primary_key: String,
    /// How the list is split into pages (one request when absent).
    #[serde(default)]
    pub paging: Option<Paging>,
    /// Incremental reads: ask only for what changed since the last batch.
    #[serde(default)]
    pub cursor: Option<Cursor>,
    /// The field holding the record's version (when absent: `updated_at`,
    /// else `etag`, else `version`, else a hash of the record): a record
    /// whose version did not change is not imported again, and writes send
    /// it as `If-Match` when `write.if_match` is set.
    #[serde(default)]
    pub version_field: Option<String>,
    /// How records are created and written (read-only when absent).
    #[serde(default)]
    pub write: Option<Write>,
    /// Remote field → local field, both ways unless said.
    pub fields: BTreeMap<String, Field>,
    /// Local values set when the import creates a record (`origin = "shop"`).
    #[serde(default)]
    pub on_create: Map<String, Value>,
}

fn default_primary_key() -> String {
    "id".into()
}

/// `cursor`: the field whose newest value listed is where the next batch
/// starts, and the query parameter that asks for what changed after it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The record's field (`updated_at`).
    pub field: String,
    /// The list's query parameter (`updated_since`).
    pub param: String,
}

/// `write`: how local changes go to the API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Write {
    /// The method that writes a record at `{path}/{id}`: `PUT` or `PATCH`.
    #[serde(default = "default_write_method")]
    pub method: String,
    /// Send the version read just before as `If-Match` (a change made
    /// remotely in between is refused with 412, and the retry checks for a
    /// conflict).
    #[serde(default)]
    pub if_match: bool,
    /// The header that carries a create's idempotency key (a create retried
    /// after a crash then gets back the record made the first time).
    #[serde(default)]
    pub idempotency_header: Option<String>,
}

fn default_write_method() -> String {
    "PUT".into()
}

impl RestConnector {
    /// The stream of `model`.
    pub fn stream(&self, model: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.model == model)
    }

    /// Check what serde cannot: templates name only params in `declared`,
    /// models are unique, pointers start with `/`, methods are known,
    /// fields map somewhere. The message names the key (`[[rest.stream]]
    /// product: write.method = "POST": …`).
    pub fn check(&self, declared: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let templates = std::iter::once(("[rest] base_url".to_string(), &self.base_url)).chain(
            self.headers
                .iter()
                .map(|(name, value)| (format!("[rest] headers.{name}"), value)),
        );
        for (key, text) in templates {
            for param in template_params(text).map_err(|e| format!("{key}: {e}"))? {
                if !declared(&param) {
                    return Err(format!(
                        "{key} names `{{{{ params.{param} }}}}`, which no [params.{param}] declares: declare it"
                    ));
                }
            }
        }
        if self.streams.is_empty() {
            return Err("[rest] declares no [[rest.stream]]: add one per model".into());
        }
        for (i, stream) in self.streams.iter().enumerate() {
            if self.streams[..i].iter().any(|s| s.model == stream.model) {
                return Err(format!(
                    "[[rest.stream]] model = {:?} is declared twice: one stream per model",
                    stream.model
                ));
            }
            stream
                .check()
                .map_err(|e| format!("[[rest.stream]] {}: {e}", stream.model))?;
        }
        Ok(())
    }
}

impl Stream {
    fn check(&self) -> Result<(), String> {
        let model_ok = !self.model.is_empty()
            && self
                .model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !model_ok {
            return Err("model: letters, digits, `_` and `.` only".into());
        }
        if self.path.is_empty() || self.path.contains("://") || self.path.contains("..") {
            return Err(format!(
                "path = {:?}: a path relative to base_url, such as \"api/v1/products\"",
                self.path
            ));
        }
        pointer("records", &self.records)?;
        if let Some(paging) = &self.paging {
            paging.check()?;
        }
        if let Some(write) = &self.write
            && !matches!(write.method.as_str(), "PUT" | "PATCH")
        {
            return Err(format!(
                "write.method = {:?}: `PUT` or `PATCH` (creates are a POST to the path)",
                write.method
            ));
        }
        if self.fields.is_empty() {
            return Err("fields is empty: map at least one remote field to a local one".into());
        }
        for (remote, field) in &self.fields {
            field.check().map_err(|e| format!("fields.{remote}: {e}"))?;
        }
        Ok(())
    }
}

/// A JSON pointer: empty (the whole body) or starting with `/`.
pub(crate) fn pointer(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "{key} = {value:?}: a JSON pointer starts with `/` (\"/{value}\")"
        ))
    }
}

#[cfg(test)]
mod tests;
