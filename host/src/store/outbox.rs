//! The outbox ([`crate::outbox`]): messages guests published, written in the
//! transaction that commits the job (or the step's chunk) that published
//! them, and marked sent by the relay; and the topics table, where an
//! instance's published messages (and its `meta` and `blobs` stores) go.

use super::Store;
use super::jobs::OutboxWrite;
use super::sql::{DbConn, DbRow, now_ms};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;

/// A stored outbox message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Id: the order messages are sent in, and the `Ferry-Outbox-Id`
    /// receivers drop duplicates by.
    pub id: i64,
    /// Backend instance.
    pub instance: String,
    /// Topic.
    pub topic: String,
    /// Ordering key.
    pub key: String,
    /// Body.
    #[serde(with = "payload_text")]
    pub payload: Vec<u8>,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Job that published it (none outside a job).
    pub job_id: Option<i64>,
    /// Written, ms.
    pub created_at: i64,
    /// Sent (the broker confirmed), ms; none while waiting.
    pub sent_at: Option<i64>,
    /// Sends tried.
    pub attempts: i64,
    /// Why the last send failed.
    pub last_error: Option<String>,
}

/// Payloads travel in the API as text when they are UTF-8 (JSON, mostly),
/// else as `base64:…`.
mod payload_text {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) if !text.starts_with("base64:") => s.serialize_str(text),
            _ => s.serialize_str(&format!(
                "base64:{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        match text.strip_prefix("base64:") {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(serde::de::Error::custom),
            None => Ok(text.into_bytes()),
        }
    }
}

/// Which outbox messages to list.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Of this instance only.
    pub instance: Option<String>,
    /// Only those not sent yet.
    pub unsent: bool,
    /// At most this many, newest first.
    pub limit: i64,
}

/// Where an instance's topics go: a row of `topics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRow {
    /// Backend instance.
    pub instance: String,
    /// `meta`, `blobs`, or a pattern of published topics (`order.*`, `>`).
    pub topic: String,
    /// Type: `nats`, `rabbitmq`, `mqtt`, `redis` (publish); `local`,
    /// `redis` (meta); `disk` (blobs).
    pub kind: String,
    /// Settings of the type (a JSON object; secrets only by name).
    pub config: Map<String, Value>,
    /// Set, ms.
    pub updated_at: i64,
}

const OUTBOX_COLUMNS: &str = "id, instance, topic, msg_key, payload, headers, job_id, created_at, sent_at, attempts, last_error";

fn outbox_row(row: &DbRow) -> Result<OutboxRow> {
    let headers: String = row.try_get("headers")?;
    let headers: Map<String, Value> = serde_json::from_str(&headers)?;
    Ok(OutboxRow {
        id: row.try_get("id")?,
        instance: row.try_get("instance")?,
        topic: row.try_get("topic")?,
        key: row.try_get("msg_key")?,
        payload: row.try_get("payload")?,
        headers: headers_of(headers),
        job_id: row.try_get("job_id")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
    })
}

fn headers_of(stored: Map<String, Value>) -> Vec<(String, String)> {
    stored
        .get("h")
        .and_then(|h| serde_json::from_value(h.clone()).ok())
        .unwrap_or_default()
}

impl Store {
    /// Write the messages a run published, in the caller's write
    /// transaction (a job's completion, a step's chunk), in order.
    pub(crate) async fn add_outbox_in(
        tx: &mut DbConn,
        messages: &[OutboxWrite],
        job_id: Option<i64>,
    ) -> Result<()> {
        super::jobs::write_outbox(tx, messages, job_id).await
    }

    /// Write messages published outside a job, at once.
    pub async fn add_outbox(&self, messages: &[OutboxWrite]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Store::add_outbox_in(&mut tx, messages, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest unsent messages of `instance`, in id order (the order the
    /// relay sends them in).
    pub async fn unsent_outbox(&self, instance: &str, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE instance = $1 AND sent_at IS NULL \
             ORDER BY id LIMIT $2"
        ))
        .bind(instance)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(outbox_row).collect()
    }

    /// Instances with messages waiting to be sent.
    pub async fn instances_with_unsent_outbox(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT instance FROM outbox WHERE sent_at IS NULL ORDER BY instance",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Mark messages sent (the broker confirmed them).
    pub async fn mark_outbox_sent(&self, ids: &[i64]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Record a failed send of message `id`.
    pub async fn mark_outbox_failed(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Outbox messages, newest first.
    pub async fn outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxRow>> {
        let mut sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE 1 = 1");
        if filter.instance.is_some() {
            sql.push_str(" AND instance = $2");
        }
        if filter.unsent {
            sql.push_str(" AND sent_at IS NULL");
        }
        sql.push_str(" ORDER BY id DESC LIMIT $1");
        let mut query = sqlx::query(&sql).bind(filter.limit.max(1));
        if let Some(instance) = &filter.instance {
            query = query.bind(instance);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(outbox_row).collect()
    }

    /// Set where `instance`'s `topic` goes (replacing what was set).
    pub async fn set_topic(
        &self,
        instance: &str,
        topic: &str,
        kind: &str,
        config: &Map<String, Value>,
    ) -> Result<TopicRow> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO topics (instance, topic, kind, config, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (instance, topic) DO UPDATE SET kind = excluded.kind, \
             config = excluded.config, updated_at = excluded.updated_at",
        )
        .bind(instance)
        .bind(topic)
        .bind(kind)
        .bind(Value::Object(config.clone()).to_string())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(TopicRow {
            instance: instance.to_string(),
            topic: topic.to_string(),
            kind: kind.to_string(),
            config: config.clone(),
            updated_at: now,
        })
    }

    /// The topics set for `instance` (every instance's when none), by
    /// instance and topic.
    pub async fn topics(&self, instance: Option<&str>) -> Result<Vec<TopicRow>> {
        let rows: Vec<(String, String, String, String, i64)> = match instance {
            Some(instance) => {
                sqlx::query_as(
                    "SELECT instance, topic, kind, config, updated_at FROM topics \
                     WHERE instance = $1 ORDER BY instance, topic",
                )
                .bind(instance)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT instance, topic, kind, config, updated_at FROM topics \
                     ORDER BY instance, topic",
                )
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.into_iter()
            .map(|(instance, topic, kind, config, updated_at)| {
                let config = match serde_json::from_str(&config)? {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                Ok(TopicRow {
                    instance,
                    topic,
                    kind,
                    config,
                    updated_at,
                })
            })
            .collect()
    }

    /// Remove `instance`'s `topic`; a not-found error when it was not set.
    pub async fn remove_topic(&self, instance: &str, topic: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM topics WHERE instance = $1 AND topic = $2")
            .bind(instance)
            .bind(topic)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                kind: "topic",
                name: format!("{instance}/{topic}"),
                hint: " (see `ferry topic list`)".into(),
            });
        }
        Ok(())
    }
}
