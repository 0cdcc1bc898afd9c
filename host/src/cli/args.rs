//! Parsers of option values shared by several commands.

use anyhow::{Context, Result};
use serde_json::Value;

/// `KEY=VALUE` of a `--param`.
pub(super) fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}`: expected KEY=VALUE"))
}

pub(super) fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))
}

/// JSON given as an option's value: the text itself, `@FILE` (the file's
/// content) or `-` (standard input), for payloads larger than an argument.
pub(super) fn json_arg(text: &str, what: &str) -> Result<Value> {
    use std::io::Read;
    let (content, source) = if text == "-" {
        let mut content = String::new();
        std::io::stdin()
            .read_to_string(&mut content)
            .with_context(|| format!("{what} -: cannot read standard input"))?;
        (content, "standard input".to_string())
    } else if let Some(path) = text.strip_prefix('@') {
        let content = std::fs::read_to_string(path)
            .with_context(|| format!("{what} @{path}: cannot read `{path}`"))?;
        (content, format!("`{path}`"))
    } else {
        return parse_json(text, what);
    };
    serde_json::from_str(&content).with_context(|| format!("{what}: {source} is not valid JSON"))
}

/// `30s`, `15m`, `2h`, `1d`.
pub(super) fn parse_age(text: &str) -> std::result::Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 30m"))?;
    let secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("`{other}`: unknown unit (s, m, h, d)")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(secs)))
}

/// A point in time, ms since the epoch: an age (`30m`, `2h`, `7d`: that long
/// ago) or an RFC 3339 time (`2026-12-03T18:00:00Z`).
pub(super) fn parse_time(text: &str) -> std::result::Result<i64, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    let age = parse_age(text).map_err(|_| {
        format!("`{text}`: expected an age (30m, 2h, 7d) or a time (2026-12-03T18:00:00Z)")
    })?;
    let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    Ok(ferry::store::now_ms().saturating_sub(age_ms))
}
