//! The cassette file: [`Cassette`], its [`Interaction`]s, their bodies.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// The format version written in each cassette.
pub const FORMAT: u32 = 1;

/// One scenario's recorded exchanges and outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cassette {
    /// [`FORMAT`] when written.
    pub format: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The module and version that made the recording (`shop 1.2.0`).
    pub recorded_with: String,
    /// When, RFC 3339.
    pub recorded_at: String,
    /// The instance's params during the recording, redacted; a replay runs
    /// with these, so it needs no live settings.
    pub params: Map<String, Value>,
    /// The requests, in the order they were made, each with its response.
    pub interactions: Vec<Interaction>,
    /// What the scenario left behind (records, links, requests).
    pub result: Value,
}

impl Cassette {
    /// Read the cassette at `path`.
    pub fn load(path: &Path) -> crate::Result<Cassette> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
        let cassette: Cassette = serde_json::from_str(&text).map_err(|e| {
            crate::Error::Invalid(format!("{}: not a Ferry cassette: {e}", path.display()))
        })?;
        if cassette.format != FORMAT {
            return Err(crate::Error::Invalid(format!(
                "{}: cassette format {} (this Ferry reads format {FORMAT}): record it again with `ferry test DIR --record`",
                path.display(),
                cassette.format
            )));
        }
        Ok(cassette)
    }

    /// Write the cassette to `path` (pretty JSON, a folder made if missing).
    pub fn save(&self, path: &Path) -> crate::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        }
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| crate::Error::io(path, e))
    }
}

/// One request and the response it got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interaction {
    /// What the guest asked.
    pub request: RecordedRequest,
    /// What the server answered.
    pub response: RecordedResponse,
}

/// A request as the guest made it (redacted; no sealed credential).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `PUT`…
    pub method: String,
    /// The full URL, query included.
    pub url: String,
    /// Headers (lower-case names; values of several joined by `, `).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// The body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

impl RecordedRequest {
    /// Whether `other` is the same request: method, URL, and body (JSON
    /// bodies compared as values, so key order and spacing do not count).
    /// Headers are not compared: they carry dates, ids and credentials.
    pub fn matches(&self, other: &RecordedRequest) -> bool {
        self.same_target(other) && self.body_value() == other.body_value()
    }

    /// Whether `other` has the same method and URL.
    pub fn same_target(&self, other: &RecordedRequest) -> bool {
        self.method.eq_ignore_ascii_case(&other.method) && self.url == other.url
    }

    /// The body as JSON when it is JSON, else as text (or base64).
    pub fn body_value(&self) -> Value {
        match &self.body {
            None => Value::Null,
            Some(Body::Text(text)) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
            Some(Body::Base64 { base64 }) => Value::String(base64.clone()),
        }
    }

    /// `METHOD URL`, as messages name a request.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// A response as the server gave it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// The body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A body: text when it is UTF-8 (readable in review), else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Body {
    /// UTF-8 text (JSON included).
    Text(String),
    /// Any other bytes.
    Base64 {
        /// The bytes, standard base64.
        base64: String,
    },
}

impl Body {
    /// The body of `bytes`; none when empty.
    pub fn of(bytes: &[u8]) -> Option<Body> {
        if bytes.is_empty() {
            return None;
        }
        Some(match std::str::from_utf8(bytes) {
            Ok(text) => Body::Text(text.to_string()),
            Err(_) => Body::Base64 {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
        })
    }

    /// The bytes again.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Base64 { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .unwrap_or_default(),
        }
    }
}
