//! What operators do with an instance's published topics, the one way the
//! CLI, the admin API and the console do it: set where a pattern of topics
//! goes (checked), list, remove, and look at the outbox. Every change is in
//! the audit log.

use super::destination::DestinationSettings;
use crate::audit;
use crate::error::{Error, Result};
use crate::manifest::TopicPattern;
use crate::store::{OutboxFilter, OutboxRow, Store, TopicRow};
use serde::{Deserialize, Serialize};

/// Audit action: where a topic goes was set.
pub const TOPIC_SET: &str = "topic.set";
/// Audit action: a topic's destination was removed.
pub const TOPIC_REMOVE: &str = "topic.remove";

/// Where a pattern of an instance's published topics goes (`POST /api/topics`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicSpec {
    /// Backend instance.
    pub instance: String,
    /// Pattern of topics (`order.*`, `order.>`, `>`).
    pub topic: String,
    /// Type: nats, rabbitmq, redis or mqtt.
    pub kind: String,
    /// Its settings.
    pub settings: DestinationSettings,
}

/// Set where `spec.topic` of `spec.instance` goes, for `actor`.
pub async fn set(store: &Store, spec: &TopicSpec, actor: &str) -> Result<TopicRow> {
    store.instance(&spec.instance).await?;
    if crate::stores::is_store_name(&spec.topic) {
        return Err(Error::Invalid(format!(
            "`{}` names a store of the instance, not a topic: `ferry store set {} {}`",
            spec.topic, spec.instance, spec.topic
        )));
    }
    TopicPattern::parse(&spec.topic)
        .map_err(|e| Error::Invalid(format!("topic pattern `{}`: {e}", spec.topic)))?;
    spec.settings
        .check(&spec.kind)
        .map_err(|e| Error::Invalid(format!("topic `{}`: {e}", spec.topic)))?;
    if let Some(name) = &spec.settings.password_secret {
        crate::service_url::check_password_secret(store, &spec.instance, name).await?;
    }
    let config = match serde_json::to_value(&spec.settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => Default::default(),
    };
    let row = store
        .set_topic(&spec.instance, &spec.topic, &spec.kind, &config)
        .await?;
    let mut entry = audit::entry(actor, TOPIC_SET, &spec.instance, &spec.topic);
    entry.detail = Some(format!("{} {}", spec.kind, spec.settings.url));
    audit::record(store, &entry).await?;
    Ok(row)
}

/// The topics set (of `instance`, or every instance's).
pub async fn list(store: &Store, instance: Option<&str>) -> Result<Vec<TopicRow>> {
    Ok(store
        .topics(instance)
        .await?
        .into_iter()
        .filter(|t| !crate::stores::is_store_name(&t.topic))
        .collect())
}

/// Remove where `topic` of `instance` goes, for `actor`.
pub async fn remove(store: &Store, instance: &str, topic: &str, actor: &str) -> Result<()> {
    store.remove_topic(instance, topic).await?;
    audit::record(store, &audit::entry(actor, TOPIC_REMOVE, instance, topic)).await?;
    Ok(())
}

/// Outbox messages, newest first.
pub async fn outbox(store: &Store, filter: &OutboxFilter) -> Result<Vec<OutboxRow>> {
    store.outbox(filter).await
}
