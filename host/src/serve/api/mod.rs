//! `/api/…`: the admin JSON API, over [`crate::admin::Admin::Local`]. Every
//! route needs an API token (`Authorization: Bearer ferry_…`) of the role in
//! its group; [`super::auth`] checks it before the handler runs.
//!
//! The routes, their roles and what each does are in one table,
//! [`API_ROUTES`] (`table.rs`), from which the router and the OpenAPI
//! document (`GET /api/openapi.json`, no token needed: it describes the API,
//! holds no data, and tools read it before they have a token) are both made.
//! Filters are the query strings of [`crate::store::JobFilter`],
//! [`crate::store::LogFilter`], [`crate::store::TransmissionFilter`],
//! [`crate::store::AuditFilter`], [`crate::store::LinkFilter`]; an unknown
//! value (a state, trigger or level that does not exist) is a 400 naming the
//! accepted ones.
//!
//! Errors are `{"error": "…"}` with the status of [`crate::admin::http_status`]:
//! 401 without a valid token, 403 for a role too weak, 404 for what does not
//! exist, 409 for a job whose state forbids the action or a conflict already
//! resolved.

mod catalog;
mod jobs;
mod logs;
mod manage;
mod openapi;
mod reply;
mod sources;
mod stores;
mod table;
mod topics;

use super::app::App;
use axum::Router;

pub use openapi::openapi;
pub use table::{API_ROUTES, ApiRoute};

pub(super) fn routes(app: &App) -> Router<App> {
    table::router(app).route("/api/openapi.json", axum::routing::get(openapi::document))
}
