//! What every console page shares: the navigation bar (who is signed in),
//! the error page, rendering, and how times and durations read.

use crate::admin::http_status;
use crate::error::Error;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The navigation bar: the pages, the signed-in token and its role, and the
/// CSRF secret the page's forms carry.
#[derive(Debug, Clone)]
pub(super) struct Nav {
    /// Whether someone is signed in (the sign-in page has no menu).
    pub(super) signed_in: bool,
    /// Token name.
    pub(super) name: String,
    /// Role name.
    pub(super) role: String,
    /// The session's CSRF secret.
    pub(super) csrf: String,
    /// Which page is shown (its menu entry is marked current).
    pub(super) active: &'static str,
    /// Whether the operator may act on jobs, instances and profiles.
    pub(super) developer: bool,
    /// Whether the operator may do what only managers may.
    pub(super) manager: bool,
}

/// The pages of the menu: path, label, key.
pub(super) const MENU: [(&str, &str, &str); 11] = [
    ("/", "Overview", "overview"),
    ("/jobs", "Jobs", "jobs"),
    ("/instances", "Instances", "instances"),
    ("/connectors", "Connectors", "connectors"),
    ("/transmissions", "Transmissions", "transmissions"),
    ("/audit", "Audit log", "audit"),
    ("/checkpoints", "Checkpoints", "checkpoints"),
    ("/links", "Links", "links"),
    ("/profiles", "Profiles", "profiles"),
    ("/sources", "Sources", "sources"),
    ("/logs", "Logs", "logs"),
];

impl Nav {
    /// The bar of a page seen before signing in.
    pub(super) fn anonymous() -> Nav {
        Nav {
            signed_in: false,
            name: String::new(),
            role: String::new(),
            csrf: String::new(),
            active: "",
            developer: false,
            manager: false,
        }
    }

    /// The menu entries: path, label, whether it is the current page.
    pub(super) fn menu(&self) -> Vec<(&'static str, &'static str, bool)> {
        MENU.iter()
            .map(|(path, label, key)| (*path, *label, *key == self.active))
            .collect()
    }
}

/// A page that could not be shown: the error page, with the status and the
/// reason (never a bare 500 for bad input: the reason says what to change).
#[derive(Debug)]
pub(super) struct Problem {
    status: StatusCode,
    message: String,
    /// Boxed: a problem travels in `Result`s, which stay small.
    nav: Box<Nav>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: &'a Nav,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl Problem {
    /// A problem answered with `status`.
    pub(super) fn new(status: StatusCode, message: String) -> Problem {
        Problem {
            status,
            message,
            nav: Box::new(Nav::anonymous()),
        }
    }

    /// A 400: what the request asked for makes no sense, and why.
    pub(super) fn bad(message: String) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, message)
    }

    /// Show it with the operator's navigation bar.
    pub(super) fn with_nav(mut self, nav: Nav) -> Problem {
        self.nav = Box::new(nav);
        self
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        let status =
            StatusCode::from_u16(http_status(&e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!("console: {e}");
        }
        Problem::new(status, e.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            nav: &self.nav,
            status: self.status.as_u16(),
            title: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        (self.status, render(&page)).into_response()
    }
}

/// A page's HTML; a template that cannot render (a bug, not bad input)
/// is a plain 500 that says so.
pub(super) fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!("console: rendering a page: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the console could not render this page: {e}"),
            )
                .into_response()
        }
    }
}

/// A time (ms since the epoch) as operators read it: `2026-12-03 18:35:49`, UTC.
pub(super) fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// An optional time; an empty string for none.
pub(super) fn maybe_time(ms: Option<i64>) -> String {
    ms.map(time).unwrap_or_default()
}

/// A duration in ms as `1.2 s`, `3 min 4 s`, `2 h 5 min`.
pub(super) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{} h {} min", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// A progress bar's figures: percent done (none when the total is unknown)
/// and a label (`40 / 100`).
pub(super) fn progress(done: Option<i64>, total: Option<i64>) -> Option<(u32, String)> {
    let done = done?;
    Some(match total {
        Some(total) if total > 0 => (
            ((done.clamp(0, total) * 100) / total) as u32,
            format!("{done} / {total}"),
        ),
        _ => (0, format!("{done} done")),
    })
}

/// Parse an optional form or query field: empty means not given.
pub(super) fn field<'a>(
    query: &'a std::collections::HashMap<String, String>,
    name: &str,
) -> Option<&'a str> {
    query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_progress_read_well() {
        assert_eq!(duration(250), "250 ms");
        assert_eq!(duration(1_500), "1.5 s");
        assert_eq!(duration(125_000), "2 min 5 s");
        assert_eq!(progress(Some(40), Some(100)), Some((40, "40 / 100".into())));
        assert_eq!(progress(Some(7), None), Some((0, "7 done".into())));
        assert_eq!(progress(None, Some(3)), None);
        assert_eq!(time(0), "1970-01-01 00:00:00");
    }
}
