//! The Instances pages (backend chain, which module answers, params with
//! secrets by name only, webhooks, buttons with a press form) and the
//! Profiles page (list, run). Reads and presses go through
//! [`crate::admin::Admin`], as `ferry instance show` and `ferry trigger` do.

use super::page::{Nav, Problem, field, render, time};
use super::session::Session;
use crate::admin::InstanceInfo;
use crate::profiles::ParamInput;
use crate::serve::app::App;
use crate::store::ProfileRow;
use crate::tokens::Role;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use std::collections::HashMap;

/// A param as shown: secrets only by name (the API hides their values).
struct ParamView {
    key: String,
    value: String,
}

#[derive(Template)]
#[template(path = "instances.html")]
struct InstancesPage {
    nav: Nav,
    instances: Vec<InstanceInfo>,
}

/// `GET /instances`.
pub(super) async fn list(State(app): State<App>, session: Session) -> Response {
    let nav = session.nav("instances");
    match app.admin.instances().await {
        Ok(instances) => render(&InstancesPage { nav, instances }),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

#[derive(Template)]
#[template(path = "instance.html")]
struct InstancePage {
    nav: Nav,
    i: InstanceInfo,
    created: String,
    params: Vec<ParamView>,
    secrets: Vec<String>,
    /// Cron schedules: (name, job, schedule in effect, last tick, next tick).
    cron: Vec<CronView>,
}

/// A cron schedule as shown.
struct CronView {
    name: String,
    job: String,
    schedule: String,
    last: String,
    next: String,
    last_job: Option<i64>,
}

/// `GET /instances/{name}`.
pub(super) async fn detail(
    State(app): State<App>,
    session: Session,
    Path(name): Path<String>,
) -> Response {
    let nav = session.nav("instances");
    let i = match app.admin.instance(&name).await {
        Ok(i) => i,
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    // Secret names are for managers (as `GET /api/instances/NAME/secrets`).
    let secrets = if session.may(Role::Manager) {
        match app.admin.secrets(Some(&name)).await {
            Ok(s) => s.into_iter().map(|s| s.secret).collect(),
            Err(e) => return Problem::from(e).with_nav(nav).into_response(),
        }
    } else {
        Vec::new()
    };
    let cron = match app.admin.cron_schedules(Some(&name)).await {
        Ok(all) => all
            .into_iter()
            .map(|c| CronView {
                schedule: match (&c.schedule, c.overridden) {
                    (None, _) => format!("off (declared {})", c.declared),
                    (Some(s), true) => format!("{s} (changed from {})", c.declared),
                    (Some(s), false) => s.clone(),
                },
                name: c.name,
                job: c.job,
                last: c.last_tick.map(time).unwrap_or_else(|| "never".into()),
                next: c.next_tick.map(time).unwrap_or_default(),
                last_job: c.last_job,
            })
            .collect(),
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    let params = i
        .params
        .iter()
        .map(|(key, value)| ParamView {
            key: key.clone(),
            value: match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        })
        .collect();
    render(&InstancePage {
        created: time(i.created_at),
        params,
        secrets,
        cron,
        i,
        nav,
    })
}

/// `POST /instances/{name}/buttons/{button}` (fields `csrf`, `data`: JSON,
/// empty for `{}`): press a button; then show the job it enqueued.
pub(super) async fn press(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Path((name, button)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("instances");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "pressing a button") {
        return p.into_response();
    }
    let data = match field(&form, "data") {
        None => Value::Object(Default::default()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => {
                return Problem::bad(format!("the button's data must be JSON: {e}"))
                    .with_nav(nav)
                    .into_response();
            }
        },
    };
    match app
        .admin
        .press(&name, &button, &data, &session.caller.actor())
        .await
    {
        Ok(pressed) => Redirect::to(&format!(
            "/jobs/{}?notice=button+{}+pressed",
            pressed.job,
            url::form_urlencoded::byte_serialize(button.as_bytes()).collect::<String>()
        ))
        .into_response(),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

/// A profile as shown.
struct ProfileView {
    row: ProfileRow,
    params: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "profiles.html")]
struct ProfilesPage {
    nav: Nav,
    profiles: Vec<ProfileView>,
}

/// `GET /profiles`.
pub(super) async fn profiles(State(app): State<App>, session: Session) -> Response {
    let nav = session.nav("profiles");
    match app.admin.profiles().await {
        Ok(rows) => render(&ProfilesPage {
            nav,
            profiles: rows
                .into_iter()
                .map(|row| ProfileView {
                    params: Value::Object(row.params.clone()).to_string(),
                    updated: time(row.updated_at),
                    row,
                })
                .collect(),
        }),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

/// `POST /profiles/{name}/run` (fields `csrf`, `params`: one-off overrides
/// as a JSON object, empty for none): run a profile, then show its job.
pub(super) async fn run_profile(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("profiles");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "running a profile") {
        return p.into_response();
    }
    let params = match field(&form, "params") {
        None => Default::default(),
        Some(text) => match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
            Ok(map) => map,
            Err(e) => {
                return Problem::bad(format!(
                    "one-off parameters must be a JSON object such as {{\"since\": \"2026-01-01\"}}: {e}"
                ))
                .with_nav(nav)
                .into_response();
            }
        },
    };
    let input = ParamInput {
        params,
        ..Default::default()
    };
    match app
        .admin
        .run_profile(&name, &input, &session.caller.actor())
        .await
    {
        Ok(run) => {
            Redirect::to(&format!("/jobs/{}?notice=profile+run", run.job_id)).into_response()
        }
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}
