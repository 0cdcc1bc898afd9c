//! `/api/overview` and `/api/jobs…`: the queue as operators see it, one job
//! or a filtered set at a time.

use super::reply::{admin, answer, bad_request, failed};
use crate::admin::{JobAction, PruneRequest, WarningsQuery};
use crate::serve::app::App;
use crate::store::JobFilter;
use crate::tokens::Caller;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /api/overview`.
pub(super) async fn overview(State(app): State<App>) -> Response {
    answer(admin(&app).overview().await, StatusCode::OK)
}

/// `POST /api/jobs/bulk/{action}` with a [`JobFilter`] as body (an empty
/// body: every job, which the bound of a bulk action refuses past 10 000).
pub(super) async fn act_many(
    State(app): State<App>,
    action: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let action = match action {
        Ok(Path(action)) => action,
        Err(e) => return bad_request(e.body_text()),
    };
    let action = match JobAction::parse(&action) {
        Ok(action) => action,
        Err(e) => return failed(&e),
    };
    let filter: JobFilter = if body.iter().all(u8::is_ascii_whitespace) {
        JobFilter::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(filter) => filter,
            Err(e) => return bad_request(format!("the body (a job filter) is not valid: {e}")),
        }
    };
    answer(admin(&app).act_many(&filter, action).await, StatusCode::OK)
}

/// `POST /api/jobs/prune` with a [`PruneRequest`] as body: forget (or count,
/// dry) finished jobs and the rest of the history older than its age.
pub(super) async fn prune(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let request: PruneRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return bad_request(format!(
                "the body is not a prune request ({{\"older_than_ms\": …, \"dry_run\": false}}): {e}"
            ));
        }
    };
    answer(
        admin(&app).prune(&request, &caller.actor()).await,
        StatusCode::OK,
    )
}

pub(super) async fn list_jobs(
    State(app): State<App>,
    filter: Result<Query<JobFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => answer(admin(&app).list_jobs(&filter).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn job(State(app): State<App>, id: Result<Path<i64>, PathRejection>) -> Response {
    match id {
        Ok(Path(id)) => answer(admin(&app).job(id).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn job_steps(
    State(app): State<App>,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => answer(admin(&app).job_steps(id).await, StatusCode::OK),
        Err(e) => bad_request(e.body_text()),
    }
}

pub(super) async fn job_warnings(
    State(app): State<App>,
    id: Result<Path<i64>, PathRejection>,
    query: Result<Query<WarningsQuery>, QueryRejection>,
) -> Response {
    let (id, query) = match (id, query) {
        (Ok(Path(id)), Ok(Query(query))) => (id, query),
        (Err(e), _) => return bad_request(e.body_text()),
        (_, Err(e)) => return bad_request(e.body_text()),
    };
    answer(
        admin(&app).job_warnings(id, query.limit).await,
        StatusCode::OK,
    )
}

pub(super) async fn act(
    State(app): State<App>,
    path: Result<Path<(i64, String)>, PathRejection>,
) -> Response {
    let (id, action) = match path {
        Ok(Path(p)) => p,
        Err(e) => return bad_request(e.body_text()),
    };
    match JobAction::parse(&action) {
        Ok(action) => answer(admin(&app).act(id, action).await, StatusCode::OK),
        Err(e) => failed(&e),
    }
}
