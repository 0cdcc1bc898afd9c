//! `/api/…`: the admin JSON API, over [`crate::admin::Admin::Local`]. Every
//! route needs an API token (`Authorization: Bearer ferry_…`) of the role in
//! its group; [`super::auth`] checks it before the handler runs.
//!
//! | role | route | operation |
//! | --- | --- | --- |
//! | viewer | `GET /api/health` | [`Admin::health`] |
//! | viewer | `GET /api/overview` | [`Admin::overview`] |
//! | viewer | `GET /api/jobs?state=&instance=&channel=&module=&name=&trigger=&text=&since=&until=&before=&limit=` | [`Admin::list_jobs`] |
//! | viewer | `GET /api/logs?instance=&module=&job_name=&trigger=&level=&state=&since=&until=&grep=&job=&before=&after=&limit=` | [`Admin::logs`] |
//! | viewer | `GET /api/transmissions?instance=&job=&module=&host=&status=&refused=&since=&until=&before=&limit=` | [`Admin::transmissions`] |
//! | viewer | `GET /api/audit?instance=&job=&actor=&action=&since=&until=&before=&limit=` | [`Admin::audit`] |
//! | viewer | `GET /api/modules`, `GET /api/cron?instance=`, `GET /api/checkpoints` | [`Admin::modules`], [`Admin::cron_schedules`], [`Admin::checkpoints`] |
//! | viewer | `GET /api/links?instance=&model=&local_id=&external_id=&offset=&limit=` | [`Admin::links`] |
//! | developer | `POST /api/jobs/bulk/requeue\|cancel` (body: a [`crate::store::JobFilter`]) | [`Admin::act_many`] |
//! | developer | `DELETE /api/checkpoints`, `DELETE /api/checkpoints/{id}` | [`Admin::clear_checkpoints`] |
//! | viewer | `GET /api/jobs/{id}` | [`Admin::job`] (with its log) |
//! | viewer | `GET /api/jobs/{id}/steps`, `GET /api/jobs/{id}/warnings?limit=` | [`Admin::job_steps`], [`Admin::job_warnings`] |
//! | viewer | `GET /api/instances`, `GET /api/instances/{name}` | [`Admin::instances`], [`Admin::instance`] |
//! | viewer | `GET /api/conflicts?instance=&model=&state=&limit=&offset=`, `GET /api/conflicts/{id}` | [`Admin::conflicts`], [`Admin::conflict`] |
//! | viewer | `GET /api/instances/{name}/conflict-policies[/{model}]` | [`Admin::conflict_policies`], [`Admin::conflict_policy`] |
//! | viewer | `GET /api/pairs?instance=&label=&id=&limit=&offset=` | [`Admin::pairs`] |
//! | developer | `POST /api/jobs/{id}/requeue\|cancel\|stop\|done\|pause\|resume` | [`Admin::act`] |
//! | developer | `POST /api/instances/{instance}/buttons/{button}` (body: the data, JSON) | [`Admin::press`] |
//! | viewer | `GET /api/instances/{name}/cursors` | [`Admin::cursors`] |
//! | viewer | `GET /api/profiles`, `GET /api/profiles/{name}` | [`Admin::profiles`], [`Admin::profile`] |
//! | developer | `POST /api/profiles` (body: [`NewProfile`]), `PUT /api/profiles/{name}` (body: [`ProfileEdit`]), `DELETE …` | [`Admin::create_profile`], [`Admin::edit_profile`], [`Admin::remove_profile`] |
//! | developer | `POST /api/profiles/{name}/run` (body: [`ParamInput`], the one-off overrides) | [`Admin::run_profile`] |
//! | developer | `PUT /api/instances/{name}/cursors/{cursor}` (body: the value, JSON), `DELETE …` | [`Admin::set_cursor`], [`Admin::clear_cursor`] |
//! | developer | `POST /api/instances` (body: [`NewInstance`]), `DELETE /api/instances/{name}` | [`Admin::add_instance`], [`Admin::remove_instance`] |
//! | manager | `GET /api/secrets`, `GET /api/instances/{name}/secrets` | [`Admin::secrets`] (names only) |
//! | manager | `PUT /api/instances/{name}/secrets/{secret}` (body: the value, text), `DELETE …` | [`Admin::set_secret`], [`Admin::remove_secret`] |
//! | manager | `POST /api/conflicts/{id}/resolve` (body: [`Take`]) | [`Admin::resolve_conflict`] |
//! | manager | `PUT /api/instances/{name}/conflict-policies/{model}` (body: [`PolicyRequest`]) | [`Admin::set_conflict_policy`] |
//! | manager | `DELETE /api/instances/{name}/pairs/{label}/{left_id}` | [`Admin::unpair`] |
//! | manager | `GET /api/tokens`, `POST /api/tokens` (body: [`TokenRequest`]), `DELETE /api/tokens/{name}` | [`Admin::tokens`], [`Admin::create_token`], [`Admin::revoke_token`] |
//!
//! Errors are `{"error": "…"}` with the status of [`crate::admin::http_status`]:
//! 401 without a valid token, 403 for a role too weak, 404 for what does not
//! exist, 409 for a job whose state forbids the action or a conflict already
//! resolved.

