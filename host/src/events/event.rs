//! What an event is: a record created, updated or deleted, or a custom event a
//! connector emitted, with who emitted it.

use serde_json::{Value, json};

/// Name of the job that delivers an event to a module's `handle-event`
/// (run by [`crate::invoke`]; named here, where such jobs are enqueued).
pub const HANDLE_EVENT_JOB: &str = "ferry.handle-event";

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
    /// Who emitted a custom event (none for the host's record events).
    pub emitted_by: Option<Emitter>,
}

/// The backend instance and module that emitted a custom event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitter {
    /// Backend instance of the run.
    pub instance: String,
    /// Module that called `emit`.
    pub module: String,
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
            emitted_by: None,
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
    /// A custom event emitted by `emitted_by`.
    pub fn custom(
        name: &str,
        model: &str,
        record_id: Option<i64>,
        payload: Value,
        emitted_by: Emitter,
    ) -> Self {
        RecordEvent {
            name: name.into(),
            model: model.into(),
            record_id,
            changed_fields: Vec::new(),
            payload,
            emitted_by: Some(emitted_by),
        }
    }

    /// The event as a job payload.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name, "model": self.model, "record_id": self.record_id,
            "changed_fields": self.changed_fields, "payload": self.payload,
        });
        if let Some(by) = &self.emitted_by {
            v["emitted_by"] = json!({ "instance": by.instance, "module": by.module });
        }
        v
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
            emitted_by: v["emitted_by"].as_object().map(|by| Emitter {
                instance: by["instance"].as_str().unwrap_or_default().into(),
                module: by["module"].as_str().unwrap_or_default().into(),
            }),
        }
    }
}
