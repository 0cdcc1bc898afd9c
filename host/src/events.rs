//! Events: `record.created` / `record.updated` / `record.deleted` fired by
//! writes (unless the `no-export` flag is set), and custom events emitted by
//! connectors. Subscriptions (from manifests, or added at runtime) turn an event
//! into jobs: the data flows trigger → queue, never straight into a guest.

use crate::backend::{BackendKey, Registry};
use crate::error::Result;
use crate::invoke::HANDLE_EVENT_JOB;
use crate::store::{BackendInstance, NewJob, Store};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The context flag that keeps writes from firing record events.
pub const NO_EXPORT: &str = "no-export";

/// Something that happened to a record (or a custom event).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEvent {
    /// Event name.
    pub name: String,
    /// Model.
    pub model: String,
    /// Record, if the event is about one.
    pub record_id: Option<i64>,
    /// Fields that changed (all fields on create).
    pub changed_fields: Vec<String>,
    /// Record values, or the custom payload.
    pub payload: Value,
    /// Record events concern every backend instance; custom events only the
    /// instance that emitted them.
    pub is_record_event: bool,
}

impl RecordEvent {
    fn record(
        name: &str,
        model: &str,
        id: i64,
        changed_fields: Vec<String>,
        values: Value,
    ) -> Self {
        RecordEvent {
            name: name.into(),
            model: model.into(),
            record_id: Some(id),
            changed_fields,
            payload: values,
            is_record_event: true,
        }
    }
    /// `record.created`.
    pub fn created(model: &str, id: i64, fields: Vec<String>, values: Value) -> Self {
        Self::record("record.created", model, id, fields, values)
    }
    /// `record.updated` with the fields that changed.
    pub fn updated(model: &str, id: i64, changed: Vec<String>, values: Value) -> Self {
        Self::record("record.updated", model, id, changed, values)
    }
    /// `record.deleted` with the last values.
    pub fn deleted(model: &str, id: i64, values: Value) -> Self {
        Self::record("record.deleted", model, id, Vec::new(), values)
    }
    /// A custom event.
    pub fn custom(name: &str, model: &str, record_id: Option<i64>, payload: Value) -> Self {
        RecordEvent {
            name: name.into(),
            model: model.into(),
            record_id,
            changed_fields: Vec::new(),
            payload,
            is_record_event: false,
        }
    }

    /// The event as a job payload.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name, "model": self.model, "record_id": self.record_id,
            "changed_fields": self.changed_fields, "payload": self.payload,
        })
    }

    /// Read back [`RecordEvent::to_json`].
    pub fn from_json(v: &Value) -> Self {
        let name = v["name"].as_str().unwrap_or_default();
        RecordEvent {
            name: name.into(),
            model: v["model"].as_str().unwrap_or_default().into(),
            record_id: v["record_id"].as_i64(),
            changed_fields: v["changed_fields"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            payload: v["payload"].clone(),
            is_record_event: name.starts_with("record."),
        }
    }
}

/// Enqueue the jobs that subscriptions attach to `event`: for every backend
/// instance concerned, the subscriptions of the modules of its backend chain
/// whose event and models match. Returns the ids of the jobs enqueued.
pub async fn dispatch(
    store: &Store,
    registry: &Registry,
    origin: &BackendInstance,
    user: &str,
    event: &RecordEvent,
) -> Result<Vec<i64>> {
    let subscriptions = store.subscriptions(Some(&event.name)).await?;
    let matching: Vec<_> = subscriptions
        .into_iter()
        .filter(|s| s.models.is_empty() || s.models.iter().any(|m| m == &event.model || m == "*"))
        .collect();
    if matching.is_empty() {
        return Ok(Vec::new());
    }
    let instances = if event.is_record_event {
        store.instances().await?
    } else {
        vec![origin.clone()]
    };
    let mut enqueued = Vec::new();
    for instance in instances {
        let Ok(key) = BackendKey::parse(&instance.backend) else {
            continue;
        };
        let chain_modules: Vec<String> = registry
            .chain(&key)
            .iter()
            .filter_map(|k| registry.module_at(k))
            .map(|m| m.name().to_string())
            .collect();
        let mut seen = BTreeSet::new();
        for sub in matching
            .iter()
            .filter(|s| chain_modules.contains(&s.module))
        {
            let (job_name, payload) = match &sub.job {
                Some(job) => (job.clone(), event.to_json()),
                None => (
                    HANDLE_EVENT_JOB.to_string(),
                    json!({ "module": sub.module, "event": event.to_json() }),
                ),
            };
            // One job per instance and job, even if a parent and a child both subscribe.
            if !seen.insert(job_name.clone()) {
                continue;
            }
            let mut job = NewJob::new(&instance.name, &job_name, &payload);
            job.priority = sub.priority;
            job.user = user.to_string();
            job.description = match event.record_id {
                Some(id) => format!("{} on {} {id}", event.name, event.model),
                None => format!("{} on {}", event.name, event.model),
            };
            enqueued.push(store.enqueue(&job).await?);
        }
    }
    Ok(enqueued)
}
