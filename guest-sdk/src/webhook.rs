//! Webhooks: HTTP calls that an external system makes to Ferry
//! (`POST /hooks/{instance}/{hook}`), answered at once by the module.
//!
//! The host checks a call before the module sees it (size, token or HMAC
//! signature, JSON body for `content = "json"`); the handler registered with
//! [`crate::Connector::webhook`] gets a [`Request`] and returns a [`Response`].
//! A handler answers quickly: work that takes time goes in a job
//! ([`crate::Context::enqueue`]), and the answer says which.
//!
//! ```no_run
//! use ferry_sdk::prelude::*;
//! use ferry_sdk::webhook::{Request, Response};
//! use serde_json::json;
//!
//! fn note_changed(ctx: &Context, request: Request) -> Result<Response> {
//!     let id = request.json()?["id"].as_u64().ok_or_else(|| Error::fatal("no `id`"))?;
//!     let job = ctx.enqueue(Job::new("import-record", &json!({ "model": "note", "external_id": id })))?;
//!     Ok(Response::json(202, &json!({ "job": job })))
//! }
//!
//! fn connector() -> Connector {
//!     Connector::new().webhook("note-changed", note_changed)
//! }
//! ```

use serde_json::Value;

/// A webhook call, as the host passed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Query string without `?` (empty when there is none).
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

    /// The body as JSON (the host already checked it for `content = "json"`).
    pub fn json(&self) -> crate::Result<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The answer to a webhook call, sent back to the caller as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status (100 to 599).
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// An answer with this status and no body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> Self {
        Response::new(status)
            .header("content-type", "application/json")
            .body(crate::json::text(body).into_bytes())
    }

    /// A plain text answer.
    pub fn text(status: u16, body: &str) -> Self {
        Response::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body.as_bytes().to_vec())
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}
