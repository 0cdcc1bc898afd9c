//! The listing pages: Connectors (installed modules and kept versions),
//! Transmissions, Audit log, Checkpoints (review and clear), Links, Logs
//! (job log lines across jobs). Each builds a [`ListPage`] (a filter form
//! and a table) from an [`crate::admin::Admin`] call; one template lays them
//! all out.

use super::filters::parse_time;
use super::page::{Nav, Problem, field, render, time};
use super::session::Session;
use crate::serve::app::App;
use crate::store::{
    AuditFilter, JobState, LinkFilter, LogFilter, LogLevel, TransmissionFilter, Trigger,
};
use crate::tokens::Role;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// A cell of a table: text, and a link when it leads somewhere.
pub(super) struct Cell {
    text: String,
    href: Option<String>,
    class: &'static str,
}

fn cell(text: impl ToString) -> Cell {
    Cell {
        text: text.to_string(),
        href: None,
        class: "",
    }
}

fn link(text: impl ToString, href: String) -> Cell {
    Cell {
        text: text.to_string(),
        href: Some(href),
        class: "",
    }
}

fn job_cell(id: Option<i64>) -> Cell {
    match id {
        Some(id) => link(id, format!("/jobs/{id}")),
        None => cell(""),
    }
}

/// A field of a filter form.
pub(super) struct Input {
    name: &'static str,
    label: &'static str,
    value: String,
    hint: &'static str,
}

/// A page that lists things: filters, a table, the next page.
#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    nav: Nav,
    title: &'static str,
    intro: &'static str,
    action: &'static str,
    inputs: Vec<Input>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    older: Option<String>,
    /// For checkpoints: a developer may clear them (the form's target).
    clear_all: Option<&'static str>,
    notice: Option<String>,
}

impl ListPage {
    fn new(nav: Nav, title: &'static str, action: &'static str, intro: &'static str) -> Self {
        ListPage {
            nav,
            title,
            intro,
            action,
            inputs: Vec::new(),
            headers: Vec::new(),
            rows: Vec::new(),
            older: None,
            clear_all: None,
            notice: None,
        }
    }

    fn input(&mut self, q: &Q, name: &'static str, label: &'static str, hint: &'static str) {
        self.inputs.push(Input {
            name,
            label,
            value: field(q, name).unwrap_or_default().to_string(),
            hint,
        });
    }

    /// The link to the page after this one: the same query with `before`.
    fn older_than(&mut self, q: &Q, before: Option<i64>, full: bool) {
        if let (Some(before), true) = (before, full) {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in q.iter().filter(|(k, v)| *k != "before" && !v.is_empty()) {
                s.append_pair(k, v);
            }
            s.append_pair("before", &before.to_string());
            self.older = Some(format!("{}?{}", self.action, s.finish()));
        }
    }
}

type Q = HashMap<String, String>;

/// Rows per page of the listing pages.
const PAGE: u32 = 100;

fn number(q: &Q, name: &str) -> Result<Option<i64>, Problem> {
    field(q, name)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Problem::bad(format!("`{name}` must be a number, not `{v}`")))
        })
        .transpose()
}

fn when(q: &Q, name: &str) -> Result<Option<i64>, Problem> {
    field(q, name).map(|t| parse_time(name, t)).transpose()
}

fn text(q: &Q, name: &str) -> Option<String> {
    field(q, name).map(str::to_string)
}

/// Answer a page, or its problem with the operator's navigation bar.
fn answer(nav: Nav, page: Result<ListPage, Problem>) -> Response {
    match page {
        Ok(page) => render(&page),
        Err(p) => p.with_nav(nav).into_response(),
    }
}

/// `GET /connectors`: installed modules, their backends and kept versions.
pub(super) async fn connectors(State(app): State<App>, session: Session) -> Response {
    let nav = session.nav("connectors");
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Connectors",
            "/connectors",
            "Installed modules and every version kept for jobs pinned to them.",
        );
        page.headers = vec![
            "Module",
            "Version",
            "Backends",
            "Content hash",
            "Installed (UTC)",
            "Current",
        ];
        for m in app.admin.modules().await? {
            for v in &m.versions {
                page.rows.push(vec![
                    link(&m.name, format!("/jobs?module={}", enc(&m.name))),
                    cell(&v.version),
                    cell(v.backends.join(", ")),
                    cell(v.content_hash.get(..16).unwrap_or(&v.content_hash)),
                    cell(time(v.installed_at)),
                    cell(if v.current { "yes" } else { "" }),
                ]);
            }
        }
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

