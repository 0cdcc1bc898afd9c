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
mod openapi;
mod table;

pub use openapi::openapi;
pub use table::{API_ROUTES, ApiRoute};

use super::app::{App, error};
use crate::admin::{Admin, NewInstance, PolicyRequest, TokenRequest, http_status};
use crate::error::Error;
use crate::profiles::{NewProfile, ParamInput, ProfileEdit};
use crate::store::{ConflictFilter, PairFilter, Take};
use crate::tokens::Caller;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

pub(super) fn routes(app: &App) -> Router<App> {
    table::router(app).route("/api/openapi.json", axum::routing::get(openapi::document))
}

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

async fn health(State(app): State<App>) -> Response {
    answer(admin(&app).health().await, StatusCode::OK)
}

async fn instances(State(app): State<App>) -> Response {
    answer(admin(&app).instances().await, StatusCode::OK)
}

async fn instance(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).instance(&name).await, StatusCode::OK)
}

async fn press(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
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
        admin(&app)
            .press(&instance, &button, &data, &caller.actor())
            .await,
        StatusCode::CREATED,
    )
}

async fn add_instance(
    State(app): State<App>,
    body: Result<Json<NewInstance>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(new)) => answer(admin(&app).add_instance(&new).await, StatusCode::CREATED),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn remove_instance(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).remove_instance(&name).await, StatusCode::OK)
}

async fn cursors(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).cursors(&name).await, StatusCode::OK)
}

async fn set_cursor(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("the body (the cursor's value) is not JSON: {e}")),
    };
    answer(
        admin(&app)
            .set_cursor(&instance, &name, &value, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

async fn clear_cursor(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, name)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app)
            .clear_cursor(&instance, &name, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

async fn all_secrets(State(app): State<App>) -> Response {
    answer(admin(&app).secrets(None).await, StatusCode::OK)
}

async fn secrets(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).secrets(Some(&name)).await, StatusCode::OK)
}

async fn set_secret(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(value) = std::str::from_utf8(&body) else {
        return bad_request("the body (the secret's value) is not UTF-8 text");
    };
    answer(
        admin(&app)
            .set_secret(&instance, &name, value, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

async fn remove_secret(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, name)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app)
            .remove_secret(&instance, &name, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

async fn tokens(State(app): State<App>) -> Response {
    answer(admin(&app).tokens().await, StatusCode::OK)
}

async fn create_token(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(request)) => answer(
            admin(&app)
                .create_token(&request.name, request.role, &caller.actor())
                .await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn revoke_token(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Response {
    answer(
        admin(&app).revoke_token(&name, &caller.actor()).await,
        StatusCode::OK,
    )
}

async fn conflicts(
    State(app): State<App>,
    filter: Result<Query<ConflictFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).conflicts(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn conflict(State(app): State<App>, id: Result<Path<i64>, PathRejection>) -> Response {
    match id {
        Ok(Path(id)) => answer(admin(&app).conflict(id).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn resolve_conflict(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<Take>, JsonRejection>,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return bad_request(e.body_text()),
    };
    match body {
        Ok(Json(take)) => answer(
            admin(&app)
                .resolve_conflict(id, &take, &caller.actor())
                .await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(format!(
            "{} (expected {{\"take\": \"local\"}}, {{\"take\": \"remote\"}} or \
             {{\"take\": \"merge\", \"values\": {{…}}}})",
            e.body_text()
        )),
    }
}

async fn conflict_policies(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).conflict_policies(&name).await, StatusCode::OK)
}

async fn conflict_policy(
    State(app): State<App>,
    Path((name, model)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app).conflict_policy(&name, &model).await,
        StatusCode::OK,
    )
}

async fn set_conflict_policy(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((name, model)): Path<(String, String)>,
    body: Result<Json<PolicyRequest>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(request)) => answer(
            admin(&app)
                .set_conflict_policy(&name, &model, request.policy, &caller.actor())
                .await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn pairs(
    State(app): State<App>,
    filter: Result<Query<PairFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).pairs(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn unpair(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((name, label, left_id)): Path<(String, String, String)>,
) -> Response {
    answer(
        admin(&app)
            .unpair(&name, &label, &left_id, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

async fn profiles(State(app): State<App>) -> Response {
    answer(admin(&app).profiles().await, StatusCode::OK)
}

async fn profile(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).profile(&name).await, StatusCode::OK)
}

async fn create_profile(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewProfile>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(new)) => answer(
            admin(&app).create_profile(&new, &caller.actor()).await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn edit_profile(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Result<Json<ProfileEdit>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(edit)) => answer(
            admin(&app)
                .edit_profile(&name, &edit, &caller.actor())
                .await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn remove_profile(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Response {
    answer(
        admin(&app).remove_profile(&name, &caller.actor()).await,
        StatusCode::OK,
    )
}

async fn run_profile(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let overrides: ParamInput = if body.iter().all(u8::is_ascii_whitespace) {
        ParamInput::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return bad_request(format!("the body (the overrides) is not valid: {e}")),
        }
    };
    answer(
        admin(&app)
            .run_profile(&name, &overrides, &caller.actor())
            .await,
        StatusCode::CREATED,
    )
}
