//! Record triggers: what a record event does for one subscriber, given the
//! subscription's conditions.
//!
//! - **Watched fields** (`fields`): an update that changes none of them fires
//!   nothing.
//! - **Filter** (`filter`): conditions on the record's values (after the
//!   change; the last values for a deletion), all of which must hold.
//! - **Timed condition** (`after = { field, delay }`, event `record.timed`):
//!   the job runs `delay` after the time in `field`. It is planned when the
//!   record is created or changed, re-planned when it changes again (the
//!   pending job is replaced), cancelled when the field is cleared, the filter
//!   stops matching or the record is deleted; and it fires once per due time.
//!
//! Nothing here touches the store: the result is an [`EventJob`] that the
//! record write stores in its own transaction.

use crate::events::{HANDLE_EVENT_JOB, RecordEvent};
use crate::manifest::{After, Conditions, FieldCondition, TIMED_EVENT};
use crate::store::{EventJob, FilterOp, NewJob, Pin, timed_key};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use std::cmp::Ordering;

/// One subscriber of an event: a subscription of a module, for one backend
/// instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Backend instance the job runs for.
    pub instance: String,
    /// Subscribing module.
    pub module: String,
    /// Job to enqueue; none: the module's `handle-event`.
    pub job: Option<String>,
    /// Priority of the job.
    pub priority: i64,
    /// Watched fields, filter, timed condition.
    pub conditions: Conditions,
    /// The module version its jobs run on (none: whatever answers then).
    pub pin: Option<Pin>,
}

impl Target {
    /// What `event` asks of the queue for this subscriber, if anything.
    pub fn event_job(&self, event: &RecordEvent, user: &str) -> Option<EventJob> {
        if let Some(after) = &self.conditions.after {
            return self.timed(after, event, user);
        }
        if event.name == "record.updated" && !watched(&self.conditions.fields, event) {
            return None;
        }
        if !matches(&self.conditions.filter, &event.payload) {
            return None;
        }
        Some(EventJob::Enqueue(self.new_job(event, user)))
    }

    fn new_job(&self, event: &RecordEvent, user: &str) -> NewJob {
        let (name, payload) = match &self.job {
            Some(job) => (job.clone(), event.to_json()),
            None => (
                HANDLE_EVENT_JOB.to_string(),
                json!({ "module": self.module, "event": event.to_json() }),
            ),
        };
        let mut new = NewJob::new(&self.instance, &name, &payload);
        new.priority = self.priority;
        new.pin = self.pin.clone();
        new.user = user.to_string();
        new.trigger = crate::store::Trigger::Event;
        new.description = match event.record_id {
            Some(id) => format!("{} on {} {id}", event.name, event.model),
            None => format!("{} on {}", event.name, event.model),
        };
        if let Some(by) = &event.emitted_by {
            new.description
                .push_str(&format!(" from {}/{}", by.instance, by.module));
        }
        // Changes of one record waiting to go out merge into one job (the
        // union of changed fields, latest values win) instead of queueing up.
        if let (Some(id), true) = (event.record_id, event.name == "record.updated") {
            new.merge_key = Some(format!("{name}:{}:{}:{id}", event.name, event.model));
        }
        new
    }

    fn timed(&self, after: &After, event: &RecordEvent, user: &str) -> Option<EventJob> {
        let record_id = event.record_id?;
        let job = self.job.as_deref().unwrap_or(HANDLE_EVENT_JOB);
        // One timed job per subscription and record.
        let base = format!(
            "timed:{}/{job}/{}:{}:{record_id}",
            self.module, after.field, event.model
        );
        let cancel = || EventJob::CancelTimed {
            instance: self.instance.clone(),
            base: base.clone(),
        };
        match event.name.as_str() {
            "record.deleted" => return Some(cancel()),
            "record.created" => {}
            "record.updated" => {
                // With watched fields, other changes leave the planned job as
                // it is; the time field and the filter's fields always count.
                let mut relevant = self.conditions.fields.clone();
                if !relevant.is_empty() {
                    relevant.push(after.field.clone());
                    relevant.extend(self.conditions.filter.iter().map(|c| c.field.clone()));
                    if !event.changed_fields.iter().any(|f| relevant.contains(f)) {
                        return None;
                    }
                }
            }
            _ => return None,
        }
        let due = time_value(&event.payload[&after.field])
            .map(|t| t.saturating_add(after.delay_ms))
            .filter(|_| matches(&self.conditions.filter, &event.payload));
        let Some(due) = due else {
            return Some(cancel());
        };
        let timed = RecordEvent {
            name: TIMED_EVENT.into(),
            ..event.clone()
        };
        let mut new = self.new_job(&timed, user);
        new.eta = Some(due);
        new.identity_key = Some(timed_key(&base, due));
        new.description = format!(
            "{TIMED_EVENT} on {} {record_id}: {} + {}",
            event.model, after.field, after.delay
        );
        Some(EventJob::Timed(new))
    }
}

