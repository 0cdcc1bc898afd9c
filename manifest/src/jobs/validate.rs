//! A payload checked against a job's parameters before a job (or a profile)
//! is stored: unknown keys, missing required ones, values of the wrong type,
//! out of range, not among `one_of`, not matching `pattern`. Defaults are
//! applied; values are otherwise kept as given (a duration stays `2d`, a date
//! stays text), so that what an operator wrote is what the guest and the
//! profile listing show. A job that declares no parameters takes any payload.

use super::duration;
use super::{JobParam, ParamType};
use serde_json::{Map, Value};
use std::fmt;

/// Why a payload was refused: who gave it, which parameter, which rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ParamError {
    /// What carried the payload: ``job `import-batch` `` or ``profile `nightly` ``.
    pub subject: String,
    /// The parameter at fault, when one is.
    pub param: Option<String>,
    /// The rule it broke.
    pub problem: Problem,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.param {
            Some(p) => write!(f, "{}: parameter `{p}`: {}", self.subject, self.problem),
            None => write!(f, "{}: {}", self.subject, self.problem),
        }
    }
}

/// A rule a payload or a value broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The payload is not a JSON object of parameters.
    #[error("the parameters must be a JSON object, not {0}")]
    NotAnObject(String),
    /// A key the job does not declare.
    #[error("not declared (the declared parameters: {})", list_or_none(.known))]
    Unknown {
        /// The declared parameters.
        known: Vec<String>,
    },
    /// A required parameter without a value or a default.
    #[error("required, and not given")]
    Missing,
    /// A value of the wrong type.
    #[error("`{value}` is not {}", expected(*.ty))]
    WrongType {
        /// The value, as given.
        value: String,
        /// The declared type.
        ty: ParamType,
    },
    /// A number under `minimum`, or a list with fewer items.
    #[error("{value} is less than the minimum {minimum}")]
    BelowMinimum {
        /// The number, or the list's length.
        value: f64,
        /// The declared minimum.
        minimum: f64,
    },
    /// A number over `maximum`, or a list with more items.
    #[error("{value} is more than the maximum {maximum}")]
    AboveMaximum {
        /// The number, or the list's length.
        value: f64,
        /// The declared maximum.
        maximum: f64,
    },
    /// A value not among `one_of`.
    #[error("`{value}` is not one of {}", .allowed.join(", "))]
    NotOneOf {
        /// The value, as given.
        value: String,
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// A string (or a list item) not matching `pattern` whole.
    #[error("`{value}` does not match the pattern `{pattern}`")]
    NoMatch {
        /// The value, as given.
        value: String,
        /// The declared pattern.
        pattern: String,
    },
    /// A declared pattern that is not a regular expression.
    #[error("the pattern `{pattern}` is not a regular expression: {reason}")]
    BadPattern {
        /// The declared pattern.
        pattern: String,
        /// Why the regex engine refused it.
        reason: String,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn expected(ty: ParamType) -> String {
    match ty {
        ParamType::String => "a string".into(),
        ParamType::Integer => "an integer".into(),
        ParamType::Number => "a number".into(),
        ParamType::Boolean => "true or false".into(),
        ParamType::Enum => "one of the allowed values".into(),
        ParamType::List => "a list of strings".into(),
        ParamType::Date => "a date (YYYY-MM-DD, or an RFC 3339 date-time)".into(),
        ParamType::Duration => format!("a duration ({})", duration::FORMS),
        ParamType::Url => "an absolute http or https URL".into(),
    }
}

/// A value as messages show it: strings without their quotes.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `payload` checked against `params` for `subject` (e.g. ``job `import-batch` ``),
/// with defaults applied. With no parameters declared any payload is taken as
/// it is (components of contract 0.1 declare none). A `null` value counts as
/// not given.
pub fn validate(subject: &str, params: &[JobParam], payload: &Value) -> Result<Value, ParamError> {
    if params.is_empty() {
        return Ok(payload.clone());
    }
    let fail = |param: Option<&str>, problem| ParamError {
        subject: subject.to_string(),
        param: param.map(str::to_string),
        problem,
    };
    let empty = Map::new();
    let given = match payload {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            let kind = match other {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "true or false",
            };
            return Err(fail(None, Problem::NotAnObject(kind.into())));
        }
    };
    if let Some(key) = given.keys().find(|k| !params.iter().any(|p| &p.name == *k)) {
        let known = params.iter().map(|p| p.name.clone()).collect();
        return Err(fail(Some(key), Problem::Unknown { known }));
    }
    let mut out = Map::new();
    for param in params {
        let value = given
            .get(&param.name)
            .filter(|v| !v.is_null())
            .or(param.default.as_ref());
        match value {
            Some(value) => {
                check_value(param, value).map_err(|p| fail(Some(&param.name), p))?;
                out.insert(param.name.clone(), value.clone());
            }
            None if param.required => return Err(fail(Some(&param.name), Problem::Missing)),
            None => {}
        }
    }
    Ok(Value::Object(out))
}

/// `value` checked against one parameter's type and constraints.
pub(crate) fn check_value(param: &JobParam, value: &Value) -> Result<(), Problem> {
    let wrong = || Problem::WrongType {
        value: shown(value),
        ty: param.ty,
    };
    match param.ty {
        ParamType::String => {
            let text = value.as_str().ok_or_else(wrong)?;
            check_text(param, text)?;
            check_one_of(param, value)
        }
        ParamType::Integer => {
            let whole = value.is_i64()
                || value.is_u64()
                || value.as_f64().is_some_and(|f| f.fract() == 0.0);
            if !whole {
                return Err(wrong());
            }
            check_range(param, value.as_f64().unwrap_or_default())?;
            check_one_of(param, value)
        }
        ParamType::Number => {
            let n = value.as_f64().ok_or_else(wrong)?;
            check_range(param, n)?;
            check_one_of(param, value)
        }
        ParamType::Boolean => value.as_bool().map(|_| ()).ok_or_else(wrong),
        ParamType::Enum => {
            value.as_str().ok_or_else(wrong)?;
            check_one_of(param, value)
        }
        ParamType::List => {
            let items = value.as_array().ok_or_else(wrong)?;
            check_range(param, items.len() as f64)?;
            for item in items {
                let text = item.as_str().ok_or_else(wrong)?;
                check_text(param, text)?;
                check_one_of(param, item)?;
            }
            Ok(())
        }
        ParamType::Date => {
            let text = value.as_str().ok_or_else(wrong)?;
            let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
                || chrono::DateTime::parse_from_rfc3339(text).is_ok();
            date.then_some(()).ok_or_else(wrong)
        }
        ParamType::Duration => {
            let ok = match value {
                Value::String(text) => duration::parse_ms(text).is_some(),
                other => other.is_u64(),
            };
            ok.then_some(()).ok_or_else(wrong)
        }
        ParamType::Url => {
            let text = value.as_str().ok_or_else(wrong)?;
            check_url(text).then_some(()).ok_or_else(wrong)?;
            check_text(param, text)
        }
    }
}

/// Whether `text` is an absolute `http`/`https` URL with a host.
pub(crate) fn check_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

fn check_text(param: &JobParam, text: &str) -> Result<(), Problem> {
    let Some(pattern) = &param.pattern else {
        return Ok(());
    };
    if whole_match(pattern)?.is_match(text) {
        Ok(())
    } else {
        Err(Problem::NoMatch {
            value: text.to_string(),
            pattern: pattern.clone(),
        })
    }
}

/// `pattern` compiled to match a whole value.
pub(crate) fn whole_match(pattern: &str) -> Result<regex::Regex, Problem> {
    regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| Problem::BadPattern {
        pattern: pattern.to_string(),
        reason: e.to_string(),
    })
}

