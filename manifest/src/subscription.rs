//! `[[subscription]]`: events that enqueue a job of the module, with the
//! conditions of record triggers (the host's record trigger applies them).
//!
//! ```toml
//! [[subscription]]                 # an export when the shop's fields change
//! event = "record.updated"
//! models = ["product"]
//! job = "export-record"
//! fields = ["name", "list_price"]  # an update that changes none of them fires nothing
//! filter = [["active", "=", true], ["list_price", ">", 0]]   # or a table: { active = true }
//!
//! [[subscription]]                 # a job one day after an order is closed
//! event = "record.timed"
//! models = ["order"]
//! job = "send-survey"
//! after = { field = "closed_at", delay = "1d" }
//! filter = { state = "done" }
//! ```

use crate::names::valid_name;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Priority of a job when its declaration gives none (lower runs first).
pub(crate) fn default_priority() -> u32 {
    10
}

/// The operator of a condition on a record field (of a subscription's
/// `filter`, and of a guest's record search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// SQL `LIKE`
    Like,
    /// equals one of a JSON array's values
    OneOf,
}

/// The event of timed subscriptions (`after = …`).
pub const TIMED_EVENT: &str = "record.timed";

/// The prefix of the events only the host fires (they follow local writes).
pub const RECORD_EVENT_PREFIX: &str = "record.";

/// The record events the host fires.
pub const RECORD_EVENTS: &[&str] = &[
    "record.created",
    "record.updated",
    "record.deleted",
    TIMED_EVENT,
];

/// Whether `event` is one only the host fires (`record.created`, …).
pub fn is_record_event(event: &str) -> bool {
    event.starts_with(RECORD_EVENT_PREFIX)
}

/// Which backend instances a subscription hears custom events from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventSource {
    /// Only the backend instance the job runs for (instances are walls).
    #[default]
    Instance,
    /// Every backend instance whose modules emit the event; the job runs
    /// for each instance of this module's backend, and its payload names
    /// the emitter.
    Any,
}

impl EventSource {
    fn is_instance(&self) -> bool {
        *self == EventSource::Instance
    }
}

/// `[[subscription]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDecl {
    /// `record.created`, `record.updated`, `record.deleted`, `record.timed`
    /// (with `after`) or a custom event.
    pub event: String,
    /// Models it applies to; all when empty.
    #[serde(default)]
    pub models: Vec<String>,
    /// Job of this module to enqueue; none means the module's `handle-event`.
    #[serde(default)]
    pub job: Option<String>,
    /// Priority of the enqueued jobs (lower runs first).
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Watched fields: an update that changes none of them fires nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Conditions on the record's values, all of which must hold: a list of
    /// `[field, op, value]` (ops `=`, `!=`, `<`, `<=`, `>`, `>=`, `like`, `in`)
    /// or a table `{ field = value }` (equality; a list value means `in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Timed condition: the job runs `delay` after the time in `field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<AfterDecl>,
    /// For custom events: hear them from the subscriber's own instance only
    /// (`"instance"`, the default) or from every instance (`"any"`).
    #[serde(default, skip_serializing_if = "EventSource::is_instance")]
    pub from: EventSource,
}

/// `after = { field = "closed_at", delay = "1d" }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AfterDecl {
    /// Field holding a time: ms since the epoch, RFC 3339 text, or a date.
    pub field: String,
    /// How long after it (`30m`, `2h`, `1d`, `1w 2d`); a leading `-` means before.
    pub delay: String,
}

/// The conditions of a record trigger, as stored with its subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Conditions {
    /// Watched fields (empty: any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Conditions on the record's values, all of which must hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<FieldCondition>,
    /// Timed condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<After>,
    /// Where custom events may come from.
    #[serde(skip_serializing_if = "EventSource::is_instance")]
    pub from: EventSource,
}

impl Conditions {
    /// No condition at all (fires on every matching event).
    pub fn is_empty(&self) -> bool {
        *self == Conditions::default()
    }
}

