//! A writer's local writes as the store commits them, and the subscribers
//! of the record events they fire (looked up before the chunk's transaction,
//! as the session API does before its writes).

use crate::events::{RecordEvent, Subscribers};
use crate::invoke::CallScope;
use crate::invoke::steps::GuestWrite;
use crate::store::{EventJob, LocalWrite, RecordChange};
use serde_json::Value;
use std::collections::HashMap;

fn json(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))
}

fn id(n: u64, what: &str) -> Result<i64, String> {
    i64::try_from(n).map_err(|_| format!("{what} {n} is not a record id"))
}

/// The writer's writes in the store's terms; what is wrong with the first
/// bad one (values that are not JSON, an id out of range).
pub(super) fn local_writes(writes: Vec<GuestWrite>) -> Result<Vec<LocalWrite>, String> {
    writes
        .into_iter()
        .map(|w| {
            Ok(match w {
                GuestWrite::CreateLinked(c) => LocalWrite::CreateLinked {
                    values: json(&c.values, &format!("create-linked {}: values", c.model))?,
                    model: c.model,
                    external_id: c.external_id,
                    remote_version: c.remote_version,
                },
                GuestWrite::Write(w) => LocalWrite::Write {
                    values: json(&w.values, &format!("write {} {}: values", w.model, w.id))?,
                    id: id(w.id, "write: record")?,
                    model: w.model,
                    synced_from: w.synced_from,
                },
                GuestWrite::BindSynced(b) => LocalWrite::BindSynced {
                    data: b
                        .data
                        .as_deref()
                        .map(|d| json(d, &format!("bind-synced {}: data", b.model)))
                        .transpose()?,
                    local_id: id(b.local_id, "bind-synced: record")?,
                    synced_revision: id(b.synced_revision, "bind-synced: revision")?,
                    model: b.model,
                    external_id: b.external_id,
                    remote_version: b.remote_version,
                },
                GuestWrite::Checkpoint((model, record, message)) => LocalWrite::Checkpoint {
                    id: id(record, "checkpoint: record")?,
                    model,
                    message,
                },
            })
        })
        .collect()
}

/// Who hears the record events of a chunk's writes, by (event, model).
pub(super) struct Subscribed {
    by: HashMap<(&'static str, String), Subscribers>,
    user: String,
}

impl Subscribed {
    /// Look up the subscribers of the events `writes` fire.
    pub(super) async fn of(scope: &CallScope, writes: &[LocalWrite]) -> crate::Result<Self> {
        let mut by = HashMap::new();
        for w in writes {
            let key = match w {
                LocalWrite::CreateLinked { model, .. } => ("record.created", model),
                LocalWrite::Write { model, .. } => ("record.updated", model),
                _ => continue,
            };
            if by.contains_key(&(key.0, key.1.clone())) {
                continue;
            }
            let subscribers =
                Subscribers::of(&scope.store, &scope.registry, &scope.instance, key.0, key.1)
                    .await?;
            by.insert((key.0, key.1.clone()), subscribers);
        }
        Ok(Subscribed {
            by,
            user: scope.user.clone(),
        })
    }

    /// The jobs a change gives its subscribers.
    pub(super) fn jobs(&self, change: RecordChange<'_>) -> Vec<EventJob> {
        let (event, row) = match change {
            RecordChange::Created(row) => {
                let fields = row.values.keys().cloned().collect();
                let values = Value::Object(row.values.clone());
                (
                    RecordEvent::created(&row.model, row.id, fields, values),
                    row,
                )
            }
            RecordChange::Updated(row, changed) => {
                let values = Value::Object(row.values.clone());
                (
                    RecordEvent::updated(&row.model, row.id, changed.to_vec(), values),
                    row,
                )
            }
        };
        let name = match change {
            RecordChange::Created(_) => "record.created",
            RecordChange::Updated(..) => "record.updated",
        };
        self.by
            .get(&(name, row.model.clone()))
            .map(|s| s.jobs(&event, &self.user))
            .unwrap_or_default()
    }
}
