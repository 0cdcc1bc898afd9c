//! `[[cron]]`: schedules that enqueue a job of the module for every backend
//! instance of its backends (the host's cron trigger runs them).
//!
//! ```toml
//! [[cron]]
//! name = "import-products"      # unique in the module; what operators override
//! schedule = "*/15 * * * *"     # minute hour day-of-month month day-of-week (UTC)
//! job = "import-batch"
//! payload = { model = "product" }
//! since_key = "since"           # payload key that gets the tick of the last run that finished done
//! priority = 8
//! channel = "root.import"
//! ```

use crate::names::valid_name;
use crate::subscription::default_priority;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// `[[cron]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CronDecl {
    /// Name of the schedule, unique in the module.
    pub name: String,
    /// Cron expression: five fields (minute hour day-of-month month
    /// day-of-week, in UTC) or a nickname such as `@hourly`.
    pub schedule: String,
    /// Job of this module to enqueue.
    pub job: String,
    /// Payload of the job: a table, or a JSON object as text; `{}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Payload key that receives the tick (ms since the epoch) of the last run
    /// that finished done, so that the job asks only for what changed since;
    /// absent on the first run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_key: Option<String>,
    /// Priority of the jobs (lower runs first).
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Channel of the jobs; `root` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl CronDecl {
    /// The payload as a JSON object.
    pub fn payload(&self) -> Result<Value, String> {
        let value = match &self.payload {
            None => return Ok(Value::Object(Default::default())),
            Some(Value::String(text)) => {
                serde_json::from_str(text).map_err(|e| format!("payload: not valid JSON ({e})"))?
            }
            Some(other) => other.clone(),
        };
        match value {
            Value::Object(_) => Ok(value),
            other => Err(format!(
                "payload: must be a table (or a JSON object), got {other}"
            )),
        }
    }

    /// Check one declaration; `at` names it in errors (`[[cron]] #2`).
    pub(crate) fn check(&self, at: &str) -> Result<(), String> {
        if !valid_name(&self.name) {
            return Err(format!(
                "{at} name = {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                self.name
            ));
        }
        let at = format!("{at} (`{}`)", self.name);
        Schedule::parse(&self.schedule)
            .map_err(|e| format!("{at} schedule = {:?}: {e}", self.schedule))?;
        if !valid_name(&self.job) {
            return Err(format!("{at} job = {:?}: not a valid job name", self.job));
        }
        self.payload().map_err(|e| format!("{at} {e}"))?;
        if let Some(key) = &self.since_key
            && key.trim().is_empty()
        {
            return Err(format!("{at} since_key: must not be empty"));
        }
        if let Some(channel) = &self.channel
            && !valid_name(channel)
        {
            return Err(format!(
                "{at} channel = {channel:?}: not a valid channel name (e.g. `root.import`)"
            ));
        }
        Ok(())
    }
}

/// A parsed cron expression, evaluated in UTC (no daylight-saving surprises).
#[derive(Clone, PartialEq)]
pub struct Schedule {
    text: String,
    cron: croner::Cron,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.text)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `ms` as a time, in whole seconds (the search keeps the fraction of its
/// starting point, and ticks are whole minutes).
fn utc(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms - ms.rem_euclid(1000))
}

impl Schedule {
    /// Parse a five-field expression or a nickname (`@hourly`, `@daily`…).
    /// Seconds and years are refused: a minute is the finest tick a job queue
    /// needs, and one syntax is easier to read.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        use croner::parser::{CronParser, Seconds, Year};
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| {
                format!(
                    "not a cron expression ({e}); use minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\""
                )
            })?;
        let schedule = Schedule {
            text: text.trim().to_string(),
            cron,
        };
        // `0 0 30 2 *` parses but never comes.
        if schedule.next_after(0).is_none() {
            return Err("this schedule never fires".into());
        }
        Ok(schedule)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The latest tick at or before `t` (ms since the epoch).
    pub fn latest_at_or_before(&self, t: i64) -> Option<i64> {
        self.cron
            .find_previous_occurrence(&utc(t)?, true)
            .ok()
            .map(|d| d.timestamp_millis())
    }

    /// The first tick after `t` (ms since the epoch).
    pub fn next_after(&self, t: i64) -> Option<i64> {
        self.cron
            .find_next_occurrence(&utc(t)?, false)
            .ok()
            .map(|d| d.timestamp_millis())
    }
}

#[cfg(test)]
mod tests;