/// One `[field, op, value]` condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "(String, String, Value)", try_from = "(String, String, Value)")]
pub struct FieldCondition {
    /// Field of the record.
    pub field: String,
    /// Comparison.
    pub op: FilterOp,
    /// Value compared with (a list for `in`).
    pub value: Value,
}

impl From<FieldCondition> for (String, String, Value) {
    fn from(c: FieldCondition) -> Self {
        (c.field, op_text(c.op).to_string(), c.value)
    }
}

impl TryFrom<(String, String, Value)> for FieldCondition {
    type Error = String;
    fn try_from((field, op, value): (String, String, Value)) -> Result<Self, String> {
        check_field(&field)?;
        let op = parse_op(&op).ok_or_else(|| {
            format!("unknown operator {op:?} (use =, !=, <, <=, >, >=, like, in)")
        })?;
        match (op, &value) {
            (FilterOp::OneOf, Value::Array(_)) => {}
            (FilterOp::OneOf, other) => return Err(format!("`in` needs a list, got {other}")),
            (FilterOp::Like, Value::String(_)) => {}
            (FilterOp::Like, other) => {
                return Err(format!("`like` needs a text pattern, got {other}"));
            }
            (FilterOp::Lt | FilterOp::Le | FilterOp::Gt | FilterOp::Ge, v)
                if !(v.is_number() || v.is_string()) =>
            {
                return Err(format!(
                    "`{}` compares numbers or texts, got {v}",
                    op_text(op)
                ));
            }
            _ => {}
        }
        Ok(FieldCondition { field, op, value })
    }
}

/// A parsed timed condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "AfterDecl", try_from = "AfterDecl")]
pub struct After {
    /// Field holding the time.
    pub field: String,
    /// The delay as written.
    pub delay: String,
    /// The delay in ms (negative: before).
    pub delay_ms: i64,
}

impl From<After> for AfterDecl {
    fn from(a: After) -> Self {
        AfterDecl {
            field: a.field,
            delay: a.delay,
        }
    }
}

impl TryFrom<AfterDecl> for After {
    type Error = String;
    fn try_from(decl: AfterDecl) -> Result<Self, String> {
        check_field(&decl.field).map_err(|e| format!("field: {e}"))?;
        let text = decl.delay.trim();
        let (sign, magnitude) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest.trim()),
            None => (1, text),
        };
        let delay_ms = if magnitude == "0" {
            0
        } else {
            let d = humantime::parse_duration(magnitude).map_err(|e| {
                format!(
                    "delay = {:?}: {e} (e.g. \"30m\", \"2h\", \"1d\", \"-1h\")",
                    decl.delay
                )
            })?;
            i64::try_from(d.as_millis())
                .map_err(|_| format!("delay = {:?}: too long", decl.delay))?
                * sign
        };
        Ok(After {
            field: decl.field,
            delay: decl.delay,
            delay_ms,
        })
    }
}

/// The operator names of filters.
pub fn op_text(op: FilterOp) -> &'static str {
    match op {
        FilterOp::Eq => "=",
        FilterOp::Ne => "!=",
        FilterOp::Lt => "<",
        FilterOp::Le => "<=",
        FilterOp::Gt => ">",
        FilterOp::Ge => ">=",
        FilterOp::Like => "like",
        FilterOp::OneOf => "in",
    }
}

fn parse_op(text: &str) -> Option<FilterOp> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "=" | "==" => FilterOp::Eq,
        "!=" | "<>" => FilterOp::Ne,
        "<" => FilterOp::Lt,
        "<=" => FilterOp::Le,
        ">" => FilterOp::Gt,
        ">=" => FilterOp::Ge,
        "like" => FilterOp::Like,
        "in" => FilterOp::OneOf,
        _ => return None,
    })
}

fn check_field(field: &str) -> Result<(), String> {
    if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{field:?} is not a field name (letters, digits and `_`)"
        ));
    }
    Ok(())
}

