//! `/api/…`: the admin JSON API, over [`crate::admin::Admin::Local`].
//!
//! | route | operation |
//! | --- | --- |
//! | `GET /api/health` | [`Admin::health`] |
//! | `GET /api/jobs?state=&channel=&instance=&since=&limit=` | [`Admin::list_jobs`] |
//! | `GET /api/jobs/{id}` | [`Admin::job`] (with its log) |
//! | `POST /api/jobs/{id}/requeue\|cancel\|stop\|done` | [`Admin::act`] |
//! | `GET /api/instances`, `GET /api/instances/{name}` | [`Admin::instances`], [`Admin::instance`] |
//! | `POST /api/instances/{instance}/buttons/{button}` (body: the data, JSON) | [`Admin::press`] |
//!
//! Errors are `{"error": "…"}` with the status of [`crate::admin::http_status`]:
//! 404 for what does not exist, 409 for a job whose state forbids the action.

use super::{App, error};
use crate::admin::{Admin, JobAction, http_status};
use crate::error::Error;
use crate::store::JobFilter;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/jobs", get(list_jobs))
        .route("/api/jobs/{id}", get(job))
        .route("/api/jobs/{id}/{action}", post(act))
        .route("/api/instances", get(instances))
        .route("/api/instances/{name}", get(instance))
        .route("/api/instances/{instance}/buttons/{button}", post(press))
}

/// The answer of an operation: its value as JSON, or its error.
fn answer<T: Serialize>(result: crate::Result<T>, ok: StatusCode) -> Response {
    match result {
        Ok(value) => (ok, Json(value)).into_response(),
        Err(e) => failed(&e),
    }
}

fn failed(e: &Error) -> Response {
    let status = StatusCode::from_u16(http_status(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!("admin API: {e}");
    }
    error(status, e.to_string())
}

fn bad_request(what: impl std::fmt::Display) -> Response {
    error(StatusCode::BAD_REQUEST, what.to_string())
}

fn admin(app: &App) -> &Admin {
    &app.admin
}

async fn health(State(app): State<App>) -> Response {
    answer(admin(&app).health().await, StatusCode::OK)
}

async fn list_jobs(
    State(app): State<App>,
    filter: Result<Query<JobFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).list_jobs(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn job(State(app): State<App>, id: Result<Path<i64>, PathRejection>) -> Response {
    match id {
        Ok(Path(id)) => answer(admin(&app).job(id).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn act(State(app): State<App>, path: Result<Path<(i64, String)>, PathRejection>) -> Response {
    let (id, action) = match path {
        Ok(Path(p)) => p,
        Err(e) => return bad_request(e.body_text()),
    };
    match JobAction::parse(&action) {
        Ok(action) => answer(admin(&app).act(id, action).await, StatusCode::OK),
        Err(e) => failed(&e),
    }
}

async fn instances(State(app): State<App>) -> Response {
    answer(admin(&app).instances().await, StatusCode::OK)
}

async fn instance(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).instance(&name).await, StatusCode::OK)
}

async fn press(
    State(app): State<App>,
    Path((instance, button)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let data: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return bad_request(format!("the body (the button's data) is not JSON: {e}")),
        }
    };
    answer(
        admin(&app).press(&instance, &button, &data, "api").await,
        StatusCode::CREATED,
    )
}
