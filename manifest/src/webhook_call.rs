//! A call to a webhook, checked before any guest runs: body size,
//! authentication (a token, or an HMAC-SHA256 signature of the body),
//! content; and the guest's answer, checked before it is sent back.
//!
//! Nothing here knows about the HTTP server or the runtime: [`check`] is a
//! pure function of the declaration, the secret and the request (a fuzz
//! target can call it), and [`answer_of`] of what the guest answered. The host
//! finds the hook, its secret and the guest (`triggers::webhook` of
//! `ferry-host`).

use crate::webhooks::{WebhookAuth, WebhookContent, WebhookDecl};
use hmac::{Hmac, Mac};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// Largest body accepted by default: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// Headers the host sets itself on an answer: a guest's are dropped.
const FRAMING_HEADERS: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
];

/// A webhook call, independent of the HTTP server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/hooks/acme/product-changed`.
    pub path: String,
    /// Query string without `?`.
    pub query: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers (valid names and values; no framing headers).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What a guest answered a webhook call, before the host checks it
/// ([`answer_of`]); the host makes it from the guest's WIT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers, as the guest wrote them.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a call got no answer from the guest (or the guest's error), as an HTTP
/// status and a reason for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status: 400, 401, 403, 404, 413, 422, 500 or 503.
    pub status: u16,
    /// What happened, for the caller.
    pub reason: String,
    /// For 503: when to try again, in seconds.
    pub retry_after_secs: Option<u64>,
}

impl Refusal {
    /// A refusal with this status and reason (no retry hint).
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
            retry_after_secs: None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

/// The secret of `hook` held in a param of the instance (`secret_param`).
pub fn param_secret(params: &Map<String, Value>, hook: &WebhookDecl) -> Option<String> {
    let name = hook.secret_param.as_ref()?;
    match params.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Check a call against its hook's declaration: body size, authentication,
/// content. `secret` is the instance's secret for the hook (none: not set).
pub fn check(
    hook: &WebhookDecl,
    secret: Option<&str>,
    request: &Request,
    max_body: usize,
) -> Result<(), Refusal> {
    if request.body.len() > max_body {
        return Err(too_large(max_body));
    }
    if hook.auth != WebhookAuth::None {
        let Some(secret) = secret else {
            let missing = match (&hook.secret, &hook.secret_param) {
                (Some(name), _) => format!("no secret `{name}` (ferry secret set INSTANCE {name})"),
                (None, param) => format!("no `{}` param", param.as_deref().unwrap_or_default()),
            };
            return Err(Refusal::new(
                503,
                format!(
                    "webhook `{}` is not configured: the backend instance has {missing}",
                    hook.name
                ),
            ));
        };
        let header = hook.header_name();
        let Some(given) = request.header(&header) else {
            return Err(Refusal::new(401, format!("missing header `{header}`")));
        };
        match hook.auth {
            WebhookAuth::Token => check_token(given, secret, &header)?,
            WebhookAuth::HmacSha256 => check_signature(given, secret, &request.body, &header)?,
            WebhookAuth::None => {}
        }
    }
    if hook.content == WebhookContent::Json
        && let Err(e) = serde_json::from_slice::<JsonDocument>(&request.body)
    {
        return Err(Refusal::new(400, format!("the body is not JSON: {e}")));
    }
    Ok(())
}

/// A JSON document, checked the way the guest SDK reads the body
/// (`serde_json::from_slice::<Value>`) without building it: strings must be
/// UTF-8 without lone surrogate escapes, numbers in range, nesting within
/// serde_json's limit. `IgnoredAny` is not enough: it skips strings and
/// numbers unchecked, so a body such as `"\xff"` (invalid UTF-8 in a string)
/// passed as JSON and the guest could not read it (found by the `webhook`
/// fuzz target).
struct JsonDocument;

impl<'de> Deserialize<'de> for JsonDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any` parses every value, as `Value` does.
        deserializer.deserialize_any(JsonDocument)
    }
}

impl<'de> Visitor<'de> for JsonDocument {
    type Value = JsonDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<JsonDocument>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<JsonDocument, JsonDocument>()?.is_some() {}
        Ok(self)
    }
}

/// The refusal of a body over `max_body` bytes.
pub fn too_large(max_body: usize) -> Refusal {
    Refusal::new(
        413,
        format!("the body is larger than the limit of {max_body} bytes"),
    )
}

fn check_token(given: &str, secret: &str, header: &str) -> Result<(), Refusal> {
    let given = given.trim();
    let given = match given.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => given[7..].trim_start(),
        _ => given,
    };
    if bool::from(given.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::new(
            401,
            format!("the token in `{header}` is not the right one"),
        ))
    }
}

fn check_signature(given: &str, secret: &str, body: &[u8], header: &str) -> Result<(), Refusal> {
    let given = given.trim();
    let hex_text = given.strip_prefix("sha256=").unwrap_or(given);
    let signature = hex::decode(hex_text).map_err(|_| {
        Refusal::new(
            401,
            format!("`{header}` is not a hex HMAC-SHA256 signature (optionally after `sha256=`)"),
        )
    })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Refusal::new(500, format!("HMAC key: {e}")))?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature).map_err(|_| {
        Refusal::new(
            401,
            format!("the signature in `{header}` does not match the body"),
        )
    })
}

/// The guest's answer as the caller gets it, if it is a valid HTTP answer: a
/// status from 200 to 599 and valid header names and values, without the
/// framing headers (the server sets those itself). Anything else is a 500
/// refusal naming `module`. Public, like [`check`], so that a fuzz target can
/// feed it what a hostile guest might answer.
pub fn answer_of(answer: GuestAnswer, module: &str) -> Result<Answer, Refusal> {
    let bad = |what: String| {
        Refusal::new(
            500,
            format!("module `{module}` answered the webhook with {what}"),
        )
    };
    if !(200..=599).contains(&answer.status) {
        return Err(bad(format!("status {}", answer.status)));
    }
    let mut headers = Vec::with_capacity(answer.headers.len());
    for (name, value) in answer.headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(bad(format!("an invalid header name {name:?}")));
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(bad(format!("an invalid value for header `{name}`")));
        }
        if FRAMING_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        headers.push((name, value));
    }
    Ok(Answer {
        status: answer.status,
        headers,
        body: answer.body,
    })
}

#[cfg(test)]
mod tests;
