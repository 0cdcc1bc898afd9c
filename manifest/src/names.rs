//! The names a manifest, a component and an operator give things: what makes
//! a name, checked the same everywhere it is taken.

use crate::error::{Error, Result};

/// Whether `s` is a name (of a module, job, event, model, channel part…):
/// 1 to 64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter
/// or digit. Names are shown to operators and matched exactly: nothing else.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// A secret name: letters, digits, `-`, `_`, `.`; 1 to 64 characters.
pub fn check_secret_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "secret name {name:?}: use 1 to 64 letters, digits, `-`, `_` or `.`"
        )))
    }
}
