//! Published topics and the outbox through [`Admin`]: the CLI (`ferry topic
//! …`, `ferry outbox`), the admin API (`/api/topics`, `/api/outbox`) and the
//! CLI in remote mode share these; the work is [`crate::relay::topics`]'s.

use super::Admin;
use super::types::Done;
use super::views::{MAX_OUTBOX, OutboxQuery};
use crate::error::Result;
use crate::relay::{TopicSpec, topics};
use crate::store::{OutboxFilter, OutboxRow, TopicRow};

impl Admin {
    /// Where instances' topics go (of `instance`, or every instance's).
    pub async fn topics(&self, instance: Option<&str>) -> Result<Vec<TopicRow>> {
        match self {
            Admin::Local(ferry) => topics::list(ferry.store(), instance).await,
            Admin::Remote(r) => match instance {
                Some(i) => r.get(&["api", "topics", i]).await,
                None => r.get(&["api", "topics"]).await,
            },
        }
    }

    /// Set where a pattern of an instance's topics goes, for `actor`.
    pub async fn set_topic(&self, spec: &TopicSpec, actor: &str) -> Result<TopicRow> {
        match self {
            Admin::Local(ferry) => topics::set(ferry.store(), spec, actor).await,
            Admin::Remote(r) => r.post(&["api", "topics"], spec).await,
        }
    }

    /// Remove where `topic` of `instance` goes, for `actor`.
    pub async fn remove_topic(&self, instance: &str, topic: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => {
                topics::remove(ferry.store(), instance, topic, actor).await?;
                Ok(Done { done: true })
            }
            Admin::Remote(r) => r.delete(&["api", "topics", instance, topic]).await,
        }
    }

    /// Outbox messages, newest first.
    pub async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxRow>> {
        match self {
            Admin::Local(ferry) => {
                let filter = OutboxFilter {
                    instance: query.instance.clone(),
                    unsent: query.unsent,
                    limit: query.limit.unwrap_or(100).min(MAX_OUTBOX) as i64,
                };
                topics::outbox(ferry.store(), &filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "outbox"], query).await,
        }
    }
}
