//! Job log lines across jobs, for operators: `ferry logs`, `GET /api/logs`
//! and the console's log view. One query whose WHERE clause holds only the
//! filters given (the [`Conditions`] of the jobs' own listing), newest first by
//! line id, so that paging (`before`) and following (`after`) are index walks.

use super::jobs::{Conditions, contains};
use super::{DbRow, JobState, Store, Trigger};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::fmt;

/// Most lines one query returns, whatever was asked.
pub const MAX_LOG_LINES: u32 = 1_000;

/// How serious a log line is, least first: a filter on a level keeps that
/// level and the ones above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Step by step detail.
    Trace,
    /// For whoever debugs the connector.
    Debug,
    /// What happened.
    Info,
    /// Something looks wrong, the job went on.
    Warn,
    /// Something failed.
    Error,
}

/// Every level, least serious first.
pub const LOG_LEVELS: [LogLevel; 5] = [
    LogLevel::Trace,
    LogLevel::Debug,
    LogLevel::Info,
    LogLevel::Warn,
    LogLevel::Error,
];

impl LogLevel {
    /// The name stored with a line.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// Parse a level name; an unknown one is refused with the known ones.
    pub fn parse(text: &str) -> Result<Self> {
        LOG_LEVELS
            .into_iter()
            .find(|l| l.as_str() == text)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown log level `{text}` (trace, debug, info, warn, error)"
                ))
            })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LogLevel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LogLevel::parse(s)
    }
}

/// Which job log lines to list. Every field narrows the list. Lines come
/// newest first; `before` pages back (pass the smallest id shown), `after`
/// follows (pass the largest id seen: the lines after it come oldest first,
/// so that a follower that asks again from the last one never skips any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogFilter {
    /// Only lines of jobs of this backend instance.
    pub instance: Option<String>,
    /// Only lines of jobs run by this module, or lines this module wrote.
    pub module: Option<String>,
    /// Only lines of jobs of this name.
    pub job_name: Option<String>,
    /// Only lines of jobs started this way.
    pub trigger: Option<Trigger>,
    /// Only lines of this level and above (`warn`: warn and error).
    pub level: Option<LogLevel>,
    /// Only lines of jobs now in this state.
    pub state: Option<JobState>,
    /// Only lines written at or after this time, ms since the epoch.
    pub since: Option<i64>,
    /// Only lines written before this time, ms since the epoch.
    pub until: Option<i64>,
    /// Only lines containing this text (case-insensitive for ASCII).
    pub grep: Option<String>,
    /// Only lines of this job.
    pub job: Option<i64>,
    /// Only lines whose id is below this one (the next page back).
    pub before: Option<i64>,
    /// Only lines whose id is above this one (following: oldest first).
    pub after: Option<i64>,
    /// At most this many (capped at [`MAX_LOG_LINES`]).
    pub limit: u32,
}

impl Default for LogFilter {
    fn default() -> Self {
        LogFilter {
            instance: None,
            module: None,
            job_name: None,
            trigger: None,
            level: None,
            state: None,
            since: None,
            until: None,
            grep: None,
            job: None,
            before: None,
            after: None,
            limit: 100,
        }
    }
}

/// A job log line with the job it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Id of the line (for `before` / `after`).
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// Its backend instance.
    pub instance: String,
    /// Its name.
    pub job_name: String,
    /// What started it.
    pub trigger: Trigger,
    /// Its state now.
    pub state: JobState,
    /// The try that wrote the line.
    pub attempt: i64,
    /// When, ms.
    pub at: i64,
    /// trace | debug | info | warn | error
    pub level: String,
    /// Module that wrote it (or `host`).
    pub module: String,
    /// The line.
    pub message: String,
}

impl Store {
    /// Job log lines matching `filter` (see [`LogFilter`] for the order).
    pub async fn log_records(&self, filter: &LogFilter) -> Result<Vec<LogRecord>> {
        let mut when = Conditions::default();
        when.text_equals("j.instance", filter.instance.as_deref());
        if let Some(module) = &filter.module {
            when.text_with("(j.module = {} OR l.module = {})", module);
        }
        when.text_equals("j.name", filter.job_name.as_deref());
        when.text_equals("j.triggered_by", filter.trigger.map(|t| t.as_str()));
        if let Some(level) = filter.level.filter(|l| *l > LogLevel::Trace) {
            let names: Vec<String> = LOG_LEVELS
                .iter()
                .filter(|l| **l >= level)
                .map(|l| format!("'{}'", l.as_str()))
                .collect();
            when.fixed(&format!("l.level IN ({})", names.join(", ")));
        }
        when.text_equals("j.state", filter.state.map(|s| s.as_str()));
        when.number("l.at", ">=", filter.since);
        when.number("l.at", "<", filter.until);
        if let Some(text) = filter.grep.as_deref().filter(|t| !t.is_empty()) {
            let like = self.like();
            when.text_with(
                &format!("l.message {like} {{}} ESCAPE '\\'"),
                &contains(text),
            );
        }
        when.number("l.job_id", "=", filter.job);
        when.number("l.id", "<", filter.before);
        when.number("l.id", ">", filter.after);
        let order = if filter.after.is_some() {
            "ASC"
        } else {
            "DESC"
        };
        let sql = format!(
            "SELECT l.id, l.job_id, j.instance, j.name, j.triggered_by, j.state, l.attempt, l.at, \
             l.level, l.module, l.message FROM job_logs l JOIN jobs j ON j.id = l.job_id{} \
             ORDER BY l.id {order} LIMIT {}",
            when.clause(),
            when.next_param()
        );
        let rows = when
            .bind(sqlx::query(&sql))
            .bind(i64::from(filter.limit.min(MAX_LOG_LINES)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record).collect()
    }
}

fn record(r: &DbRow) -> Result<LogRecord> {
    Ok(LogRecord {
        id: r.try_get("id")?,
        job_id: r.try_get("job_id")?,
        instance: r.try_get("instance")?,
        job_name: r.try_get("name")?,
        trigger: Trigger::parse(&r.try_get::<String, _>("triggered_by")?)?,
        state: JobState::parse(&r.try_get::<String, _>("state")?)?,
        attempt: r.try_get("attempt")?,
        at: r.try_get("at")?,
        level: r.try_get("level")?,
        module: r.try_get("module")?,
        message: r.try_get("message")?,
    })
}
