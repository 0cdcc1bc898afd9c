//! Replaying dead letters: a message refused once (a required field was
//! missing, the job's parameters refused it) is tried again after the
//! connector or the sender was fixed. A replay that is refused again stores
//! nothing and says why.

use super::ingest::{Ingest, Message};
use super::listener;
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::store::{DeadLetterRow, Store};
use serde_json::Value;

/// Replay dead letter `id`: the job it becomes now, or why it still cannot.
pub async fn replay(store: &Store, modules: &Modules, id: i64) -> Result<i64> {
    let dead = store.dead_letter(id).await?;
    if dead.replayed_at.is_some() {
        return Err(Error::Invalid(format!(
            "dead letter {id} was replayed already (job {})",
            dead.replay_job_id.unwrap_or_default()
        )));
    }
    if dead.body.len() as i64 != dead.body_size {
        return Err(Error::Invalid(format!(
            "dead letter {id}: only the first {} of its {} bytes were kept, so it cannot be replayed",
            dead.body.len(),
            dead.body_size
        )));
    }
    let source = store.source_by_id(dead.source_id).await?;
    let instance = store.instance(&source.instance).await?;
    let bound = listener::find(&modules.current(), &instance.backend, &source.listener)?;
    let ingest = Ingest::new(store.clone(), modules.clone(), source, bound);
    let module = ingest.job_module().await?;
    let job = ingest
        .job_of(&message_of(&dead), &module)
        .map_err(|reason| Error::Invalid(format!("dead letter {id} is still refused: {reason}")))?;
    store.replay_dead_letter(id, &job).await
}

/// The message a dead letter kept.
fn message_of(dead: &DeadLetterRow) -> Message {
    let mut headers = std::collections::BTreeMap::new();
    let mut subject = String::new();
    for (k, v) in &dead.headers {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if k == "subject" {
            subject = v;
        } else {
            headers.insert(k.clone(), v);
        }
    }
    Message {
        id: dead.message_id.clone(),
        subject,
        content_type: dead.content_type.clone(),
        headers,
        body: dead.body.clone(),
    }
}
