//! The routes that set Ferry up and keep it running: health, instances,
//! buttons, secrets, tokens, profiles, cursors, conflicts and pairs.

use super::reply::{admin, answer, bad_request};
use crate::admin::{NewInstance, PolicyRequest, TokenRequest};
use crate::profiles::{NewProfile, ParamInput, ProfileEdit};
use crate::serve::app::App;
use crate::store::{ConflictFilter, PairFilter, Take};
use crate::tokens::Caller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

pub(super) async fn health(State(app): State<App>) -> Response {
    answer(admin(&app).health().await, StatusCode::OK)
}

pub(super) async fn instances(State(app): State<App>) -> Response {
    answer(admin(&app).instances().await, StatusCode::OK)
}

pub(super) async fn instance(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).instance(&name).await, StatusCode::OK)
}

pub(super) async fn press(
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

pub(super) async fn add_instance(
    State(app): State<App>,
    body: Result<Json<NewInstance>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(new)) => answer(admin(&app).add_instance(&new).await, StatusCode::CREATED),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn remove_instance(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).remove_instance(&name).await, StatusCode::OK)
}

pub(super) async fn cursors(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).cursors(&name).await, StatusCode::OK)
}

pub(super) async fn set_cursor(
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

pub(super) async fn clear_cursor(
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

pub(super) async fn all_secrets(State(app): State<App>) -> Response {
    answer(admin(&app).secrets(None).await, StatusCode::OK)
}

pub(super) async fn secrets(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).secrets(Some(&name)).await, StatusCode::OK)
}

pub(super) async fn set_secret(
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

pub(super) async fn remove_secret(
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

pub(super) async fn tokens(State(app): State<App>) -> Response {
    answer(admin(&app).tokens().await, StatusCode::OK)
}

pub(super) async fn create_token(
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

pub(super) async fn revoke_token(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Response {
    answer(
        admin(&app).revoke_token(&name, &caller.actor()).await,
        StatusCode::OK,
    )
}

pub(super) async fn conflicts(
    State(app): State<App>,
    filter: Result<Query<ConflictFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).conflicts(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn conflict(
    State(app): State<App>,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => answer(admin(&app).conflict(id).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn resolve_conflict(
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

pub(super) async fn conflict_policies(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Response {
    answer(admin(&app).conflict_policies(&name).await, StatusCode::OK)
}

pub(super) async fn conflict_policy(
    State(app): State<App>,
    Path((name, model)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app).conflict_policy(&name, &model).await,
        StatusCode::OK,
    )
}

pub(super) async fn set_conflict_policy(
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

pub(super) async fn pairs(
    State(app): State<App>,
    filter: Result<Query<PairFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).pairs(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn unpair(
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

pub(super) async fn profiles(State(app): State<App>) -> Response {
    answer(admin(&app).profiles().await, StatusCode::OK)
}

pub(super) async fn profile(State(app): State<App>, Path(name): Path<String>) -> Response {
    answer(admin(&app).profile(&name).await, StatusCode::OK)
}

pub(super) async fn create_profile(
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

pub(super) async fn edit_profile(
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

pub(super) async fn remove_profile(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Response {
    answer(
        admin(&app).remove_profile(&name, &caller.actor()).await,
        StatusCode::OK,
    )
}

pub(super) async fn run_profile(
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
