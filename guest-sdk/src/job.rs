//! [`JobDef`] and [`Param`]: what a job declares about itself: its typed
//! parameters and, for a batch job, its [`Step`]s.
//!
//! The host validates a job's payload (and a profile, a one-off override)
//! against the parameters before anything is stored, fills in their
//! defaults, and hands the job the result: your code reads checked values.
//!
//! ```
//! use ferry_sdk::prelude::*;
//! use ferry_sdk::job::{JobDef, Param};
//! use serde_json::{json, Value};
//!
//! fn import(ctx: &Context, params: Value) -> Result<Value> {
//!     let model = params["model"].as_str().unwrap_or("product");
//!     let since_ms = ferry_sdk::job::duration_ms(&params["since"])?;
//!     ctx.info_log(&format!("importing {model} changed in the last {since_ms:?} ms"));
//!     Ok(json!({ "model": model }))
//! }
//!
//! fn connector() -> Connector {
//!     Connector::new().job_with(
//!         JobDef::new("import-batch", "Import what changed")
//!             .param(Param::string("model").required().describe("Model to import"))
//!             .param(Param::duration("since").default("2d"))
//!             .param(Param::enumeration("mode", &["full", "changes"]).default("changes")),
//!         import,
//!     )
//! }
//! # let _ = connector();
//! ```

use crate::step::Step;
use crate::{Error, Result};
use serde_json::Value;

/// The type of a job parameter: which JSON values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A JSON string.
    String,
    /// A JSON number without a fraction.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A string among the parameter's `one_of`.
    Enumeration,
    /// A JSON array of strings (a comma-separated list on the command line).
    List,
    /// A date `YYYY-MM-DD`, or an RFC 3339 date-time.
    Date,
    /// A duration: `90s`, `15m`, `2h`, `2d`, `1w`, or milliseconds as a
    /// number; read it with [`duration_ms`].
    Duration,
    /// An absolute `http` or `https` URL.
    Url,
}

/// One typed parameter of a job, built like `Param::integer("limit").minimum(1.0)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub(crate) name: String,
    pub(crate) ty: ParamType,
    pub(crate) required: bool,
    pub(crate) default: Option<Value>,
    pub(crate) minimum: Option<f64>,
    pub(crate) maximum: Option<f64>,
    pub(crate) pattern: Option<String>,
    pub(crate) one_of: Vec<Value>,
    pub(crate) description: String,
}

impl Param {
    /// A parameter of any type; optional, no default.
    pub fn new(name: &str, ty: ParamType) -> Self {
        Param {
            name: name.to_string(),
            ty,
            required: false,
            default: None,
            minimum: None,
            maximum: None,
            pattern: None,
            one_of: Vec::new(),
            description: String::new(),
        }
    }
    /// A string parameter.
    pub fn string(name: &str) -> Self {
        Self::new(name, ParamType::String)
    }
    /// An integer parameter.
    pub fn integer(name: &str) -> Self {
        Self::new(name, ParamType::Integer)
    }
    /// A number parameter.
    pub fn number(name: &str) -> Self {
        Self::new(name, ParamType::Number)
    }
    /// A boolean parameter.
    pub fn boolean(name: &str) -> Self {
        Self::new(name, ParamType::Boolean)
    }
    /// A parameter whose value is one of `values`.
    pub fn enumeration(name: &str, values: &[&str]) -> Self {
        let mut p = Self::new(name, ParamType::Enumeration);
        p.one_of = values.iter().map(|v| Value::from(*v)).collect();
        p
    }
    /// A list of strings.
    pub fn list(name: &str) -> Self {
        Self::new(name, ParamType::List)
    }
    /// A date or date-time.
    pub fn date(name: &str) -> Self {
        Self::new(name, ParamType::Date)
    }
    /// A duration (`2d`, `15m`, or milliseconds); see [`duration_ms`].
    pub fn duration(name: &str) -> Self {
        Self::new(name, ParamType::Duration)
    }
    /// An `http`/`https` URL.
    pub fn url(name: &str) -> Self {
        Self::new(name, ParamType::Url)
    }
    /// A job, profile or run must give it (a default counts).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Its value when none is given, e.g. `.default("2d")` or `.default(100)`.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }
    /// Smallest value (integer, number), or fewest items (list).
    pub fn minimum(mut self, min: f64) -> Self {
        self.minimum = Some(min);
        self
    }
    /// Largest value (integer, number), or most items (list).
    pub fn maximum(mut self, max: f64) -> Self {
        self.maximum = Some(max);
        self
    }
    /// A regular expression a string (each item of a list) must match whole.
    pub fn pattern(mut self, regex: &str) -> Self {
        self.pattern = Some(regex.to_string());
        self
    }
    /// The values allowed (for any type).
    pub fn one_of(mut self, values: impl IntoIterator<Item = Value>) -> Self {
        self.one_of = values.into_iter().collect();
        self
    }
    /// What it is, shown to operators.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }
    /// Its name (the key in the payload).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A job's declaration: name, description, parameters and (for a batch job,
/// see [`crate::Connector::batch`]) steps.
#[derive(Default)]
pub struct JobDef {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) params: Vec<Param>,
    pub(crate) steps: Vec<Step>,
}

impl JobDef {
    /// A job named `name` (e.g. `export-products`) doing what `description` says.
    pub fn new(name: &str, description: &str) -> Self {
        JobDef {
            name: name.to_string(),
            description: description.to_string(),
            ..Self::default()
        }
    }
    /// Add a parameter: the payload becomes an object of the declared ones.
    pub fn param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }
    /// Add a step, run after the ones added before.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A `duration` parameter's value in milliseconds: `90s`, `15m`, `2h`, `2d`,
/// `1w`, `500ms`, or a number of milliseconds; `None` for null (not given).
pub fn duration_ms(value: &Value) -> Result<Option<u64>> {
    let bad = || {
        Error::fatal(format!(
            "expected a duration such as `15m`, `2d` or a number of milliseconds, got {value}"
        ))
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(bad),
        Value::String(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            let (amount, unit) = text.split_at(split);
            let amount: u64 = amount.parse().map_err(|_| bad())?;
            let unit_ms: u64 = match unit.trim() {
                "" | "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                _ => return Err(bad()),
            };
            amount.checked_mul(unit_ms).map(Some).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_the_host_validates_them() {
        assert_eq!(duration_ms(&json!("2d")).unwrap(), Some(172_800_000));
        assert_eq!(duration_ms(&json!("15m")).unwrap(), Some(900_000));
        assert_eq!(duration_ms(&json!("1w")).unwrap(), Some(604_800_000));
        assert_eq!(duration_ms(&json!(1500)).unwrap(), Some(1500));
        assert_eq!(duration_ms(&Value::Null).unwrap(), None);
        let err = duration_ms(&json!("soon")).unwrap_err();
        assert!(err.message.contains("`15m`"), "{}", err.message);
        assert!(duration_ms(&json!(-5)).is_err());
    }
}
