//! [`Snapshot`]: what a scenario left behind, and how two of them differ.

use crate::cassette::RecordedRequest;
use crate::error::Result;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The local result of a scenario: records, links, requests, failures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Local records' values, keyed `model/external_id` when linked to the
    /// instance, else `model#local_id`.
    pub records: BTreeMap<String, Value>,
    /// The instance's links (`model/external_id`): remote version and data.
    pub links: BTreeMap<String, Value>,
    /// Jobs that failed: `name: error`.
    #[serde(default)]
    pub failed: Vec<String>,
}

impl Snapshot {
    /// What `instance` and the local records look like in `store` now.
    pub async fn take(store: &Store, instance: &str) -> Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        let links = store
            .search_links(Some(instance), None, None, None, 0)
            .await?;
        let mut linked = BTreeMap::new();
        for link in &links {
            let key = format!("{}/{}", link.model, link.external_id);
            linked.insert((link.model.clone(), link.local_id), key.clone());
            snapshot.links.insert(
                key,
                serde_json::json!({ "remote_version": link.remote_version, "data": link.data }),
            );
        }
        for (model, _) in store.record_models().await? {
            for record in store.search_records(&model, &[], None, 0).await? {
                let key = linked
                    .get(&(model.clone(), record.id))
                    .cloned()
                    .unwrap_or_else(|| format!("{model}#{}", record.id));
                snapshot.records.insert(key, Value::Object(record.values));
            }
        }
        let failed = crate::store::JobFilter {
            state: Some(crate::store::JobState::Failed),
            limit: 100,
            ..Default::default()
        };
        for job in store.list_jobs(&failed).await? {
            let error = job.error.unwrap_or_default();
            snapshot.failed.push(format!("{}: {error}", job.name));
        }
        snapshot.failed.sort();
        Ok(snapshot)
    }
}

/// Differences between what was (`before`) and what is (`after`), one line
/// per field that differs, with how many entries and an example.
pub fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(entries("record", &before.records, &after.records));
    out.extend(entries("link", &before.links, &after.links));
    for failed in after.failed.iter().filter(|f| !before.failed.contains(f)) {
        out.push(format!("job failed: {failed}"));
    }
    for failed in before.failed.iter().filter(|f| !after.failed.contains(f)) {
        out.push(format!("job no longer fails: {failed}"));
    }
    out
}

/// Differences between the requests of two runs: requests only one made,
/// and body fields that differ between the same request of both.
pub fn request_differences(before: &[RecordedRequest], after: &[RecordedRequest]) -> Vec<String> {
    let mut out = Vec::new();
    let mut unpaired: Vec<&RecordedRequest> = before.iter().collect();
    let mut fields = Grouped::default();
    for request in after {
        match unpaired.iter().position(|b| b.same_target(request)) {
            Some(i) => {
                let old = unpaired.remove(i);
                let label = format!("{} body", request.method);
                let mut changed = Vec::new();
                diff_values("", &old.body_value(), &request.body_value(), &mut changed);
                for (path, was, is) in changed {
                    fields.add(format!("{label}{path}"), request.line(), was, is);
                }
            }
            None => out.push(format!("new request: {}", request.line())),
        }
    }
    for request in unpaired {
        out.push(format!("request no longer made: {}", request.line()));
    }
    out.extend(fields.lines("request"));
    out
}

/// Per-field differences of keyed entries (records or links).
fn entries(
    kind: &str,
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut fields = Grouped::default();
    for (key, value) in after {
        let model = key.split(['/', '#']).next().unwrap_or_default();
        match before.get(key) {
            None => out.push(format!("new {kind}: {key}")),
            Some(old) => {
                let mut changed = Vec::new();
                diff_values("", old, value, &mut changed);
                for (path, was, is) in changed {
                    fields.add(format!("{model}{path}"), key.clone(), was, is);
                }
            }
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        out.push(format!("{kind} gone: {key}"));
    }
    out.extend(fields.lines(kind));
    out
}

/// Changes grouped by field: how many, and the first as an example.
#[derive(Default)]
struct Grouped(BTreeMap<String, (usize, String, Value, Value)>);

impl Grouped {
    fn add(&mut self, field: String, key: String, was: Value, is: Value) {
        self.0
            .entry(field)
            .and_modify(|e| e.0 += 1)
            .or_insert((1, key, was, is));
    }

    fn lines(self, kind: &str) -> Vec<String> {
        self.0
            .into_iter()
            .map(|(field, (count, key, was, is))| {
                let plural = if count == 1 { "" } else { "s" };
                format!("{field}: differs in {count} {kind}{plural}, e.g. {key}: {was} → {is}")
            })
            .collect()
    }
}

/// Leaf paths (`.a.b`, `[2]`) where `a` and `b` differ, with both values
/// (`null` for one that is missing).
fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let (va, vb) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                diff_values(&format!("{path}.{key}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff_values(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push((path.to_string(), a.clone(), b.clone())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_field_with_a_count_and_an_example() {
        let mut before = Snapshot::default();
        let mut after = Snapshot::default();
        for id in 1..=3 {
            before
                .records
                .insert(format!("product/{id}"), json!({ "name": "x", "qty": id }));
            after.records.insert(
                format!("product/{id}"),
                json!({ "name": "x", "qty": id.to_string() }),
            );
        }
        after.records.insert("product#9".into(), json!({}));
        let lines = differences(&before, &after);
        assert_eq!(
            lines,
            [
                "new record: product#9",
                "product.qty: differs in 3 records, e.g. product/1: 1 → \"1\""
            ]
        );
        assert!(differences(&before, &before).is_empty());
    }

    #[test]
    fn request_differences_pair_requests_by_method_and_url() {
        let request = |url: &str, body: &str| RecordedRequest {
            method: "PUT".into(),
            url: url.into(),
            headers: Default::default(),
            body: crate::cassette::Body::of(body.as_bytes()),
        };
        let before = [
            request("http://x/p/1", r#"{"stock":1}"#),
            request("http://x/q", ""),
        ];
        let after = [
            request("http://x/p/1", r#"{"stock":"1"}"#),
            request("http://x/r", ""),
        ];
        assert_eq!(
            request_differences(&before, &after),
            [
                "new request: PUT http://x/r",
                "request no longer made: PUT http://x/q",
                "PUT body.stock: differs in 1 request, e.g. PUT http://x/p/1: 1 → \"1\""
            ]
        );
    }
}
