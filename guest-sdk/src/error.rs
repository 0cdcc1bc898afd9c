//! Typed errors: what the queue should do with a failure.

use crate::bindings::ferry::connector0_1_3::types::{Error as WitError, ErrorKind as WitErrorKind};
use std::fmt;

/// What kind of failure an [`Error`] is; decides whether the job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// May succeed later (remote down, timeout, rate limit): retried with backoff.
    Retryable,
    /// Will not succeed by trying again (bad data, refused, a bug): fails at once.
    Final,
    /// What was asked for does not exist (record, link, unit, job).
    NotFound,
    /// The manifest does not grant this.
    Denied,
}

/// An error of a connector, or returned by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What to do about it.
    pub kind: ErrorKind,
    /// A message a person can act on.
    pub message: String,
    /// For retryable errors: how long the remote asked to wait, in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            retry_after_ms: None,
        }
    }
    /// A failure that may go away if the job is tried again later.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Retryable, message)
    }
    /// A failure that trying again will not fix.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Final, message)
    }
    /// Something asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// Something the manifest does not grant.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }
    /// Attach the delay the remote asked for (HTTP `Retry-After`).
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
    /// Prefix the message with what was being done, keeping the kind.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
    /// Whether the queue will retry the job.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Retryable => "retryable",
            ErrorKind::Final => "final",
            ErrorKind::NotFound => "not found",
            ErrorKind::Denied => "denied",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::fatal(format!("invalid JSON: {err}"))
    }
}

impl From<WitError> for Error {
    fn from(err: WitError) -> Self {
        let kind = match err.kind {
            WitErrorKind::Retryable => ErrorKind::Retryable,
            WitErrorKind::Final => ErrorKind::Final,
            WitErrorKind::NotFound => ErrorKind::NotFound,
            WitErrorKind::Denied => ErrorKind::Denied,
        };
        Error {
            kind,
            message: err.message,
            retry_after_ms: err.retry_after_ms,
        }
    }
}

impl From<Error> for WitError {
    fn from(err: Error) -> Self {
        let kind = match err.kind {
            ErrorKind::Retryable => WitErrorKind::Retryable,
            ErrorKind::Final => WitErrorKind::Final,
            ErrorKind::NotFound => WitErrorKind::NotFound,
            ErrorKind::Denied => WitErrorKind::Denied,
        };
        WitError {
            kind,
            message: err.message,
            retry_after_ms: err.retry_after_ms,
        }
    }
}