fn check_range(param: &JobParam, n: f64) -> Result<(), Problem> {
    if let Some(minimum) = param.minimum
        && n < minimum
    {
        return Err(Problem::BelowMinimum { value: n, minimum });
    }
    if let Some(maximum) = param.maximum
        && n > maximum
    {
        return Err(Problem::AboveMaximum { value: n, maximum });
    }
    Ok(())
}

fn check_one_of(param: &JobParam, value: &Value) -> Result<(), Problem> {
    let same = |a: &Value| match (a.as_f64(), value.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == value,
    };
    if param.one_of.is_empty() || param.one_of.iter().any(same) {
        Ok(())
    } else {
        Err(Problem::NotOneOf {
            value: shown(value),
            allowed: param.one_of.iter().map(shown).collect(),
        })
    }
}

/// The JSON value of `text` as given on a command line (`--param k=v`), read
/// by the parameter's type: an integer or number becomes a number, a boolean
/// `true`/`false`, a list splits on commas; other types stay text. The value
/// is then checked like any other (see [`validate`]).
pub fn parse_value(param: &JobParam, text: &str) -> Result<Value, Problem> {
    let wrong = || Problem::WrongType {
        value: text.to_string(),
        ty: param.ty,
    };
    Ok(match param.ty {
        ParamType::Integer => Value::from(text.trim().parse::<i64>().map_err(|_| wrong())?),
        ParamType::Number => {
            let n: f64 = text.trim().parse().map_err(|_| wrong())?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(wrong)?
        }
        ParamType::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(wrong()),
        },
        ParamType::List => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Value::from)
                .collect(),
        ),
        _ => Value::from(text),
    })
}
