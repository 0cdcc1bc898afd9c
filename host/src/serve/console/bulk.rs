//! Bulk requeue or cancel of every job a filter matches, from the Jobs page
//! (developers), through [`crate::admin::Admin::act_many`], as
//! `ferry jobs requeue --all` does.

use super::filters::parse_filter;
use super::page::Problem;
use super::session::Session;
use crate::admin::JobAction;
use crate::serve::app::App;
use crate::tokens::Role;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// `POST /jobs/bulk?FILTER` (fields `csrf`, `action`: requeue or cancel):
/// act on every job the filter matches (its paging aside), then show the
/// list with what was done.
pub(super) async fn bulk(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nav = session.nav("jobs");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "acting on jobs") {
        return p.into_response();
    }
    let mut filter = match parse_filter(&query) {
        Ok(f) => f,
        Err(p) => return p.with_nav(nav).into_response(),
    };
    filter.before = None;
    let action = match form.get("action").map(String::as_str) {
        Some("requeue") => JobAction::Requeue,
        Some("cancel") => JobAction::Cancel,
        other => {
            return Problem::bad(format!(
                "bulk action `{}`: only requeue and cancel act on many jobs at once",
                other.unwrap_or_default()
            ))
            .with_nav(nav)
            .into_response();
        }
    };
    match app.admin.act_many(&filter, action).await {
        Ok(outcome) => {
            let notice = format!(
                "{}: {} of {} matching job(s) acted on, {} left alone (their state forbids it)",
                action.as_str(),
                outcome.acted.len(),
                outcome.matched,
                outcome.skipped.len()
            );
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query
                .iter()
                .filter(|(k, v)| *k != "before" && !v.is_empty())
            {
                q.append_pair(k, v);
            }
            q.append_pair("notice", &notice);
            Redirect::to(&format!("/jobs?{}", q.finish())).into_response()
        }
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}
