//! `/api/logs`, `/api/transmissions`, `/api/audit`: what jobs wrote, what
//! guests sent out, and who did what to secrets and settings.

use super::reply::{admin, answer, bad_request};
use crate::serve::app::App;
use crate::store::{AuditFilter, LogFilter, TransmissionFilter};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/logs?…`: job log lines, newest first (a [`LogFilter`]).
pub(super) async fn logs(
    State(app): State<App>,
    filter: Result<Query<LogFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).logs(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `GET /api/transmissions?…` (a [`TransmissionFilter`]).
pub(super) async fn transmissions(
    State(app): State<App>,
    filter: Result<Query<TransmissionFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).transmissions(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `GET /api/audit?…` (an [`AuditFilter`]).
pub(super) async fn audit(
    State(app): State<App>,
    filter: Result<Query<AuditFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).audit(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}
