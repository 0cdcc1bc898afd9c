//! The Jobs page's filter: read from the query (every bad value a 400 that
//! says which and why) and written back into the page's links and the
//! admin API URL its rows are refreshed from.

use super::page::{Problem, field, time};
use crate::store::{JobFilter, JobState, Trigger};
use std::collections::HashMap;

/// Most rows on one page of jobs.
const MAX_LIMIT: u32 = 500;

/// The filter of a query: an unknown state or trigger, a time that is not
/// one, or a `before` that is not a job id is a 400 saying which.
pub(super) fn parse_filter(query: &HashMap<String, String>) -> Result<JobFilter, Problem> {
    let text = |name: &str| field(query, name).map(str::to_string);
    let state = field(query, "state")
        .map(JobState::parse)
        .transpose()
        .map_err(|e| Problem::bad(format!("filter `state`: {e}")))?;
    let trigger = field(query, "trigger")
        .map(Trigger::parse)
        .transpose()
        .map_err(|e| Problem::bad(format!("filter `trigger`: {e}")))?;
    let before = field(query, "before")
        .map(|b| {
            b.parse::<i64>().map_err(|_| {
                Problem::bad(format!(
                    "`before` must be a job id (the pages' own links set it), not `{b}`"
                ))
            })
        })
        .transpose()?;
    let limit = field(query, "limit")
        .map(|l| match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(Problem::bad(format!(
                "`limit` must be a number from 1 to {MAX_LIMIT}, not `{l}`"
            ))),
        })
        .transpose()?
        .unwrap_or(50);
    Ok(JobFilter {
        state,
        instance: text("instance"),
        channel: text("channel"),
        module: text("module"),
        name: text("name"),
        trigger,
        text: text("text"),
        since: field(query, "since")
            .map(|t| parse_time("since", t))
            .transpose()?,
        until: field(query, "until")
            .map(|t| parse_time("until", t))
            .transpose()?,
        before,
        limit,
    })
}

/// A time typed in a filter: `2026-12-03T18:30` (UTC, as the browser's
/// date-time field sends it, seconds optional), or a span back from now
/// such as `1h` or `30min`.
pub(super) fn parse_time(name: &str, text: &str) -> Result<i64, Problem> {
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis());
    }
    if let Ok(span) = humantime::parse_duration(text) {
        let ms = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        return Ok(crate::store::now_ms().saturating_sub(ms));
    }
    Err(Problem::bad(format!(
        "filter `{name}`: `{text}` is neither a UTC time like 2026-12-03T18:30 nor a span back \
         from now like 1h or 30min"
    )))
}

/// The query string of `filter` for the console's own links.
pub(super) fn filter_query(filter: &JobFilter, before: Option<i64>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            q.append_pair(k, &v);
        }
    };
    put("state", filter.state.map(|s| s.to_string()));
    put("instance", filter.instance.clone());
    put("module", filter.module.clone());
    put("name", filter.name.clone());
    put("trigger", filter.trigger.map(|t| t.to_string()));
    put("channel", filter.channel.clone());
    put("text", filter.text.clone());
    put("since", filter.since.map(|t| time(t).replace(' ', "T")));
    put("until", filter.until.map(|t| time(t).replace(' ', "T")));
    put("before", before.map(|b| b.to_string()));
    put(
        "limit",
        (filter.limit != 50).then(|| filter.limit.to_string()),
    );
    q.finish()
}

pub(super) fn page_url(filter: &JobFilter, before: Option<i64>) -> String {
    format!("/jobs?{}", filter_query(filter, before))
}

/// The query string of `filter` for `GET /api/jobs` (times in ms).
pub(super) fn api_query(filter: &JobFilter) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            q.append_pair(k, &v);
        }
    };
    put("state", filter.state.map(|s| s.to_string()));
    put("instance", filter.instance.clone());
    put("module", filter.module.clone());
    put("name", filter.name.clone());
    put("trigger", filter.trigger.map(|t| t.to_string()));
    put("channel", filter.channel.clone());
    put("text", filter.text.clone());
    put("since", filter.since.map(|t| t.to_string()));
    put("until", filter.until.map(|t| t.to_string()));
    put("before", filter.before.map(|b| b.to_string()));
    put("limit", Some(filter.limit.to_string()));
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_parse_or_say_why_not() {
        let f = parse_filter(&q(&[
            ("state", "failed"),
            ("trigger", "cron"),
            ("limit", ""),
        ]))
        .expect("a valid filter");
        assert_eq!(f.state, Some(JobState::Failed));
        assert_eq!(f.trigger, Some(Trigger::Cron));
        assert_eq!(f.limit, 50);
        assert!(parse_filter(&q(&[("state", "exploded")])).is_err());
        assert!(parse_filter(&q(&[("before", "99999999999999999999999")])).is_err());
        assert!(parse_filter(&q(&[("limit", "100000")])).is_err());
        assert!(parse_filter(&q(&[("since", "yesterday-ish")])).is_err());
        let t = parse_filter(&q(&[("since", "2026-12-03T18:30")])).expect("a time");
        assert_eq!(t.since.map(time), Some("2026-12-03 18:30:00".into()));
        assert!(
            parse_filter(&q(&[("since", "1h")]))
                .expect("a span")
                .since
                .is_some()
        );
    }
}
