//! Bounds on what a guest may produce, and the operator's file that changes
//! them (and the engine's memory and time budgets): `DATA_DIR/ferry.toml`.
//!
//! ```toml
//! [limits]
//! memory = "64 MiB"            # linear memory of one run (job + its unit calls)
//! time_budget = "60s"          # one run, host calls included
//! instances = 256              # instance pool: 3/4 for runs at once, 1/4 for their unit calls
//! max_result_bytes = "1 MiB"   # a job's result
//! max_error_bytes = "8 KiB"    # a failure's text (longer ones are cut, saying so)
//! max_jobs_per_run = 20000     # jobs a run may enqueue
//! max_events_per_run = 10000   # custom events a run may emit
//! max_record_writes_per_run = 50000
//! max_links_per_run = 50000
//! max_payload_bytes = "1 MiB"  # a job payload, an event payload, a record's values
//! max_key_bytes = 512          # identity and merge keys, external ids, lock keys
//! max_snooze = "1h"            # how long a remote's Retry-After may hold an instance
//! max_manifest_bytes = "256 KiB"
//!
//! [limits.queries]             # a guest's search of local records
//! max_filters = 16             # see `GuestQueryLimits` for every key
//! max_like_bytes = 128
//! ```
//!
//! Going over a limit fails the guest's call (or its job) with a `final`
//! error that names the limit, so that an operator knows what to raise.

use crate::error::{Error, Result};
pub use bytesize::ByteSize;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name of the operator's file in the data directory.
pub const CONFIG_FILE: &str = "ferry.toml";

/// Limits on what guests produce (see the module docs for the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of a job's result.
    pub max_result_bytes: ByteSize,
    /// Bytes of a failure's text kept (the rest is cut, saying so).
    pub max_error_bytes: ByteSize,
    /// Jobs one run may enqueue.
    pub max_jobs_per_run: u64,
    /// Custom events one run may emit.
    pub max_events_per_run: u64,
    /// Local record creations, writes and deletions one run may make.
    pub max_record_writes_per_run: u64,
    /// Links one run may bind or unbind.
    pub max_links_per_run: u64,
    /// Bytes of a job payload, an event payload or a record's values.
    pub max_payload_bytes: ByteSize,
    /// Bytes of an identity or merge key, an external id or a lock key.
    pub max_key_bytes: usize,
    /// Longest a remote's `Retry-After` may hold every job of an instance.
    #[serde(with = "humantime_serde")]
    pub max_snooze: Duration,
    /// Bytes of a `connector.toml`.
    pub max_manifest_bytes: ByteSize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_result_bytes: ByteSize::mib(1),
            max_error_bytes: ByteSize::kib(8),
            max_jobs_per_run: 20_000,
            max_events_per_run: 10_000,
            max_record_writes_per_run: 50_000,
            max_links_per_run: 50_000,
            max_payload_bytes: ByteSize::mib(1),
            max_key_bytes: 512,
            max_snooze: Duration::from_secs(3600),
            max_manifest_bytes: ByteSize::kib(256),
        }
    }
}

/// `ferry.toml`: what an operator sets for one installation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OperatorConfig {
    /// `[limits]`.
    pub limits: LimitsSection,
}

/// `[limits]` of `ferry.toml`: the guest limits, and the engine's budgets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSection {
    /// Linear memory of one run.
    pub memory: Option<ByteSize>,
    /// Time of one run, host calls included.
    #[serde(with = "humantime_serde")]
    pub time_budget: Option<Duration>,
    /// Instances the engine's pool holds at once (runs and their unit
    /// calls); each reserves address space for `memory`, not resident memory.
    pub instances: Option<u32>,
    /// `[limits.queries]`: what one guest query of local records may cost.
    pub queries: Option<crate::store::GuestQueryLimits>,
    /// The guest limits.
    #[serde(flatten)]
    pub guest: Limits,
}

impl OperatorConfig {
    /// Read `DATA_DIR/ferry.toml`; defaults when it does not exist.
    pub fn load(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|message| Error::Config { path, message }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Parse the text of a `ferry.toml`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Where it is read from for `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(CONFIG_FILE)
    }
}

/// A limit was passed: the message names it and where it is set.
pub(crate) fn over(
    what: impl std::fmt::Display,
    limit: &str,
    value: impl std::fmt::Display,
) -> String {
    format!(
        "{what} is over the limit `{limit}` ({value}; an operator raises it in [limits] of {CONFIG_FILE})"
    )
}

/// `text` cut to at most `max` bytes (on a character boundary), saying how
/// much was cut and which limit did it.
pub(crate) fn truncate(text: &str, max: usize, limit: &str) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} … ({} more bytes cut: limit `{limit}`)",
        &text[..cut],
        text.len() - cut
    )
}

/// Whether `text` holds a control character (names and keys must not: they
/// are shown to operators and used in SQL patterns).
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_limits_and_budgets_and_rejects_unknown_keys() {
        let c = OperatorConfig::parse(
            "[limits]\nmemory = \"128 MiB\"\ntime_budget = \"2m\"\nmax_result_bytes = \"4 MiB\"\nmax_jobs_per_run = 5\n",
        )
        .unwrap();
        assert_eq!(c.limits.memory, Some(ByteSize::mib(128)));
        assert_eq!(c.limits.time_budget, Some(Duration::from_secs(120)));
        assert_eq!(c.limits.guest.max_result_bytes, ByteSize::mib(4));
        assert_eq!(c.limits.guest.max_jobs_per_run, 5);
        assert_eq!(c.limits.guest.max_events_per_run, 10_000, "default kept");
        let e = OperatorConfig::parse("[limits]\nmax_jobs = 5\n").unwrap_err();
        assert!(e.contains("max_jobs"), "{e}");
    }

    #[test]
    fn truncation_says_what_was_cut() {
        assert_eq!(truncate("short", 10, "x"), "short");
        let t = truncate("é".repeat(10).as_str(), 5, "max_error_bytes");
        assert!(t.starts_with("éé …"), "{t}");
        assert!(
            t.contains("16 more bytes cut: limit `max_error_bytes`"),
            "{t}"
        );
    }
}
