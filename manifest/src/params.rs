//! `[params.NAME]`: the params that backend instances of a module's backends
//! take, which templates of the manifest (`{{ params.NAME }}`) may name.
//!
//! Params are typed like job parameters (`type = "url"`, `pattern`, `one_of`,
//! `minimum`/`maximum`; `string` when no type is given) and checked when an
//! instance is added or changed, so that an undeclared `tokn=x` or a
//! `url=not-a-url` is refused there rather than failing when a job runs.
//! Values are text (as `--param k=v` gives them), read by their type to be
//! checked, and stored as given.

use crate::jobs::{JobParam, ParamError, ParamType, check_params, parse_value, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `[params.NAME]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    /// Its type (`string` when not given).
    #[serde(default, rename = "type")]
    pub ty: ParamType,
    /// A backend instance must set it.
    #[serde(default)]
    pub required: bool,
    /// Value when an instance does not set it.
    #[serde(default)]
    pub default: Option<String>,
    /// Smallest value (integer, number) or fewest items (list).
    #[serde(default)]
    pub minimum: Option<f64>,
    /// Largest value (integer, number) or most items (list).
    #[serde(default)]
    pub maximum: Option<f64>,
    /// A regular expression the value must match whole.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The allowed values.
    #[serde(default)]
    pub one_of: Vec<Value>,
    /// What it is.
    #[serde(default)]
    pub description: String,
}

impl ParamDecl {
    /// The same declaration as a job parameter named `name`, its default read
    /// by its type, so that both are checked by one set of rules.
    pub fn as_job_param(&self, name: &str) -> JobParam {
        let mut param = JobParam {
            name: name.to_string(),
            ty: self.ty,
            required: self.required,
            default: None,
            minimum: self.minimum,
            maximum: self.maximum,
            pattern: self.pattern.clone(),
            one_of: self.one_of.clone(),
            description: self.description.clone(),
        };
        param.default = self
            .default
            .as_ref()
            .map(|d| parse_value(&param, d).unwrap_or_else(|_| Value::String(d.clone())));
        param
    }

    /// Check the declaration `[params.NAME]` itself.
    pub(crate) fn check(&self, name: &str) -> Result<(), String> {
        check_params("(backend params)", &[self.as_job_param(name)])
            .map_err(|e| format!("[params.{name}] {e}"))
    }
}

/// Check the params `given` to backend instance `instance` against the params
/// its backend chain declares: an undeclared key is refused naming the
/// declared ones, each value is read by its type and checked, required ones
/// must be there. Text values are read as `--param k=v` would be.
pub fn check_instance_params(
    instance: &str,
    declared: &BTreeMap<String, ParamDecl>,
    given: &Map<String, Value>,
) -> Result<(), ParamError> {
    let params: Vec<JobParam> = declared
        .iter()
        .map(|(name, d)| d.as_job_param(name))
        .collect();
    let subject = format!("backend instance `{instance}`");
    let mut typed = Map::new();
    for (key, value) in given {
        let value = match (params.iter().find(|p| &p.name == key), value) {
            (Some(p), Value::String(text)) => {
                parse_value(p, text).map_err(|problem| ParamError {
                    subject: subject.clone(),
                    param: Some(key.clone()),
                    problem,
                })?
            }
            _ => value.clone(),
        };
        typed.insert(key.clone(), value);
    }
    if params.is_empty() {
        if let Some(key) = typed.keys().next() {
            return Err(ParamError {
                subject,
                param: Some(key.clone()),
                problem: crate::jobs::Problem::Unknown { known: Vec::new() },
            });
        }
        return Ok(());
    }
    validate(&subject, &params, &Value::Object(typed)).map(|_| ())
}
