//! Backend keys: `name` or `name@version` (`shop`, `shop@1.7`, `shop@2.0`),
//! what a module implements and where a lookup starts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `name` or `name@version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BackendKey(String);

impl BackendKey {
    /// The key of a name and optional version.
    pub fn new(name: &str, version: Option<&str>) -> Self {
        match version {
            Some(v) => BackendKey(format!("{name}@{v}")),
            None => BackendKey(name.to_string()),
        }
    }

    /// Parse `name` or `name@version`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match text.split_once('@') {
            Some((name, version)) if ok(name) && ok(version) => Ok(Self::new(name, Some(version))),
            None if ok(text) => Ok(Self::new(text, None)),
            _ => Err(format!(
                "`{text}` is not a backend key (expected `name` or `name@version`, e.g. `shop@2.0`)"
            )),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
