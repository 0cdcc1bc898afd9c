//! [`publish`]: messages to topics, sent after the job commits.
//!
//! A module publishes only to the topics its manifest grants
//! (`[capabilities] publish = ["order.*"]`: `*` one segment, `>` the rest).
//! In a job, a message is written to the host's outbox in the transaction
//! that marks the job done: a try that fails publishes nothing. The host's
//! relay then sends it to the broker the operator configured (`ferry topic
//! set`), in order per key, at least once: receivers drop duplicates by the
//! `Ferry-Outbox-Id` header.

use crate::Result;
use crate::bindings::ferry::connector0_1_3::messaging as wit_messaging;

/// What a message carries: JSON (serialised) or raw bytes.
pub enum Payload<'a> {
    /// A JSON value, sent as its text.
    Json(&'a serde_json::Value),
    /// Bytes as they are.
    Bytes(&'a [u8]),
}

impl<'a> From<&'a serde_json::Value> for Payload<'a> {
    fn from(value: &'a serde_json::Value) -> Self {
        Payload::Json(value)
    }
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Payload::Bytes(bytes)
    }
}

impl<'a> From<&'a Vec<u8>> for Payload<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Payload::Bytes(bytes)
    }
}

/// Publish `payload` to `topic` (e.g. `order.imported`), ordered by `key`
/// (none: by topic), with `headers`.
pub fn publish<'a>(
    topic: &str,
    key: Option<&str>,
    payload: impl Into<Payload<'a>>,
    headers: &[(&str, &str)],
) -> Result<()> {
    let bytes = match payload.into() {
        Payload::Json(value) => serde_json::to_vec(value)?,
        Payload::Bytes(bytes) => bytes.to_vec(),
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Ok(wit_messaging::publish(topic, key, &bytes, &headers)?)
}
