//! Reading the fields of a unit's or job's JSON payload, with errors that
//! name what is missing.

use crate::mapper::id_text;
use crate::{Error, Result};
use serde_json::Value;

/// A text field, or a final error naming it.
pub(crate) fn str_field<'v>(payload: &'v Value, key: &str) -> Result<&'v str> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::fatal(format!("payload has no text field `{key}`")))
}

/// An external id (text or number, as remotes give them) as text.
pub(crate) fn id_field(payload: &Value, key: &str) -> Result<String> {
    match payload.get(key) {
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(id_text(v)),
        _ => Err(Error::fatal(format!("payload has no id field `{key}`"))),
    }
}

/// A local record id.
pub(crate) fn local_id_field(payload: &Value, key: &str) -> Result<u64> {
    payload
        .get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::fatal(format!("payload has no local id `{key}`")))
}

/// Importers and exporters answer one method, `run`.
pub(crate) fn only_run(unit: &str, method: &str) -> Result<()> {
    match method {
        "run" => Ok(()),
        other => Err(Error::not_found(format!(
            "{unit} has no method `{other}` (it has: run)"
        ))),
    }
}

/// Whether the payload forces one side (`resolution`), skipping the conflict
/// check: a person or a policy already decided. `side` is the only value the
/// unit accepts (`local` for an exporter, `remote` for an importer); anything
/// else is a final error, since a resolution misread would write the wrong side.
pub(crate) fn forced(payload: &Value, unit: &str, side: &str) -> Result<bool> {
    match payload.get("resolution") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(s)) if s == side => Ok(true),
        Some(other) => Err(Error::fatal(format!(
            "{unit} got resolution {other}: it only applies `\"{side}\"` (the {side} version wins)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_resolution_forces_only_its_own_side() {
        assert!(!forced(&json!({}), "exporter", "local").unwrap());
        assert!(!forced(&json!({ "resolution": null }), "exporter", "local").unwrap());
        assert!(forced(&json!({ "resolution": "local" }), "exporter", "local").unwrap());
        let wrong = forced(&json!({ "resolution": "remote" }), "exporter", "local").unwrap_err();
        assert!(wrong.message.contains("only applies"), "{wrong}");
        assert!(!wrong.is_retryable());
    }

    #[test]
    fn ids_come_as_text_or_numbers() {
        assert_eq!(id_field(&json!({ "id": 7 }), "id").unwrap(), "7");
        assert_eq!(id_field(&json!({ "id": "a-7" }), "id").unwrap(), "a-7");
        assert!(id_field(&json!({ "id": null }), "id").is_err());
    }
}
