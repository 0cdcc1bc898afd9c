//! `[build]`: how `ferry build` makes the module's component.
//!
//! ```toml
//! [build]
//! language = "python"     # rust (Cargo.toml), python or javascript
//! entry = "connector.py"  # the module that exports the connector
//! ```
//!
//! Both keys are optional: without `language`, `ferry build` goes by the
//! files in the folder (`Cargo.toml`, then `connector.py`, then
//! `connector.js`); without `entry`, the entry is `connector.py` or
//! `connector.js`. A Rust crate's entry is its `Cargo.toml`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `[build]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuildDecl {
    /// The language the connector is written in; found from the files when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The source file that exports the connector (Python, JavaScript), relative
    /// to the manifest's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

/// A language `ferry build` compiles to a component.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// A Rust crate on the guest SDK, built by cargo for `wasm32-wasip2`.
    Rust,
    /// Python on the Python SDK, built by componentize-py.
    Python,
    /// JavaScript on the JS SDK, built by componentize-js.
    #[serde(alias = "js")]
    Javascript,
}

impl Language {
    /// The entry file used when `[build] entry` is not given.
    pub fn default_entry(self) -> &'static str {
        match self {
            Language::Rust => "Cargo.toml",
            Language::Python => "connector.py",
            Language::Javascript => "connector.js",
        }
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    /// `rust`, `python` (`py`), `javascript` (`js`).
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "rust" | "rs" => Ok(Language::Rust),
            "python" | "py" => Ok(Language::Python),
            "javascript" | "js" => Ok(Language::Javascript),
            _ => Err(format!(
                "unknown language `{text}`: rust, python or javascript (js)"
            )),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Javascript => "javascript",
        })
    }
}

impl BuildDecl {
    /// Check `entry`: a relative path inside the connector's folder.
    pub fn check(&self) -> Result<(), String> {
        if let Some(entry) = &self.entry {
            let path = std::path::Path::new(entry);
            let escapes = path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if entry.trim().is_empty() || escapes {
                return Err(format!(
                    "[build] entry = {entry:?}: give a file inside the connector's folder, e.g. \"connector.py\""
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_outside_the_folder_is_refused() {
        let outside = BuildDecl {
            language: None,
            entry: Some("../other/connector.py".into()),
        };
        assert!(
            outside
                .check()
                .unwrap_err()
                .contains("inside the connector's folder")
        );
        let inside = BuildDecl {
            language: Some(Language::Python),
            entry: Some("src/connector.py".into()),
        };
        assert!(inside.check().is_ok());
    }
}
