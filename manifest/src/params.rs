//! `[params.NAME]`: the params that backend instances of a module's backends
//! take, which templates of the manifest (`{{ params.NAME }}`) may name.

use serde::{Deserialize, Serialize};

/// `[params.NAME]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    /// A backend instance must set it.
    #[serde(default)]
    pub required: bool,
    /// Value when an instance does not set it.
    #[serde(default)]
    pub default: Option<String>,
    /// What it is.
    #[serde(default)]
    pub description: String,
}
