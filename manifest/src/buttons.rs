//! `[[button]]`: a manual run of a job with data a person gives
//! (`ferry trigger INSTANCE BUTTON --data JSON`, or the admin API).
//!
//! ```toml
//! [[button]]
//! name = "import"
//! job = "import-batch"            # resolved along the instance's backend chain
//! description = "Import every changed record of a model"
//! priority = 5                    # optional, default 10
//! channel = "root.manual"         # optional, default root
//! ```

use crate::names::valid_name;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// `[[button]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ButtonDecl {
    /// Name, as `ferry trigger` takes it.
    pub name: String,
    /// The job it enqueues.
    pub job: String,
    /// What it does (shown to operators).
    #[serde(default)]
    pub description: String,
    /// Priority of the job (lower runs first); default 10.
    #[serde(default)]
    pub priority: Option<u32>,
    /// Channel of the job; default `root`.
    #[serde(default)]
    pub channel: Option<String>,
}

/// Check the `[[button]]` entries.
pub(crate) fn check(buttons: &[ButtonDecl]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, b) in buttons.iter().enumerate() {
        let at = format!("[[button]] #{}", i + 1);
        if !valid_name(&b.name) {
            return Err(format!(
                "{at} name = {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                b.name
            ));
        }
        if !seen.insert(b.name.as_str()) {
            return Err(format!(
                "{at} name = {:?}: another [[button]] has this name",
                b.name
            ));
        }
        let at = format!("{at} ({})", b.name);
        if !valid_name(&b.job) {
            return Err(format!("{at} job = {:?}: not a valid job name", b.job));
        }
        if let Some(channel) = &b.channel
            && !(channel.len() <= 128 && channel.split('.').all(valid_name))
        {
            return Err(format!(
                "{at} channel = {channel:?}: expected dot-separated names, e.g. `root.manual`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
