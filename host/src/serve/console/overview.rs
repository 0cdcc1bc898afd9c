//! The Overview page: jobs by state, failing jobs at the top, jobs running
//! now with their progress, through [`crate::admin::Admin`].

use super::jobs::{JobRowView, STATES};
use super::page::{Nav, Problem, render};
use super::session::Session;
use crate::serve::app::App;
use crate::store::{JobFilter, JobState};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Nav,
    /// (state, count) in the order of the jobs filter.
    counts: Vec<(&'static str, i64)>,
    failing: Vec<JobRowView>,
    running: Vec<JobRowView>,
}

/// `GET /`.
pub(super) async fn page(State(app): State<App>, session: Session) -> Response {
    let nav = Nav::of(&session, "overview");
    let of_state = |state, limit| JobFilter {
        state: Some(state),
        limit,
        ..JobFilter::default()
    };
    let (failing_filter, running_filter) = (
        of_state(JobState::Failed, 10),
        of_state(JobState::Started, 20),
    );
    let found = tokio::try_join!(
        app.admin.health(),
        app.admin.list_jobs(&failing_filter),
        app.admin.list_jobs(&running_filter),
    );
    let (health, failing, running) = match found {
        Ok(found) => found,
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    render(&OverviewPage {
        nav,
        counts: STATES
            .iter()
            .map(|s| (*s, health.jobs.get(*s).copied().unwrap_or(0)))
            .collect(),
        failing: failing.iter().map(JobRowView::of).collect(),
        running: running.iter().map(JobRowView::of).collect(),
    })
}
