//! Events: `record.created` / `record.updated` / `record.deleted` fired by
//! writes (unless the `no-export` flag is set), and custom events emitted by
//! connectors. Subscriptions (from manifests, or added at runtime) turn an event
//! into jobs: the data flows trigger → queue, never straight into a guest.

use crate::backend::{BackendKey, Registry};
use crate::error::Result;
use crate::invoke::HANDLE_EVENT_JOB;
use crate::store::{BackendInstance, NewJob, RecordRow, Store};
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
        }
    }
}

/// Who is subscribed to one kind of event: for every backend instance
/// concerned, the subscriptions of the modules of its backend chain whose event
/// and models match. Looked up before a write, so that the jobs can be stored in
/// the write's own transaction.
#[derive(Debug, Default)]
pub struct Subscribers {
    /// (instance, subscribing module, job or none for `handle-event`, priority)
    targets: Vec<(String, String, Option<String>, i64)>,
}

impl Subscribers {
    /// Nobody (a write with `no-export`).
    pub fn none() -> Self {
        Self::default()
    }

    /// The subscribers of `name` on `model`. Record events concern every
    /// backend instance; custom events only `origin`.
    pub async fn of(
        store: &Store,
        registry: &Registry,
        origin: &BackendInstance,
        name: &str,
        model: &str,
    ) -> Result<Self> {
        let subscriptions = store.subscriptions(Some(name)).await?;
        let matching: Vec<_> = subscriptions
            .into_iter()
            .filter(|s| s.models.is_empty() || s.models.iter().any(|m| m == model || m == "*"))
            .collect();
        if matching.is_empty() {
            return Ok(Self::none());
        }
        let instances = if name.starts_with("record.") {
            store.instances().await?
        } else {
            vec![origin.clone()]
        };
        let mut targets = Vec::new();
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
                let job_name = sub
                    .job
                    .clone()
                    .unwrap_or_else(|| HANDLE_EVENT_JOB.to_string());
                // One job per instance and job, even if a parent and a child both subscribe.
                if seen.insert(job_name) {
                    targets.push((
                        instance.name.clone(),
                        sub.module.clone(),
                        sub.job.clone(),
                        sub.priority,
                    ));
                }
            }
        }
        Ok(Subscribers { targets })
    }

    /// The jobs `event` gives its subscribers.
    pub fn jobs(&self, event: &RecordEvent, user: &str) -> Vec<NewJob> {
        self.targets
            .iter()
            .map(|(instance, module, job, priority)| {
                let (name, payload) = match job {
                    Some(job) => (job.clone(), event.to_json()),
                    None => (
                        HANDLE_EVENT_JOB.to_string(),
                        json!({ "module": module, "event": event.to_json() }),
                    ),
                };
                let mut new = NewJob::new(instance, &name, &payload);
                new.priority = *priority;
                new.user = user.to_string();
                new.description = match event.record_id {
                    Some(id) => format!("{} on {} {id}", event.name, event.model),
                    None => format!("{} on {}", event.name, event.model),
                };
                new
            })
            .collect()
    }
}

/// Enqueue the jobs that subscriptions attach to `event` (see [`Subscribers`]).
/// Returns the ids of the jobs enqueued.
pub async fn dispatch(
    store: &Store,
    registry: &Registry,
    origin: &BackendInstance,
    user: &str,
    event: &RecordEvent,
) -> Result<Vec<i64>> {
    let subscribers = Subscribers::of(store, registry, origin, &event.name, &event.model).await?;
    let mut enqueued = Vec::new();
    for job in subscribers.jobs(event, user) {
        enqueued.push(store.enqueue(&job).await?);
    }
    Ok(enqueued)
}

/// Writes local records and, in the same transaction, the jobs their record
/// events give subscribers: the one way records change (session API, CLI, demo).
pub struct RecordWriter<'a> {
    /// The store.
    pub store: &'a Store,
    /// Registry snapshot (which modules subscribe, along which chains).
    pub registry: &'a Registry,
    /// Backend instance the change comes from (an unnamed one for local users:
    /// record events reach every instance anyway).
    pub origin: &'a BackendInstance,
    /// Who makes the change.
    pub user: &'a str,
    /// Whether events fire (false with the `no-export` flag).
    pub fire: bool,
}

impl RecordWriter<'_> {
    async fn subscribers(&self, name: &str, model: &str) -> Result<Subscribers> {
        if !self.fire {
            return Ok(Subscribers::none());
        }
        Subscribers::of(self.store, self.registry, self.origin, name, model).await
    }

    /// Create a record; `record.created` fires.
    pub async fn create(&self, model: &str, values: Value) -> Result<RecordRow> {
        let subscribers = self.subscribers("record.created", model).await?;
        let jobs = |row: &RecordRow| {
            let fields = row.values.keys().cloned().collect();
            subscribers.jobs(
                &RecordEvent::created(model, row.id, fields, Value::Object(row.values.clone())),
                self.user,
            )
        };
        self.store.create_record_with(model, values, jobs).await
    }

    /// Merge values into a record; `record.updated` fires with the fields that
    /// changed (not at all when nothing did). Returns them.
    pub async fn write(&self, model: &str, id: i64, values: Value) -> Result<Vec<String>> {
        let subscribers = self.subscribers("record.updated", model).await?;
        let jobs = |row: &RecordRow, changed: &[String]| {
            let event = RecordEvent::updated(
                model,
                id,
                changed.to_vec(),
                Value::Object(row.values.clone()),
            );
            subscribers.jobs(&event, self.user)
        };
        self.store.write_record_with(model, id, values, jobs).await
    }

    /// Delete a record; `record.deleted` fires with its last values.
    pub async fn unlink(&self, model: &str, id: i64) -> Result<RecordRow> {
        let subscribers = self.subscribers("record.deleted", model).await?;
        let jobs = |row: &RecordRow| {
            subscribers.jobs(
                &RecordEvent::deleted(model, id, Value::Object(row.values.clone())),
                self.user,
            )
        };
        self.store.unlink_record_with(model, id, jobs).await
    }
}
