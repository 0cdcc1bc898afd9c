//! What every capability answers the guest with: `result<_, error>` for what
//! the guest did wrong or the outside world refused (host errors map to it
//! once, here), traps only for host bugs (a missing resource).

use crate::bindings::types;
use crate::error::Error;

/// A host error as the guest sees it: what it should do about it.
impl From<Error> for types::Error {
    fn from(err: Error) -> Self {
        use types::ErrorKind;
        let kind = match &err {
            Error::NotFound { .. } | Error::NotFoundInChain { .. } => ErrorKind::NotFound,
            // The database may come back: the job is worth retrying. What it
            // refused because of the request (a guest's bad query) it refuses
            // on every try.
            e if e.is_transient() => ErrorKind::Retryable,
            _ => ErrorKind::Final,
        };
        types::Error {
            kind,
            message: err.to_string(),
            retry_after_ms: None,
        }
    }
}

/// What a host function returns for `result<T, error>`: traps outside, guest
/// errors inside.
pub(crate) type WitResult<T> = wasmtime::Result<Result<T, types::Error>>;

/// A `final` WIT error.
pub(crate) fn final_error(message: impl Into<String>) -> types::Error {
    types::Error {
        kind: types::ErrorKind::Final,
        message: message.into(),
        retry_after_ms: None,
    }
}

/// A `denied` WIT error: the guest asked for what it is not granted.
pub(crate) fn denied(message: impl Into<String>) -> types::Error {
    types::Error {
        kind: types::ErrorKind::Denied,
        message: message.into(),
        retry_after_ms: None,
    }
}

/// Parse guest JSON, or a final error naming what it was for.
pub(crate) fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, types::Error> {
    serde_json::from_str(text).map_err(|e| final_error(format!("{what}: invalid JSON: {e}")))
}

/// Refuse a model name that is not a name (see [`crate::manifest::valid_name`]).
pub(crate) fn check_model(model: &str) -> Result<(), types::Error> {
    if crate::manifest::valid_name(model) {
        Ok(())
    } else {
        Err(final_error(format!(
            "model {model:?} is not a model name (letters, digits, `.`, `-` and `_`, 64 at most)"
        )))
    }
}

/// A local record id as stored (ids above i64::MAX cannot exist).
pub(crate) fn record_id(id: u64) -> Result<i64, types::Error> {
    i64::try_from(id).map_err(|_| final_error(format!("record id {id} is out of range")))
}
