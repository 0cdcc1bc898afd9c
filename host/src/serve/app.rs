//! What every handler of `ferry serve` shares: the installation, the
//! server's options, and the shape of an error answer.

use crate::Ferry;
use crate::triggers::webhook::DEFAULT_MAX_BODY;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Largest webhook body accepted, in bytes (larger: 413).
    pub max_body: usize,
    /// Mark the console's session cookie `Secure` (browsers then send it over
    /// HTTPS only): set it when the server is reached through a TLS proxy.
    /// A request that says it came over HTTPS (`X-Forwarded-Proto: https`)
    /// gets a `Secure` cookie either way.
    pub secure_cookies: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_body: DEFAULT_MAX_BODY,
            secure_cookies: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(super) struct App {
    pub(super) ferry: Ferry,
    pub(super) admin: crate::admin::Admin,
    pub(super) options: ServeOptions,
}

/// `{"error": message}` with `status`.
pub(super) fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
