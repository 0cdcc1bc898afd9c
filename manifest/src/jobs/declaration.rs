//! The declaration of a job's parameters and steps: plain data, as
//! `describe` reports it or `connector.toml` declares it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The type of a job parameter; each type says which JSON values it accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    /// A JSON string (the type of a backend param that names none).
    #[default]
    String,
    /// A JSON number without a fraction.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A string among `one_of`.
    #[serde(alias = "enumeration")]
    Enum,
    /// A JSON array of strings (comma-separated on the command line).
    List,
    /// A date `YYYY-MM-DD`, or an RFC 3339 date-time.
    Date,
    /// A duration (`90s`, `15m`, `2h`, `2d`, `1w`), or milliseconds.
    Duration,
    /// An absolute `http` or `https` URL.
    Url,
}

/// One typed parameter of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobParam {
    /// Its key in the payload (in `connector.toml`, the key of its table).
    #[serde(default)]
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// A job, profile or run must give it (after defaults).
    #[serde(default)]
    pub required: bool,
    /// Its value when none is given.
    #[serde(default)]
    pub default: Option<Value>,
    /// Smallest value (integer, number) or fewest items (list).
    #[serde(default)]
    pub minimum: Option<f64>,
    /// Largest value (integer, number) or most items (list).
    #[serde(default)]
    pub maximum: Option<f64>,
    /// A regular expression a string (each item of a list) must match whole.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The allowed values (required for `enum`).
    #[serde(default)]
    pub one_of: Vec<Value>,
    /// What it is, shown to operators.
    #[serde(default)]
    pub description: String,
}

impl ParamType {
    /// Its name in declarations and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Enum => "enum",
            ParamType::List => "list",
            ParamType::Date => "date",
            ParamType::Duration => "duration",
            ParamType::Url => "url",
        }
    }
}

impl std::fmt::Display for ParamType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// One call (`run-tasklet`).
    Tasklet,
    /// Reader → processor → writer, one chunk of items per call, driven by the host.
    Items,
}

/// One step of a batch job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecl {
    /// Unique within the job.
    pub name: String,
    /// Tasklet or item step.
    pub kind: StepKind,
    /// Items per chunk (item steps).
    #[serde(default = "default_chunk_size")]
    pub chunk_size: u32,
    /// What it does.
    #[serde(default)]
    pub description: String,
}

/// The chunk size of an item step that names none.
pub const DEFAULT_CHUNK_SIZE: u32 = 100;

fn default_chunk_size() -> u32 {
    DEFAULT_CHUNK_SIZE
}
