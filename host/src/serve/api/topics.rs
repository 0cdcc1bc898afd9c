//! `/api/topics` and `/api/outbox`: where instances' published topics go,
//! and the messages waiting for (or sent by) the relay.

use super::reply::{admin, answer, bad_request};
use crate::admin::OutboxQuery;
use crate::relay::TopicSpec;
use crate::serve::app::App;
use crate::tokens::Caller;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/topics`.
pub(super) async fn topics(State(app): State<App>) -> Response {
    answer(admin(&app).topics(None).await, StatusCode::OK)
}

/// `GET /api/topics/{instance}`.
pub(super) async fn instance_topics(
    State(app): State<App>,
    Path(instance): Path<String>,
) -> Response {
    answer(admin(&app).topics(Some(&instance)).await, StatusCode::OK)
}

/// `POST /api/topics` (a [`TopicSpec`]).
pub(super) async fn set_topic(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<TopicSpec>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(spec)) => answer(
            admin(&app).set_topic(&spec, &caller.actor()).await,
            StatusCode::CREATED,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `DELETE /api/topics/{instance}/{topic}`.
pub(super) async fn remove_topic(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((instance, topic)): Path<(String, String)>,
) -> Response {
    answer(
        admin(&app)
            .remove_topic(&instance, &topic, &caller.actor())
            .await,
        StatusCode::OK,
    )
}

/// `GET /api/outbox?…` (an [`OutboxQuery`]).
pub(super) async fn outbox(
    State(app): State<App>,
    query: Result<Query<OutboxQuery>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(query)) => answer(admin(&app).outbox(&query).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}
