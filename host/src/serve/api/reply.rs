//! How the admin API answers: an operation's value as JSON, or its error
//! with the status of [`crate::admin::http_status`].

use crate::admin::{Admin, http_status};
use crate::error::Error;
use crate::serve::app::{App, error};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The answer of an operation: its value as JSON, or its error.
pub(super) fn answer<T: Serialize>(result: crate::Result<T>, ok: StatusCode) -> Response {
    match result {
        Ok(value) => (ok, Json(value)).into_response(),
        Err(e) => failed(&e),
    }
}

pub(super) fn failed(e: &Error) -> Response {
    let status = StatusCode::from_u16(http_status(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!("admin API: {e}");
    }
    error(status, e.to_string())
}

pub(super) fn bad_request(what: impl std::fmt::Display) -> Response {
    error(StatusCode::BAD_REQUEST, what.to_string())
}

pub(super) fn admin(app: &App) -> &Admin {
    &app.admin
}
