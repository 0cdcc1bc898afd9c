//! `/api/sources` and `/api/dead-letters`: broker sources, bound, paused,
//! resumed and removed, and the messages that did not become jobs.

use super::reply::{admin, answer, bad_request};
use crate::admin::{DeadLetterQuery, SourceAction};
use crate::serve::app::App;
use crate::tokens::Caller;
use crate::triggers::sources::SourceSpec;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/sources`.
pub(super) async fn sources(State(app): State<App>) -> Response {
    answer(admin(&app).sources().await, StatusCode::OK)
}

/// `POST /api/sources` (a [`SourceSpec`]).
pub(super) async fn add_source(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<SourceSpec>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(spec)) => answer(
            admin(&app).add_source(&spec, &caller.actor()).await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `POST /api/sources/{instance}/{listener}/{action}`: pause or resume.
pub(super) async fn source_action(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, String, SourceAction)>, PathRejection>,
) -> Response {
    match path {
        Ok(Path((instance, listener, action))) => answer(
            admin(&app)
                .source_action(&instance, &listener, action, &caller.actor())
                .await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `DELETE /api/sources/{instance}/{listener}`.
pub(super) async fn remove_source(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, listener)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app)
            .remove_source(&instance, &listener, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

/// `GET /api/dead-letters?…` (a [`DeadLetterQuery`]).
pub(super) async fn dead_letters(
    State(app): State<App>,
    query: Result<Query<DeadLetterQuery>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(query)) => answer(admin(&app).dead_letters(&query).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `POST /api/dead-letters/{id}/replay`.
pub(super) async fn replay(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => answer(
            admin(&app).replay_dead_letter(id, &caller.actor()).await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}