mod catalog;
mod jobs;
mod logs;

use super::app::{App, error};
use super::auth::{Gate, gate};
use crate::admin::{Admin, NewInstance, PolicyRequest, TokenRequest, http_status};
use crate::error::Error;
use crate::profiles::{NewProfile, ParamInput, ProfileEdit};
use crate::store::{ConflictFilter, PairFilter, Take};
use crate::tokens::{Caller, Role};
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

pub(super) fn routes(app: &App) -> Router<App> {
    let viewer = Router::new()
        .route("/api/health", get(health))
        .route("/api/overview", get(jobs::overview))
        .route("/api/jobs", get(jobs::list_jobs))
        .route("/api/jobs/{id}", get(jobs::job))
        .route("/api/jobs/{id}/steps", get(jobs::job_steps))
        .route("/api/jobs/{id}/warnings", get(jobs::job_warnings))
        .route("/api/logs", get(logs::logs))
        .route("/api/transmissions", get(logs::transmissions))
        .route("/api/audit", get(logs::audit))
        .route("/api/modules", get(catalog::modules))
        .route("/api/cron", get(catalog::cron))
        .route("/api/checkpoints", get(catalog::checkpoints))
        .route("/api/links", get(catalog::links))
        .route("/api/instances", get(instances))
        .route("/api/instances/{name}", get(instance))
        .route("/api/conflicts", get(conflicts))
        .route("/api/conflicts/{id}", get(conflict))
        .route(
            "/api/instances/{name}/conflict-policies",
            get(conflict_policies),
        )
        .route(
            "/api/instances/{name}/conflict-policies/{model}",
            get(conflict_policy),
        )
        .route("/api/pairs", get(pairs))
        .route("/api/instances/{name}/cursors", get(cursors))
        .route("/api/profiles", get(profiles))
        .route("/api/profiles/{name}", get(profile));
    let developer = Router::new()
        .route("/api/jobs/{id}/{action}", post(jobs::act))
        .route("/api/jobs/bulk/{action}", post(jobs::act_many))
        .route(
            "/api/checkpoints",
            axum::routing::delete(catalog::clear_all_checkpoints),
        )
        .route(
            "/api/checkpoints/{id}",
            axum::routing::delete(catalog::clear_checkpoint),
        )
        .route("/api/instances/{instance}/buttons/{button}", post(press))
        .route("/api/instances", post(add_instance))
        .route("/api/profiles", post(create_profile))
        .route(
            "/api/profiles/{name}",
            put(edit_profile).delete(remove_profile),
        )
        .route("/api/profiles/{name}/run", post(run_profile))
        .route(
            "/api/instances/{name}/cursors/{cursor}",
            put(set_cursor).delete(clear_cursor),
        )
        .route(
            "/api/instances/{name}",
            axum::routing::delete(remove_instance),
        );
    let manager = Router::new()
        .route("/api/secrets", get(all_secrets))
        .route("/api/instances/{name}/secrets", get(secrets))
        .route(
            "/api/instances/{name}/secrets/{secret}",
            put(set_secret).delete(remove_secret),
        )
        .route("/api/tokens", get(tokens).post(create_token))
        .route("/api/tokens/{name}", axum::routing::delete(revoke_token))
        .route("/api/conflicts/{id}/resolve", post(resolve_conflict))
        .route(
            "/api/instances/{name}/conflict-policies/{model}",
            put(set_conflict_policy),
        )
        .route(
            "/api/instances/{name}/pairs/{label}/{left_id}",
            axum::routing::delete(unpair),
        );
    let gated = |routes: Router<App>, role: Role| {
        let gate_state = Gate {
            app: app.clone(),
            role,
        };
        routes.route_layer(from_fn_with_state(gate_state, gate))
    };
    gated(viewer, Role::Viewer)
        .merge(gated(developer, Role::Developer))
        .merge(gated(manager, Role::Manager))
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
