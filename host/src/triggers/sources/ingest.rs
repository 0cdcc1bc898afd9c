//! From broker messages to stored jobs: each message is checked against its
//! listener (content type, size, JSON, required fields), mapped to the job's
//! payload, and stored with its message id in one transaction per batch
//! ([`Store::take_messages`]). A consumer acknowledges a batch only after
//! [`Ingest::take`] returns.

use super::listener::BoundListener;
use crate::backend::{BackendKey, Module};
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::manifest::MetadataField;
use crate::store::{Intake, IntakeOutcome, NewDeadLetter, NewJob, Pin, SourceRow, Store, Trigger};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most of a refused body kept in its dead letter: enough to see what it
/// was, not a copy of every oversized message.
pub const DEAD_LETTER_BODY: usize = 64 << 10;

/// One message as a consumer hands it over.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Its id at the broker, stable across redeliveries (AMQP `message_id`
    /// or a hash of the body, NATS stream sequence, Redis entry id, table
    /// row id, MQTT: a hash of topic and body).
    pub id: String,
    /// Routing key, subject, topic, stream or channel it came on.
    pub subject: String,
    /// Its content type, when the protocol carries one.
    pub content_type: Option<String>,
    /// Headers, properties or fields besides the body.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Message {
    /// An id for a message whose broker gives none: a hash of what it
    /// carries, so that a redelivery has the same one.
    pub fn content_id(subject: &str, body: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(subject.as_bytes());
        hash.update([0]);
        hash.update(body);
        format!("sha256:{}", hex::encode(hash.finalize()))
    }
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    /// New jobs.
    pub jobs: usize,
    /// Redeliveries of messages taken before.
    pub duplicates: usize,
    /// Messages sent to dead letters.
    pub dead: usize,
}

/// Turns one source's messages into jobs.
#[derive(Clone)]
pub struct Ingest {
    store: Store,
    modules: Modules,
    source: SourceRow,
    listener: BoundListener,
}

impl Ingest {
    /// For `source`, whose listener is `listener`.
    pub fn new(store: Store, modules: Modules, source: SourceRow, listener: BoundListener) -> Self {
        Ingest {
            store,
            modules,
            source,
            listener,
        }
    }

    /// The source.
    pub fn source(&self) -> &SourceRow {
        &self.source
    }

    /// Store `messages` as jobs or dead letters, in one transaction. When
    /// this returns `Ok`, every message is stored (or was before) and may be
    /// acknowledged; on `Err` none is, and none may be.
    pub async fn take(&self, messages: &[Message]) -> Result<Taken> {
        // The module that runs the job is looked up once per batch (an
        // upgrade takes effect at the next batch), not once per message.
        let module = self.job_module().await?;
        let intakes: Vec<(String, Intake)> = messages
            .iter()
            .map(|message| {
                let intake = match self.job_of(message, &module) {
                    Ok(job) => Intake::Job(Box::new(job)),
                    Err(reason) => Intake::Dead(dead_letter(message, reason)),
                };
                (message.id.clone(), intake)
            })
            .collect();
        let outcomes = self.store.take_messages(self.source.id, &intakes).await?;
        let mut taken = Taken::default();
        for outcome in outcomes {
            match outcome {
                IntakeOutcome::Job(_) => taken.jobs += 1,
                IntakeOutcome::Dead(_) => taken.dead += 1,
                IntakeOutcome::Duplicate => taken.duplicates += 1,
            }
        }
        Ok(taken)
    }

    /// The module that answers the listener's job now, along the instance's
    /// backend chain.
    pub async fn job_module(&self) -> Result<Arc<Module>> {
        let instance = self.store.instance(&self.source.instance).await?;
        let key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        Ok(self
            .modules
            .current()
            .resolve_job(&key, &self.listener.decl.job)?
            .module)
    }

    /// The job `message` becomes, run by `module` (pinned to it, its
    /// payload checked against the job's parameters), or why it cannot
    /// become one.
    pub fn job_of(
        &self,
        message: &Message,
        module: &Module,
    ) -> std::result::Result<NewJob, String> {
        let payload = payload_of(&self.listener, &self.source.name(), message)?;
        let decl = &self.listener.decl;
        let mut job = NewJob::new(&self.source.instance, &decl.job, &Value::Object(payload));
        job.payload = crate::backend::checked_payload(module, &decl.job, &job.payload)
            .map_err(|e| e.to_string())?;
        job.pin = Some(Pin {
            module: module.name().to_string(),
            hash: module.content_hash.clone(),
        });
        if let Some(p) = decl.priority {
            job.priority = i64::from(p);
        }
        if let Some(c) = &decl.channel {
            job.channel = c.clone();
        }
        job.identity_key = Some(format!("{}:{}", decl.name, message.id));
        job.description = format!("message {} of source {}", message.id, self.source.name());
        job.user = format!("source:{}", self.source.name());
        job.trigger = Trigger::Source;
        Ok(job)
    }
}

/// The payload of `message` for `listener`, or why there is none.
fn payload_of(
    listener: &BoundListener,
    source: &str,
    message: &Message,
) -> std::result::Result<Map<String, Value>, String> {
    let decl = &listener.decl;
    let content_type = message
        .content_type
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| decl.content_types[0].clone());
    if !decl.accepts(&content_type) {
        return Err(format!(
            "content type `{content_type}` is not one listener `{}` takes ({})",
            decl.name,
            decl.content_types.join(", ")
        ));
    }
    if message.body.len() as u64 > decl.max_bytes {
        return Err(format!(
            "the body has {} bytes, more than listener `{}` takes (max_bytes = {})",
            message.body.len(),
            decl.name,
            decl.max_bytes
        ));
    }
    let body: Value =
        serde_json::from_slice(&message.body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let mut payload = if decl.fields.is_empty() {
        match body {
            Value::Object(map) => map,
            _ => {
                return Err(
                    "the body is not a JSON object (a listener without [listener.fields] takes the body as the payload)"
                        .into(),
                );
            }
        }
    } else {
        let mut payload = Map::new();
        for (name, field) in &decl.fields {
            let key = decl.message_key(name);
            match lookup(&body, key) {
                Some(value) if !value.is_null() => {
                    payload.insert(name.clone(), value.clone());
                }
                _ if field.required => {
                    return Err(format!("the required field `{key}` is missing"));
                }
                _ => {}
            }
        }
        payload
    };
    for (name, what) in &decl.metadata {
        let value = match what {
            MetadataField::Id => Some(message.id.clone()),
            MetadataField::Source => Some(source.to_string()),
            MetadataField::Subject => Some(message.subject.clone()),
            MetadataField::ContentType => Some(content_type.clone()),
            MetadataField::ReceivedAt => Some(chrono::Utc::now().to_rfc3339()),
            MetadataField::Header(h) => message.headers.get(h).cloned(),
        };
        if let Some(value) = value {
            payload.insert(name.clone(), Value::String(value));
        }
    }
    Ok(payload)
}

/// The value at dotted path `key` of `body`.
fn lookup<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(body, |at, part| at.get(part))
}

fn dead_letter(message: &Message, reason: String) -> NewDeadLetter {
    let mut headers: Map<String, Value> = message
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    headers.insert("subject".into(), Value::String(message.subject.clone()));
    NewDeadLetter {
        content_type: message.content_type.clone(),
        headers,
        body: message.body[..message.body.len().min(DEAD_LETTER_BODY)].to_vec(),
        body_size: message.body.len() as i64,
        reason,
    }
}

#[cfg(test)]
mod tests;
