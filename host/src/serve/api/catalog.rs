//! `/api/modules`, `/api/cron`, `/api/checkpoints`, `/api/links`: what is
//! installed, scheduled, flagged for review and linked.

use super::reply::{admin, answer, bad_request};
use crate::admin::InstanceQuery;
use crate::serve::app::App;
use crate::store::LinkFilter;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/modules`.
pub(super) async fn modules(State(app): State<App>) -> Response {
    answer(admin(&app).modules().await, StatusCode::OK)
}

/// `GET /api/cron?instance=`.
pub(super) async fn cron(
    State(app): State<App>,
    query: Result<Query<InstanceQuery>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(query)) => answer(
            admin(&app).cron_schedules(query.instance.as_deref()).await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `GET /api/checkpoints`.
pub(super) async fn checkpoints(State(app): State<App>) -> Response {
    answer(admin(&app).checkpoints().await, StatusCode::OK)
}

/// `DELETE /api/checkpoints`: clear them all.
pub(super) async fn clear_all_checkpoints(State(app): State<App>) -> Response {
    answer(admin(&app).clear_checkpoints(None).await, StatusCode::OK)
}

/// `DELETE /api/checkpoints/{id}`.
pub(super) async fn clear_checkpoint(
    State(app): State<App>,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => answer(
            admin(&app).clear_checkpoints(Some(id)).await,
            StatusCode::OK,
        ),
        Err(e) => bad_request(e.body_text()),
    }
}

/// `GET /api/links?…` (a [`LinkFilter`]).
pub(super) async fn links(
    State(app): State<App>,
    filter: Result<Query<LinkFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).links(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}
