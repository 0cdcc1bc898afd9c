//! Events: `record.created` / `record.updated` / `record.deleted` fired by
//! writes (unless the `no-export` flag is set), and custom events emitted by
//! connectors. Only the host fires `record.*` events, and they reach every
//! backend instance; a custom event reaches the subscribers of the emitting
//! instance only, unless a subscription says `from = "any"`, and carries who
//! emitted it. Subscriptions (from manifests, or added at runtime) turn an event
//! into jobs, under the conditions of [`crate::triggers::record`] (watched
//! fields, filter, timed condition): the data flows trigger → queue, never
//! straight into a guest.

mod event;

pub use event::{Emitter, HANDLE_EVENT_JOB, NO_EXPORT, RecordEvent};

use crate::backend::{BackendKey, Registry};
use crate::error::Result;
use crate::manifest::{EventSource, TIMED_EVENT, is_record_event};
use crate::store::{BackendInstance, EventJob, Pin, RecordRow, Store, SubscriptionRow};
use crate::triggers::record::Target;
use serde_json::Value;
use std::collections::BTreeSet;

/// Who is subscribed to one kind of event: for every backend instance
/// concerned, the subscriptions of the modules of its backend chain whose event
/// and models match (with timed ones for record events). Looked up before a
/// write, so that the jobs can be stored in the write's own transaction.
#[derive(Debug, Default)]
pub struct Subscribers {
    targets: Vec<Target>,
}

impl Subscribers {
    /// Nobody (a write with `no-export`).
    pub fn none() -> Self {
        Self::default()
    }

    /// The subscribers of `name` on `model`. Record events concern every
    /// backend instance; custom events only `origin`, but for subscriptions
    /// that hear them `from = "any"` instance.
    pub async fn of(
        store: &Store,
        registry: &Registry,
        origin: &BackendInstance,
        name: &str,
        model: &str,
    ) -> Result<Self> {
        let is_record = is_record_event(name);
        let mut subscriptions = store.subscriptions(Some(name)).await?;
        if is_record {
            subscriptions.extend(store.subscriptions(Some(TIMED_EVENT)).await?);
        }
        let matching: Vec<_> = subscriptions
            .into_iter()
            .filter(|s| s.models.is_empty() || s.models.iter().any(|m| m == model || m == "*"))
            .collect();
        if matching.is_empty() {
            return Ok(Self::none());
        }
        let from_any = |s: &SubscriptionRow| s.conditions.from == EventSource::Any;
        let instances = if is_record || matching.iter().any(from_any) {
            store.instances().await?
        } else {
            vec![origin.clone()]
        };
        let mut targets = Vec::new();
        for instance in instances {
            let Ok(key) = BackendKey::parse(&instance.backend) else {
                continue;
            };
            let mut seen = BTreeSet::new();
            // Child modules first: a child's subscription of a job replaces its
            // parent's (one job per instance and job, conditions the child's).
            for at in registry.chain(&key) {
                let Some(module) = registry.module_at(&at) else {
                    continue;
                };
                let hears = |s: &&SubscriptionRow| {
                    s.module == module.name()
                        && (is_record || instance.name == origin.name || from_any(s))
                };
                for sub in matching.iter().filter(hears) {
                    let job_name = sub
                        .job
                        .clone()
                        .unwrap_or_else(|| HANDLE_EVENT_JOB.to_string());
                    // The job runs on the module version that answers it now,
                    // like a job enqueued by hand (its pin policy: keep).
                    let pin = match &sub.job {
                        None => Some(module.clone()),
                        Some(job) => registry.resolve_job(&key, job).ok().map(|r| r.module),
                    }
                    .map(|m| Pin {
                        module: m.name().to_string(),
                        hash: m.content_hash.clone(),
                    });
                    if seen.insert((job_name, sub.event == TIMED_EVENT)) {
                        targets.push(Target {
                            instance: instance.name.clone(),
                            module: sub.module.clone(),
                            job: sub.job.clone(),
                            priority: sub.priority,
                            conditions: sub.conditions.clone(),
                            pin,
                        });
                    }
                }
            }
        }
        Ok(Subscribers { targets })
    }

    /// What `event` asks of the queue for its subscribers (their conditions
    /// applied).
    pub fn jobs(&self, event: &RecordEvent, user: &str) -> Vec<EventJob> {
        self.targets
            .iter()
            .filter_map(|t| t.event_job(event, user))
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
    store.store_event_jobs(&subscribers.jobs(event, user)).await
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
        self.create_bound(model, values, None).await
    }

    /// Create a record bound to `external_id` of backend instance `instance`,
    /// both in one transaction; `record.created` fires.
    pub async fn create_linked(
        &self,
        model: &str,
        values: Value,
        instance: &str,
        external_id: &str,
    ) -> Result<RecordRow> {
        self.create_bound(model, values, Some((instance, external_id)))
            .await
    }

    async fn create_bound(
        &self,
        model: &str,
        values: Value,
        link: Option<(&str, &str)>,
    ) -> Result<RecordRow> {
        let subscribers = self.subscribers("record.created", model).await?;
        let jobs = |row: &RecordRow| {
            let fields = row.values.keys().cloned().collect();
            subscribers.jobs(
                &RecordEvent::created(model, row.id, fields, Value::Object(row.values.clone())),
                self.user,
            )
        };
        match link {
            None => self.store.create_record_with(model, values, jobs).await,
            Some(link) => {
                self.store
                    .create_record_linked(model, values, link, jobs)
                    .await
            }
        }
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
