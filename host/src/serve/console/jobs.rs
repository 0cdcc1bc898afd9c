//! The Jobs page (filters, keyset pages, live rows) and the job detail page
//! (payload, result or error, tries with their logs, progress, steps and
//! warnings, actions by role). Everything through [`crate::admin::Admin`].

use super::filters::{api_query, filter_query, page_url, parse_filter};
use super::page::{Nav, Problem, duration, field, maybe_time, progress, render, time};
use super::session::Session;
use crate::admin::{JobAction, JobInfo};
use crate::serve::app::App;
use crate::store::{Dependency, JobState, TRIGGERS};
use crate::tokens::Role;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// Every job state, in the order the filter lists them.
pub(super) const STATES: [&str; 7] = [
    "pending",
    "enqueued",
    "started",
    "paused",
    "done",
    "failed",
    "cancelled",
];

/// A job as a row of a list.
pub(super) struct JobRowView {
    pub(super) id: i64,
    pub(super) state: String,
    pub(super) instance: String,
    pub(super) name: String,
    pub(super) module: String,
    pub(super) trigger: String,
    pub(super) channel: String,
    pub(super) created: String,
    pub(super) attempts: i64,
    pub(super) progress: Option<(u32, String)>,
    pub(super) error: String,
}

impl JobRowView {
    /// The row of `job`.
    pub(super) fn of(job: &JobInfo) -> JobRowView {
        JobRowView {
            id: job.id,
            state: job.state.to_string(),
            instance: job.instance.clone(),
            name: job.name.clone(),
            module: job
                .module
                .clone()
                .or_else(|| job.pin.as_ref().map(|p| p.module.clone()))
                .unwrap_or_default(),
            trigger: job.trigger.to_string(),
            channel: job.channel.clone(),
            created: time(job.created_at),
            attempts: job.attempts,
            progress: progress(job.progress_done, job.progress_total),
            error: job
                .error
                .as_deref()
                .and_then(|e| e.lines().next())
                .map(|e| e.chars().take(140).collect())
                .unwrap_or_default(),
        }
    }
}

