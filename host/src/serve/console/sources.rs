//! The Sources page: every broker source with its state on each node, and
//! the dead letters waiting, with pause, resume and replay for developers.
//! The same [`crate::admin::Admin`] calls as `ferry source` and `/api/sources`.

use super::page::{Nav, Problem, render, time};
use super::session::Session;
use crate::admin::{DeadLetterQuery, SourceAction};
use crate::serve::app::App;
use crate::tokens::Role;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// A source as the page shows it.
struct SourceLine {
    name: String,
    instance: String,
    kind: String,
    state: String,
    paused: bool,
    nodes: String,
    lag: String,
    received: i64,
    dead_letters: i64,
    last_message: String,
    last_error: String,
}

/// A dead letter as the page shows it.
struct DeadLine {
    id: i64,
    source: String,
    message_id: String,
    at: String,
    size: i64,
    reason: String,
    body: String,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    nav: Nav,
    sources: Vec<SourceLine>,
    source: Option<String>,
    dead_letters: Vec<DeadLine>,
    notice: Option<String>,
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".into())
}

/// `GET /sources?source=INSTANCE/LISTENER&notice=`.
pub(super) async fn page(
    State(app): State<App>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("sources");
    let built = async {
        let sources = app.admin.sources().await?;
        let source = q.get("source").filter(|s| !s.is_empty()).cloned();
        let (instance, listener) = match source.as_deref().and_then(|s| s.split_once('/')) {
            Some((i, l)) => (Some(i.to_string()), Some(l.to_string())),
            None => (None, None),
        };
        let dead = app
            .admin
            .dead_letters(&DeadLetterQuery {
                instance,
                listener,
                replayed: false,
                limit: Some(100),
            })
            .await?;
        Ok::<_, Problem>(SourcesPage {
            nav: nav.clone(),
            sources: sources
                .into_iter()
                .map(|s| SourceLine {
                    name: s.source.name(),
                    instance: s.source.instance.clone(),
                    kind: s.source.kind.clone(),
                    state: s.state.clone(),
                    paused: s.source.paused,
                    nodes: s
                        .nodes
                        .iter()
                        .map(|n| format!("{}: {}", n.node, n.state))
                        .collect::<Vec<_>>()
                        .join(", "),
                    lag: or_dash(
                        s.nodes
                            .iter()
                            .filter_map(|n| n.lag)
                            .max()
                            .map(|l| l.to_string()),
                    ),
                    received: s.nodes.iter().map(|n| n.received).sum(),
                    dead_letters: s.dead_letters,
                    last_message: or_dash(
                        s.nodes
                            .iter()
                            .filter_map(|n| n.last_message_at)
                            .max()
                            .map(time),
                    ),
                    last_error: or_dash(
                        s.nodes
                            .iter()
                            .filter_map(|n| Some((n.last_error_at?, n.last_error.clone()?)))
                            .max()
                            .map(|(at, e)| format!("{} {e}", time(at))),
                    ),
                })
                .collect(),
            source,
            dead_letters: dead
                .into_iter()
                .map(|d| DeadLine {
                    id: d.id,
                    source: d.source,
                    message_id: d.message_id,
                    at: time(d.created_at),
                    size: d.body_size,
                    reason: d.reason,
                    body: d.body_preview.chars().take(120).collect(),
                })
                .collect(),
            notice: q.get("notice").cloned(),
        })
    };
    match built.await {
        Ok(page) => render(&page),
        Err(p) => p.with_nav(nav).into_response(),
    }
}

/// `POST /sources/{instance}/{listener}/{action}` (field `csrf`): pause or resume.
pub(super) async fn act(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Path((instance, listener, action)): Path<(String, String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("sources");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "pausing or resuming a source") {
        return p.into_response();
    }
    let action = match action.as_str() {
        "pause" => SourceAction::Pause,
        "resume" => SourceAction::Resume,
        other => {
            return Problem::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("no action `{other}` on sources (pause, resume)"),
            )
            .with_nav(nav)
            .into_response();
        }
    };
    match app
        .admin
        .source_action(&instance, &listener, action, &session.caller.actor())
        .await
    {
        Ok(row) => Redirect::to(&format!(
            "/sources?notice={}",
            url::form_urlencoded::byte_serialize(
                format!(
                    "{} {}",
                    row.name(),
                    if row.paused { "paused" } else { "resumed" }
                )
                .as_bytes()
            )
            .collect::<String>()
        ))
        .into_response(),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

/// `POST /dead-letters/{id}/replay` (field `csrf`).
pub(super) async fn replay(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("sources");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "replaying a dead letter") {
        return p.into_response();
    }
    match app
        .admin
        .replay_dead_letter(id, &session.caller.actor())
        .await
    {
        Ok(r) => Redirect::to(&format!(
            "/sources?notice=dead+letter+{}+replayed+as+job+{}",
            r.dead_letter, r.job
        ))
        .into_response(),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}