/// `GET /transmissions?instance=&module=&host=&status=&job=&refused=&since=&until=&before=`.
pub(super) async fn transmissions(
    State(app): State<App>,
    session: Session,
    Query(q): Query<Q>,
) -> Response {
    let nav = session.nav("transmissions");
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Transmissions",
            "/transmissions",
            "Outbound HTTP requests of connectors, sent and refused, newest first.",
        );
        page.input(&q, "instance", "Instance", "");
        page.input(&q, "module", "Module", "");
        page.input(&q, "host", "Host", "api.example.com");
        page.input(&q, "status", "Status", "404");
        page.input(&q, "job", "Job id", "");
        page.input(&q, "refused", "Refused only (yes)", "yes");
        page.input(&q, "since", "Since (UTC)", "1h");
        page.input(&q, "until", "Until (UTC)", "");
        let filter = TransmissionFilter {
            instance: text(&q, "instance"),
            module: text(&q, "module"),
            host: text(&q, "host"),
            status: number(&q, "status")?,
            job: number(&q, "job")?,
            refused_only: field(&q, "refused").is_some_and(|v| v != "no"),
            since: when(&q, "since")?,
            until: when(&q, "until")?,
            before: number(&q, "before")?,
            limit: PAGE,
        };
        let found = app.admin.transmissions(&filter).await?;
        page.headers = vec![
            "At (UTC)",
            "Instance",
            "Job",
            "Module",
            "Request",
            "Status",
            "Refused / error",
            "Sent",
            "Received",
            "Took",
        ];
        for t in &found {
            page.rows.push(vec![
                cell(time(t.at)),
                cell(&t.instance),
                job_cell(t.job_id),
                cell(&t.module),
                cell(format!("{} {}", t.method, t.url)),
                cell(t.status.map(|s| s.to_string()).unwrap_or_default()),
                Cell {
                    class: "err",
                    ..cell(t.refused.clone().or(t.error.clone()).unwrap_or_default())
                },
                cell(t.bytes_sent),
                cell(t.bytes_received),
                cell(format!("{} ms", t.duration_ms)),
            ]);
        }
        page.older_than(&q, found.last().map(|t| t.id), found.len() as u32 >= PAGE);
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

/// `GET /audit?instance=&actor=&action=&job=&since=&until=&before=`.
pub(super) async fn audit(
    State(app): State<App>,
    session: Session,
    Query(q): Query<Q>,
) -> Response {
    let nav = session.nav("audit");
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Audit log",
            "/audit",
            "Who revealed, set or removed what: secrets, tokens, cursors, profiles, conflicts.",
        );
        page.input(&q, "instance", "Instance", "");
        page.input(&q, "actor", "Actor", "api:NAME, cli, job:ID");
        page.input(&q, "action", "Action", "secret.set");
        page.input(&q, "job", "Job id", "");
        page.input(&q, "since", "Since (UTC)", "1h");
        page.input(&q, "until", "Until (UTC)", "");
        let filter = AuditFilter {
            instance: text(&q, "instance"),
            actor: text(&q, "actor"),
            action: text(&q, "action"),
            job: number(&q, "job")?,
            since_ms: when(&q, "since")?,
            until: when(&q, "until")?,
            before: number(&q, "before")?,
            limit: PAGE,
        };
        let found = app.admin.audit(&filter).await?;
        page.headers = vec![
            "At (UTC)", "Actor", "Action", "Instance", "Subject", "Job", "Detail",
        ];
        for e in &found {
            page.rows.push(vec![
                cell(time(e.at)),
                cell(&e.actor),
                cell(&e.action),
                cell(&e.instance),
                cell(&e.subject),
                job_cell(e.job_id),
                cell(e.detail.clone().unwrap_or_default()),
            ]);
        }
        page.older_than(&q, found.last().map(|e| e.id), found.len() as u32 >= PAGE);
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

/// `GET /checkpoints`: records connectors flagged for review.
pub(super) async fn checkpoints(
    State(app): State<App>,
    session: Session,
    Query(q): Query<Q>,
) -> Response {
    let nav = session.nav("checkpoints");
    let developer = session.may(Role::Developer);
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Checkpoints",
            "/checkpoints",
            "Records a connector flagged for a person to review. Clear them once reviewed.",
        );
        page.headers = vec![
            "Id",
            "Instance",
            "Model",
            "Record",
            "Message",
            "Job",
            "Flagged (UTC)",
        ];
        for c in app.admin.checkpoints().await? {
            page.rows.push(vec![
                cell(c.id),
                cell(&c.instance),
                cell(&c.model),
                link(
                    c.record_id,
                    format!(
                        "/links?instance={}&model={}&local_id={}",
                        enc(&c.instance),
                        enc(&c.model),
                        c.record_id
                    ),
                ),
                cell(&c.message),
                job_cell(c.job_id),
                cell(time(c.created_at)),
            ]);
        }
        if developer && !page.rows.is_empty() {
            page.clear_all = Some("/checkpoints/clear");
        }
        page.notice = text(&q, "notice");
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

/// `POST /checkpoints/clear` (fields `csrf`, `id`: one checkpoint, or none
/// for all): clear reviewed checkpoints.
pub(super) async fn clear_checkpoints(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<Q>,
) -> Response {
    let nav = session.nav("checkpoints");
    if let Err(p) = session.check_post(&headers, &form) {
        return p.into_response();
    }
    if let Err(p) = session.require(Role::Developer, "clearing checkpoints") {
        return p.into_response();
    }
    let id = match number(&form, "id") {
        Ok(id) => id,
        Err(p) => return p.with_nav(nav).into_response(),
    };
    match app.admin.clear_checkpoints(id).await {
        Ok(done) => Redirect::to(&format!(
            "/checkpoints?notice={}+checkpoint(s)+cleared",
            done.cleared
        ))
        .into_response(),
        Err(e) => Problem::from(e).with_nav(nav).into_response(),
    }
}