/// A filter as written (list of triples or table) → conditions.
fn parse_filter(filter: &Value) -> Result<Vec<FieldCondition>, String> {
    match filter {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let triple = match item {
                    Value::Array(t) if t.len() == 3 => t,
                    other => {
                        return Err(format!(
                            "filter[{i}] = {other}: expected [field, op, value]"
                        ));
                    }
                };
                let field = triple[0].as_str().unwrap_or_default().to_string();
                let op = triple[1].as_str().unwrap_or_default().to_string();
                FieldCondition::try_from((field, op, triple[2].clone()))
                    .map_err(|e| format!("filter[{i}] = {item}: {e}"))
            })
            .collect(),
        Value::Object(table) => table
            .iter()
            .map(|(field, value)| {
                let op = if value.is_array() { "in" } else { "=" };
                FieldCondition::try_from((field.clone(), op.to_string(), value.clone()))
                    .map_err(|e| format!("filter.{field}: {e}"))
            })
            .collect(),
        other => Err(format!(
            "filter = {other}: expected a list of [field, op, value] or a table of field = value"
        )),
    }
}

impl SubscriptionDecl {
    /// The conditions of this subscription, parsed.
    pub fn conditions(&self) -> Result<Conditions, String> {
        let mut fields = self.fields.clone();
        for f in &fields {
            check_field(f).map_err(|e| format!("fields: {e}"))?;
        }
        fields.sort();
        fields.dedup();
        let filter = match &self.filter {
            None => Vec::new(),
            Some(f) => parse_filter(f)?,
        };
        let after = match &self.after {
            None => None,
            Some(a) => Some(After::try_from(a.clone()).map_err(|e| format!("after {e}"))?),
        };
        Ok(Conditions {
            fields,
            filter,
            after,
            from: self.from,
        })
    }

    /// Check that a record event is one the host fires (`record.update`
    /// would install and never fire), naming the closest one.
    pub(crate) fn check_event_name(&self, at: &str) -> Result<(), String> {
        let event = self.event.trim();
        if is_record_event(event) && !RECORD_EVENTS.contains(&event) {
            return Err(format!(
                "{at} event = {event:?}: the host fires no such record event; did you mean {:?}? \
                 (record events: {})",
                closest(event, RECORD_EVENTS),
                RECORD_EVENTS.join(", ")
            ));
        }
        Ok(())
    }

    /// Check one declaration; `at` names it in errors (`[[subscription]] #2`).
    pub(crate) fn check(&self, at: &str) -> Result<(), String> {
        let event = self.event.trim();
        if event.is_empty() {
            return Err(format!("{at}: event must not be empty"));
        }
        if !valid_name(event) {
            return Err(format!(
                "{at} event = {event:?}: not an event name (letters, digits, `.`, `-`, `_`; 64 at most)"
            ));
        }
        if let Some(job) = &self.job
            && !valid_name(job)
        {
            return Err(format!("{at} job = {job:?}: not a valid job name"));
        }
        if self.from == EventSource::Any && is_record_event(event) {
            return Err(format!(
                "{at} from = \"any\": record events follow local writes and reach every instance \
                 already; `from` applies to custom events"
            ));
        }
        let conditions = self.conditions().map_err(|e| format!("{at} {e}"))?;
        match (event == TIMED_EVENT, &conditions.after) {
            (true, None) => {
                return Err(format!(
                    "{at}: event \"{TIMED_EVENT}\" needs `after = {{ field = \"...\", delay = \"...\" }}`"
                ));
            }
            (false, Some(_)) => {
                return Err(format!(
                    "{at} after: a timed condition needs event = \"{TIMED_EVENT}\" (it follows the record's \
                     creation, changes and deletion), not {event:?}"
                ));
            }
            _ => {}
        }
        if !conditions.fields.is_empty() && !matches!(event, "record.updated" | TIMED_EVENT) {
            // A mistyped record event says so first: that is the mistake.
            self.check_event_name(at)?;
            return Err(format!(
                "{at} fields: watched fields apply to \"record.updated\" and \"{TIMED_EVENT}\", not {event:?}"
            ));
        }
        Ok(())
    }
}

/// The name of `names` closest to `word` (fewest single-character edits).
pub fn closest<'a>(word: &str, names: &[&'a str]) -> &'a str {
    names
        .iter()
        .copied()
        .min_by_key(|name| strsim::levenshtein(word, name))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
