//! Versions of external records: how the importer and exporter tell whether
//! the remote changed since the last sync.
//!
//! A version is whatever text changes when the record changes: the record's
//! `updated_at` (a number or a string), else its `etag`, else its `version`
//! ([`remote_version`]); a unit may name another field
//! ([`crate::generic::Importer::version_field`]). A record that has none of
//! them gets a hash of its canonical JSON (keys sorted at every level), so
//! that a change of any field is still seen. A remote whose records carry a
//! field that changes on every read (a request id, a "now") must name a
//! version field, or every import will look like a remote change.

use serde_json::Value;
use std::cmp::Ordering;

/// The fields looked at, in order, when a unit names none.
const VERSION_FIELDS: [&str; 3] = ["updated_at", "etag", "version"];

/// A version as text: strings as they are (unless empty), numbers in their
/// JSON form; anything else is no version.
pub fn version_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The version a record carries: its `updated_at` (number or string), else
/// its `etag`, else its `version`; none when it has none of them.
pub fn remote_version(record: &Value) -> Option<String> {
    VERSION_FIELDS
        .iter()
        .find_map(|field| record.get(*field).and_then(version_text))
}

/// The version of a record for the generic units: the named field when the
/// unit names one, else [`remote_version`]; when the record has neither, a
/// hash of its canonical JSON (`hash:` and 16 hex digits).
pub fn version_of(record: &Value, field: Option<&str>) -> String {
    named_version(record, field)
        .unwrap_or_else(|| format!("hash:{:016x}", fnv1a(canonical(record).as_bytes())))
}

/// The version the record itself carries (the named field, else
/// [`remote_version`]), without the hash fallback: what may go to the remote
/// as `If-Match`, which only knows its own versions.
pub fn named_version(record: &Value, field: Option<&str>) -> Option<String> {
    match field {
        Some(field) => record.get(field).and_then(version_text),
        None => remote_version(record),
    }
}

/// The newer of two cursor values: numbers by value, text by its order
/// (RFC 3339 times in one format sort as text).
pub fn newer(a: Value, b: Value) -> Value {
    let order = match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.as_str().cmp(&b.as_str()),
    };
    if order == Ordering::Less { b } else { a }
}

/// The record's `updated_at` in milliseconds, when it is a number (or a
/// string of digits): what `newest-wins` compares with the local record's
/// last change. `None` when the remote gives no such time.
pub fn updated_at_ms(record: &Value) -> Option<i64> {
    match record.get("updated_at")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// JSON text with the keys of every object sorted, whatever order the map
/// keeps them in, so that equal records always hash the same.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::from(k.as_str()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike std's
/// `DefaultHasher`), which a version stored in the database needs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_version_is_updated_at_then_etag_then_version() {
        let all = json!({ "updated_at": 1700, "etag": "\"e1\"", "version": 3 });
        assert_eq!(remote_version(&all).as_deref(), Some("1700"));
        let text = json!({ "updated_at": "2026-12-03T12:00:00Z" });
        assert_eq!(
            remote_version(&text).as_deref(),
            Some("2026-12-03T12:00:00Z")
        );
        let etag = json!({ "updated_at": null, "etag": "W/\"x\"", "version": 3 });
        assert_eq!(remote_version(&etag).as_deref(), Some("W/\"x\""));
        assert_eq!(
            remote_version(&json!({ "version": 3 })).as_deref(),
            Some("3")
        );
        assert_eq!(remote_version(&json!({ "name": "x" })), None);
    }

    #[test]
    fn a_named_field_wins_over_the_usual_ones() {
        let record = json!({ "updated_at": 1, "rev": "r9" });
        assert_eq!(version_of(&record, Some("rev")), "r9");
        assert_eq!(version_of(&record, None), "1");
    }

    #[test]
    fn a_record_without_version_gets_a_stable_hash_of_its_content() {
        let a = json!({ "name": "Mug", "tags": ["x", { "b": 1, "a": 2 }] });
        let same: Value =
            serde_json::from_str(r#"{"tags":["x",{"a":2,"b":1}],"name":"Mug"}"#).unwrap();
        let changed = json!({ "name": "Mug!", "tags": ["x", { "b": 1, "a": 2 }] });
        let v = version_of(&a, None);
        assert!(v.starts_with("hash:") && v.len() == 21, "{v}");
        assert_eq!(v, version_of(&same, None), "key order does not matter");
        assert_ne!(v, version_of(&changed, None), "a changed field shows");
        assert_eq!(
            v,
            version_of(&a, Some("missing")),
            "a named field that is absent falls back to the hash"
        );
        assert_eq!(
            named_version(&a, None),
            None,
            "a hash is never sent as If-Match: the remote does not know it"
        );
        // Pinned: the version is stored, so it must not change between builds.
        assert_eq!(version_of(&json!({}), None), "hash:08f44b07b5901a25");
    }

    #[test]
    fn newest_wins_reads_numeric_times_only() {
        assert_eq!(updated_at_ms(&json!({ "updated_at": 1700 })), Some(1700));
        assert_eq!(updated_at_ms(&json!({ "updated_at": "1700" })), Some(1700));
        assert_eq!(
            updated_at_ms(&json!({ "updated_at": "2026-12-03T12:00:00Z" })),
            None
        );
        assert_eq!(updated_at_ms(&json!({})), None);
    }
}