/// `GET /links?instance=&model=&local_id=&external_id=&offset=`.
pub(super) async fn links(
    State(app): State<App>,
    session: Session,
    Query(q): Query<Q>,
) -> Response {
    let nav = session.nav("links");
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Links",
            "/links",
            "Which local record is which external record, per instance and model.",
        );
        page.input(&q, "instance", "Instance", "");
        page.input(&q, "model", "Model", "product");
        page.input(&q, "local_id", "Local id", "");
        page.input(&q, "external_id", "External id", "");
        let offset = number(&q, "offset")?.unwrap_or(0);
        let offset = u32::try_from(offset).map_err(|_| {
            Problem::bad(format!("`offset` must be 0 to {}, not {offset}", u32::MAX))
        })?;
        let filter = LinkFilter {
            instance: text(&q, "instance"),
            model: text(&q, "model"),
            local_id: number(&q, "local_id")?,
            external_id: text(&q, "external_id"),
            offset,
            limit: PAGE,
        };
        let found = app.admin.links(&filter).await?;
        page.headers = vec![
            "Instance",
            "Model",
            "Local id",
            "External id",
            "Synced (UTC)",
            "Remote version",
        ];
        for l in &found {
            page.rows.push(vec![
                link(&l.instance, format!("/instances/{}", enc(&l.instance))),
                cell(&l.model),
                cell(l.local_id),
                cell(&l.external_id),
                cell(l.sync_date.map(time).unwrap_or_default()),
                cell(l.remote_version.clone().unwrap_or_default()),
            ]);
        }
        if found.len() as u32 >= PAGE {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in q.iter().filter(|(k, v)| *k != "offset" && !v.is_empty()) {
                s.append_pair(k, v);
            }
            s.append_pair("offset", &(offset.saturating_add(PAGE)).to_string());
            page.older = Some(format!("/links?{}", s.finish()));
        }
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

/// `GET /logs?instance=&module=&job_name=&trigger=&level=&state=&grep=&job=&since=&until=&before=`:
/// job log lines across jobs, newest first (as `ferry logs`).
pub(super) async fn logs(State(app): State<App>, session: Session, Query(q): Query<Q>) -> Response {
    let nav = session.nav("logs");
    let page = async {
        let mut page = ListPage::new(
            nav.clone(),
            "Logs",
            "/logs",
            "Log lines of every job, newest first (as `ferry logs`).",
        );
        page.input(&q, "instance", "Instance", "");
        page.input(&q, "module", "Module", "");
        page.input(&q, "job_name", "Job name", "");
        page.input(&q, "trigger", "Trigger", "cron, webhook, button…");
        page.input(&q, "level", "Lowest level", "warn");
        page.input(&q, "state", "Job state", "failed");
        page.input(&q, "grep", "Text", "");
        page.input(&q, "job", "Job id", "");
        page.input(&q, "since", "Since (UTC)", "1h");
        page.input(&q, "until", "Until (UTC)", "");
        let bad = |name: &str, e: crate::Error| Problem::bad(format!("filter `{name}`: {e}"));
        let filter = LogFilter {
            instance: text(&q, "instance"),
            module: text(&q, "module"),
            job_name: text(&q, "job_name"),
            trigger: field(&q, "trigger")
                .map(Trigger::parse)
                .transpose()
                .map_err(|e| bad("trigger", e))?,
            level: field(&q, "level")
                .map(LogLevel::parse)
                .transpose()
                .map_err(|e| bad("level", e))?,
            state: field(&q, "state")
                .map(JobState::parse)
                .transpose()
                .map_err(|e| bad("state", e))?,
            grep: text(&q, "grep"),
            job: number(&q, "job")?,
            since: when(&q, "since")?,
            until: when(&q, "until")?,
            before: number(&q, "before")?,
            after: None,
            limit: PAGE,
        };
        let found = app.admin.logs(&filter).await?;
        page.headers = vec![
            "At (UTC)", "Level", "Job", "Instance", "Job name", "Trigger", "Try", "From", "Message",
        ];
        for l in &found {
            page.rows.push(vec![
                cell(time(l.at)),
                Cell {
                    class: level_class(&l.level),
                    ..cell(&l.level)
                },
                job_cell(Some(l.job_id)),
                cell(&l.instance),
                cell(&l.job_name),
                cell(l.trigger),
                cell(l.attempt),
                cell(&l.module),
                cell(&l.message),
            ]);
        }
        page.older_than(&q, found.last().map(|l| l.id), found.len() as u32 >= PAGE);
        Ok::<_, Problem>(page)
    };
    answer(nav.clone(), page.await)
}

fn level_class(level: &str) -> &'static str {
    match level {
        "error" => "err",
        "warn" => "warn",
        _ => "",
    }
}

/// `text` for a query string.
pub(super) fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
