//! `/api/stores`: where instances' `meta` and `blobs` stores are.

use super::reply::{admin, answer, bad_request};
use crate::serve::app::App;
use crate::stores::StoreSpec;
use crate::tokens::Caller;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/stores`.
pub(super) async fn stores(State(app): State<App>) -> Response {
    answer(admin(&app).stores(None).await, StatusCode::OK)
}

/// `GET /api/stores/{instance}`.
pub(super) async fn instance_stores(
    State(app): State<App>,
    Path(instance): Path<String>,
) -> Response {
    answer(admin(&app).stores(Some(&instance)).await, StatusCode::OK)
}

/// `POST /api/stores` (a [`StoreSpec`]).
pub(super) async fn set_store(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<StoreSpec>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(spec)) => answer(
            admin(&app).set_store(&spec, &caller.actor()).await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `DELETE /api/stores/{instance}/{store}`.
pub(super) async fn remove_store(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, store)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app)
            .remove_store(&instance, &store, &caller.actor())
            .await,
        StatusCode::OK,
    )
}