/// Whether an update changed a watched field (any change when none is watched).
fn watched(fields: &[String], event: &RecordEvent) -> bool {
    fields.is_empty() || event.changed_fields.iter().any(|f| fields.contains(f))
}

/// Whether `values` (a record's values) meet every condition.
pub fn matches(filter: &[FieldCondition], values: &Value) -> bool {
    filter.iter().all(|c| holds(c, &values[&c.field]))
}

fn holds(c: &FieldCondition, value: &Value) -> bool {
    match c.op {
        FilterOp::Eq => same(value, &c.value),
        FilterOp::Ne => !same(value, &c.value),
        FilterOp::Lt => order(value, &c.value) == Some(Ordering::Less),
        FilterOp::Le => matches!(
            order(value, &c.value),
            Some(Ordering::Less | Ordering::Equal)
        ),
        FilterOp::Gt => order(value, &c.value) == Some(Ordering::Greater),
        FilterOp::Ge => matches!(
            order(value, &c.value),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        FilterOp::Like => match (value, &c.value) {
            (Value::String(text), Value::String(pattern)) => like(text, pattern),
            _ => false,
        },
        FilterOp::OneOf => c
            .value
            .as_array()
            .is_some_and(|options| options.iter().any(|o| same(value, o))),
    }
}

/// JSON equality, where `1` and `1.0` are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Numbers by value, texts by their characters (so ISO dates compare as
/// times); anything else is not ordered and meets no comparison.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// SQL `LIKE`: `%` any run of characters, `_` one character, case-sensitive.
fn like(text: &str, pattern: &str) -> bool {
    let (text, pattern): (Vec<char>, Vec<char>) =
        (text.chars().collect(), pattern.chars().collect());
    // reachable[j]: the first i characters of text match the first j of pattern.
    let mut reachable = vec![false; pattern.len() + 1];
    reachable[0] = true;
    for j in 0..pattern.len() {
        reachable[j + 1] = reachable[j] && pattern[j] == '%';
    }
    for &c in &text {
        let mut next = vec![false; pattern.len() + 1];
        for j in 0..pattern.len() {
            next[j + 1] = match pattern[j] {
                '%' => next[j] || reachable[j + 1],
                '_' => reachable[j],
                p => reachable[j] && p == c,
            };
        }
        reachable = next;
    }
    reachable[pattern.len()]
}

/// A time held by a field, ms since the epoch: a number (ms), RFC 3339 text,
/// `YYYY-MM-DD HH:MM:SS` (UTC) or a date (midnight UTC). Anything else (or
/// nothing) is no time.
pub fn time_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(text) => {
            let text = text.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(text) {
                return Some(t.timestamp_millis());
            }
            for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
                    return Some(t.and_utc().timestamp_millis());
                }
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::SubscriptionDecl;

    fn target(toml: &str) -> Target {
        let decl: SubscriptionDecl = toml::from_str(toml).unwrap();
        Target {
            instance: "acme".into(),
            module: "shop".into(),
            job: decl.job.clone(),
            priority: i64::from(decl.priority),
            conditions: decl.conditions().unwrap(),
            pin: None,
        }
    }

    fn updated(changed: &[&str], values: Value) -> RecordEvent {
        RecordEvent::updated(
            "order",
            7,
            changed.iter().map(|s| s.to_string()).collect(),
            values,
        )
    }

    #[test]
    fn watched_fields_decide_whether_an_update_fires() {
        let t = target(
            r#"event = "record.updated"
               job = "export-record"
               fields = ["name", "list_price"]"#,
        );
        assert!(
            t.event_job(&updated(&["list_price"], json!({})), "u")
                .is_some()
        );
        assert!(
            t.event_job(&updated(&["qty_available"], json!({})), "u")
                .is_none()
        );
        let any = target(r#"event = "record.updated""#);
        assert!(any.event_job(&updated(&["x"], json!({})), "u").is_some());
    }

    #[test]
    fn filters_compare_like_their_ops_say() {
        let values = json!({ "state": "done", "amount": 12.5, "name": "Big order", "n": 3 });
        let case = |filter: &str| {
            target(&format!("event = \"record.updated\"\nfilter = {filter}"))
                .event_job(&updated(&["state"], values.clone()), "u")
                .is_some()
        };
        assert!(case(r#"{ state = "done" }"#));
        assert!(!case(r#"{ state = "draft" }"#));
        assert!(case(r#"{ state = ["draft", "done"] }"#));
        assert!(case(
            r#"[["amount", ">", 10], ["amount", "<=", 12.5], ["n", "=", 3.0]]"#
        ));
        assert!(!case(r#"[["amount", ">=", 13]]"#));
        assert!(case(r#"[["state", "!=", "draft"], ["missing", "!=", 1]]"#));
        assert!(
            !case(r#"[["missing", ">", 1]]"#),
            "no value meets no comparison"
        );
        assert!(case(
            r#"[["name", "like", "Big%"], ["name", "like", "_ig _rder"]]"#
        ));
        assert!(
            !case(r#"[["name", "like", "big%"]]"#),
            "like is case-sensitive"
        );
        assert!(case(r#"[["name", "in", ["Big order"]]]"#));
    }

    #[test]
    fn like_handles_runs_and_single_characters() {
        assert!(like("", "%"));
        assert!(like("abc", "a%c"));
        assert!(like("ac", "a%c"));
        assert!(!like("ab", "a_c"));
        assert!(like("a%c", "a%%c"));
        assert!(!like("abcd", "abc"));
    }

    #[test]
    fn times_are_ms_rfc3339_or_dates() {
        let day = 1_735_689_600_000; // 2025-01-01T00:00:00Z
        assert_eq!(time_value(&json!(day)), Some(day));
        assert_eq!(time_value(&json!("2025-01-01T00:00:00Z")), Some(day));
        assert_eq!(time_value(&json!("2025-01-01T01:00:00+01:00")), Some(day));
        assert_eq!(time_value(&json!("2025-01-01 00:00:00")), Some(day));
        assert_eq!(time_value(&json!("2025-01-01")), Some(day));
        assert_eq!(time_value(&json!("soon")), None);
        assert_eq!(time_value(&Value::Null), None);
    }

    #[test]
    fn timed_conditions_plan_replace_and_cancel() {
        let t = target(
            r#"event = "record.timed"
               job = "ok"
               after = { field = "closed_at", delay = "1d" }
               filter = { state = "done" }"#,
        );
        let closed = 1_735_689_600_000;
        let created = RecordEvent::created(
            "order",
            7,
            vec![],
            json!({ "closed_at": closed, "state": "done" }),
        );
        let Some(EventJob::Timed(job)) = t.event_job(&created, "u") else {
            panic!("planned");
        };
        assert_eq!(job.eta, Some(closed + 86_400_000));
        let key = job.identity_key.unwrap();
        assert_eq!(
            key,
            format!("timed:shop/ok/closed_at:order:7@{}", closed + 86_400_000)
        );
        assert!(job.payload.contains("\"record.timed\""));

        let cleared = updated(
            &["closed_at"],
            json!({ "closed_at": null, "state": "done" }),
        );
        assert!(matches!(
            t.event_job(&cleared, "u"),
            Some(EventJob::CancelTimed { base, .. }) if base == "timed:shop/ok/closed_at:order:7"
        ));
        let reopened = updated(&["state"], json!({ "closed_at": closed, "state": "draft" }));
        assert!(matches!(
            t.event_job(&reopened, "u"),
            Some(EventJob::CancelTimed { .. })
        ));
        let deleted = RecordEvent::deleted("order", 7, json!({}));
        assert!(matches!(
            t.event_job(&deleted, "u"),
            Some(EventJob::CancelTimed { .. })
        ));
    }

    #[test]
    fn timed_conditions_with_watched_fields_ignore_other_changes() {
        let t = target(
            r#"event = "record.timed"
               fields = ["priority"]
               after = { field = "closed_at", delay = "-1h" }
               filter = { state = "done" }"#,
        );
        let values = json!({ "closed_at": "2025-01-01", "state": "done" });
        assert!(
            t.event_job(&updated(&["note"], values.clone()), "u")
                .is_none()
        );
        for field in ["priority", "closed_at", "state"] {
            let Some(EventJob::Timed(job)) = t.event_job(&updated(&[field], values.clone()), "u")
            else {
                panic!("{field} counts");
            };
            assert_eq!(job.eta, Some(1_735_689_600_000 - 3_600_000));
            assert_eq!(job.name, HANDLE_EVENT_JOB);
        }
    }
}