/// The filter form's values, as typed.
#[derive(Default)]
struct FilterView {
    state: String,
    instance: String,
    module: String,
    name: String,
    trigger: String,
    channel: String,
    text: String,
    since: String,
    until: String,
    limit: String,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    nav: Nav,
    f: FilterView,
    states: [&'static str; 7],
    triggers: Vec<&'static str>,
    instances: Vec<String>,
    rows: Vec<JobRowView>,
    /// The next (older) page, when this one is full.
    older: Option<String>,
    /// The first page, when this is not it.
    newest: Option<String>,
    /// The admin API URL the page polls for its rows.
    api: String,
    /// The filter as a query string, for bulk actions.
    query: String,
    notice: Option<String>,
}

/// `GET /jobs?state=&instance=&module=&name=&trigger=&channel=&text=&since=&until=&before=&limit=`.
pub(super) async fn list(
    State(app): State<App>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("jobs");
    let filter = match parse_filter(&query) {
        Ok(filter) => filter,
        Err(e) => return e.with_nav(nav).into_response(),
    };
    let (jobs, instances) =
        match tokio::try_join!(app.admin.list_jobs(&filter), app.admin.instances()) {
            Ok(found) => found,
            Err(e) => return Problem::from(e).with_nav(nav).into_response(),
        };
    let base = filter_query(&filter, None);
    let older = (jobs.len() as u32 >= filter.limit)
        .then(|| jobs.last().map(|j| page_url(&filter, Some(j.id))))
        .flatten();
    let newest = filter.before.map(|_| page_url(&filter, None));
    let page = JobsPage {
        f: FilterView {
            state: filter.state.map(|s| s.to_string()).unwrap_or_default(),
            instance: filter.instance.clone().unwrap_or_default(),
            module: filter.module.clone().unwrap_or_default(),
            name: filter.name.clone().unwrap_or_default(),
            trigger: filter.trigger.map(|t| t.to_string()).unwrap_or_default(),
            channel: filter.channel.clone().unwrap_or_default(),
            text: filter.text.clone().unwrap_or_default(),
            since: field(&query, "since").unwrap_or_default().to_string(),
            until: field(&query, "until").unwrap_or_default().to_string(),
            limit: filter.limit.to_string(),
        },
        nav,
        states: STATES,
        triggers: TRIGGERS.iter().map(|t| t.as_str()).collect(),
        instances: instances.into_iter().map(|i| i.name).collect(),
        rows: jobs.iter().map(JobRowView::of).collect(),
        older,
        newest,
        api: format!("/api/jobs?{}", api_query(&filter)),
        query: base,
        notice: field(&query, "notice").map(str::to_string),
    };
    render(&page)
}

/// A log line as shown.
struct LogView {
    at: String,
    level: String,
    module: String,
    message: String,
}

/// One try of a job, with its log lines.
struct TryView {
    attempt: i64,
    lines: Vec<LogView>,
}

/// A step of a job made of steps, as shown.
struct StepView {
    step: String,
    kind: String,
    status: String,
    chunks: i64,
    read: i64,
    written: i64,
    skipped: i64,
    filtered: i64,
    took: String,
    error: String,
}

/// A warning of a step (an item not written), as shown.
struct WarningView {
    step: String,
    chunk: i64,
    item: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    nav: Nav,
    job: JobInfo,
    row: JobRowView,
    payload: String,
    result: String,
    pinned: String,
    next_run: String,
    started: String,
    finished: String,
    took: String,
    snooze: String,
    waits_for: Vec<(String, String, String)>,
    level: String,
    levels: [&'static str; 5],
    tries: Vec<TryView>,
    hidden_lines: usize,
    steps: Vec<StepView>,
    warnings: Vec<WarningView>,
    warnings_total: i64,
    actions: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
}

/// The levels of log lines, lowest first.
const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

/// `GET /jobs/{id}?level=`: one job, its tries and their logs (lines at
/// `level` or above).
pub(super) async fn detail(
    State(app): State<App>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("jobs");
    let Ok(id) = id.parse::<i64>() else {
        return Problem::bad(format!("`{id}` is not a job id (a number)"))
            .with_nav(nav)
            .into_response();
    };
    let level = field(&query, "level").unwrap_or("trace").to_string();
    let Some(floor) = LEVELS.iter().position(|l| *l == level) else {
        return Problem::bad(format!(
            "log level `{level}`: expected one of {}",
            LEVELS.join(", ")
        ))
        .with_nav(nav)
        .into_response();
    };
    let (detail, steps, warnings) = match tokio::try_join!(
        app.admin.job(id),
        app.admin.job_steps(id),
        app.admin.job_warnings(id, 100)
    ) {
        Ok(found) => found,
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    let job = detail.job;
    let mut tries: Vec<TryView> = Vec::new();
    let mut hidden_lines = 0;
    for line in detail.logs {
        let rank = LEVELS.iter().position(|l| *l == line.level).unwrap_or(2);
        if rank < floor {
            hidden_lines += 1;
            continue;
        }
        if tries.last().is_none_or(|t| t.attempt != line.attempt) {
            tries.push(TryView {
                attempt: line.attempt,
                lines: Vec::new(),
            });
        }
        if let Some(t) = tries.last_mut() {
            t.lines.push(LogView {
                at: time(line.at),
                level: line.level,
                module: line.module,
                message: line.message,
            });
        }
    }
    let pretty = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| text.to_string())
    };
    let has_steps = !steps.is_empty();
    let page = JobPage {
        row: JobRowView::of(&job),
        payload: pretty(&job.payload),
        result: job.result.as_deref().map(pretty).unwrap_or_default(),
        pinned: job
            .pin
            .as_ref()
            .map(|p| format!("{} ({})", p.module, short_hash(&p.hash)))
            .unwrap_or_default(),
        next_run: match job.state {
            JobState::Pending => job
                .eta
                .map(time)
                .unwrap_or_else(|| "as soon as a worker is free".into()),
            _ => String::new(),
        },
        started: maybe_time(job.started_at),
        finished: maybe_time(job.finished_at),
        took: match (job.started_at, job.finished_at) {
            (Some(s), Some(f)) => duration(f - s),
            _ => String::new(),
        },
        snooze: detail
            .snooze
            .map(|s| format!("until {} ({})", time(s.until), s.reason))
            .unwrap_or_default(),
        waits_for: detail.dependencies.iter().map(waiting_on).collect(),
        level,
        levels: LEVELS,
        tries,
        hidden_lines,
        steps: steps
            .iter()
            .map(|s| StepView {
                step: s.step.clone(),
                kind: s.kind.clone(),
                status: format!("{:?}", s.status).to_lowercase(),
                chunks: s.chunks,
                read: s.read,
                written: s.written,
                skipped: s.skipped,
                filtered: s.filtered,
                took: match (s.started_at, s.ended_at) {
                    (Some(a), Some(b)) => duration(b - a),
                    _ => String::new(),
                },
                error: s.error.clone().unwrap_or_default(),
            })
            .collect(),
        warnings: warnings
            .warnings
            .iter()
            .map(|w| WarningView {
                step: w.step.clone(),
                chunk: w.chunk,
                item: w.item.to_string(),
                reason: w.reason.clone(),
            })
            .collect(),
        warnings_total: warnings.kept + warnings.dropped,
        actions: if session.may(Role::Developer) {
            actions(job.state, has_steps)
        } else {
            Vec::new()
        },
        notice: field(&query, "notice").map(str::to_string),
        job,
        nav,
    };
    render(&page)
}

/// A dependency as the job page lists it: (link, what, where it stands).
fn waiting_on(dependency: &Dependency) -> (String, String, String) {
    match (&dependency.job, &dependency.group) {
        (Some(id), _) => (
            format!("/jobs/{id}"),
            format!("job {id}"),
            dependency
                .job_state
                .map_or("gone".to_string(), |s| s.as_str().to_string()),
        ),
        (None, Some(group)) => (
            String::new(),
            format!("group {group}"),
            match dependency.group_open {
                0 => "all done".to_string(),
                1 => "1 job not done".to_string(),
                n => format!("{n} jobs not done"),
            },
        ),
        (None, None) => (String::new(), "nothing".to_string(), String::new()),
    }
}

fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The actions a job in `state` can take: (action, button label).
fn actions(state: JobState, has_steps: bool) -> Vec<(&'static str, &'static str)> {
    let mut all = Vec::new();
    match state {
        JobState::Done | JobState::Failed | JobState::Cancelled => {
            all.push(("requeue", "Requeue"));
        }
        JobState::Pending => all.push(("requeue", "Run now")),
        _ => {}
    }
    if matches!(state, JobState::Pending | JobState::Paused) {
        all.push(("cancel", "Cancel"));
    }
    if state.is_running() {
        all.push(("stop", "Stop"));
    }
    if matches!(
        state,
        JobState::Failed | JobState::Pending | JobState::Cancelled | JobState::Paused
    ) {
        all.push(("done", "Set done"));
    }
    if has_steps && matches!(state, JobState::Pending | JobState::Started) {
        all.push(("pause", "Pause"));
    }
    if state == JobState::Paused {
        all.push(("resume", "Resume"));
    }
    all
}

/// `POST /jobs/{id}/{action}` (field `csrf`): act on a job, then show it.
pub(super) async fn act(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("jobs");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "acting on a job") {
        return p.into_response();
    }
    let Ok(id) = id.parse::<i64>() else {
        return Problem::bad(format!("`{id}` is not a job id"))
            .with_nav(nav)
            .into_response();
    };
    let action = match JobAction::parse(&action) {
        Ok(a) => a,
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    match app.admin.act(id, action).await {
        Ok(done) => {
            let notice = format!("{} → {}", action.as_str(), done.state);
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("notice", &notice)
                .finish();
            Redirect::to(&format!("/jobs/{id}?{q}")).into_response()
        }
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_the_state() {
        let names = |s, steps| -> Vec<&str> { actions(s, steps).iter().map(|a| a.0).collect() };
        assert_eq!(names(JobState::Failed, false), ["requeue", "done"]);
        assert_eq!(names(JobState::Started, true), ["stop", "pause"]);
        assert_eq!(names(JobState::Paused, true), ["cancel", "done", "resume"]);
    }
}
