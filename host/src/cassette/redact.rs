//! [`Redactor`]: what could carry a secret, replaced by [`REDACTED`] on its
//! way to a cassette.

use super::format::Body;
use serde_json::{Map, Value};

/// What a secret is replaced by in a cassette.
pub const REDACTED: &str = "[redacted]";

/// Whether a parameter or header named `name` holds a secret: its name says
/// key, token, secret, password, auth, session or cookie.
pub fn sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "key", "token", "secret", "password", "passwd", "auth", "session", "cookie",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Replaces secrets by [`REDACTED`]: known secret values anywhere, and the
/// values of query parameters, headers and params named like a secret.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    /// A redactor of these secret values (empty ones and [`REDACTED`] itself
    /// are ignored; longer values are replaced first).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| !v.is_empty() && v != REDACTED)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    /// `text` with each secret value (as is, and URL-encoded) replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in &self.values {
            out = out.replace(value, REDACTED);
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            if encoded != *value {
                out = out.replace(&encoded, REDACTED);
            }
        }
        out
    }

    /// A URL with secret values replaced and the values of query parameters
    /// named like a secret replaced.
    pub fn url(&self, url: &str) -> String {
        let url = self.text(url);
        let Some((base, query)) = url.split_once('?') else {
            return url;
        };
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if sensitive_name(name) => format!("{name}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        format!("{base}?{}", pairs.join("&"))
    }

    /// Headers with values of secret-named headers replaced, and secret
    /// values replaced in the others.
    pub fn headers(&self, headers: &http::HeaderMap) -> Map<String, Value> {
        let mut out = Map::new();
        for name in headers.keys() {
            let value = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            let value = if sensitive_name(name.as_str()) {
                REDACTED.to_string()
            } else {
                self.text(&value)
            };
            out.insert(name.as_str().to_string(), Value::String(value));
        }
        out
    }

    /// A body with secret values replaced (text bodies only).
    pub fn body(&self, bytes: &[u8]) -> Option<Body> {
        match Body::of(bytes)? {
            Body::Text(text) => Some(Body::Text(self.text(&text))),
            other => Some(other),
        }
    }

    /// Params with those named like a secret, and secret values, replaced.
    pub fn params(&self, params: &Map<String, Value>) -> Map<String, Value> {
        params
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::String(s) if sensitive_name(name) && !s.is_empty() => {
                        Value::String(REDACTED.into())
                    }
                    Value::String(s) => Value::String(self.text(s)),
                    other => other.clone(),
                };
                (name.clone(), value)
            })
            .collect()
    }
}
