//! Type `postgres`: a table the source drains, or a bare `LISTEN` channel.
//!
//! **Table** (`table`, the reliable mode): the system that announces
//! changes inserts rows (`id`, `body` as `bytea`, `text` or `jsonb`, and
//! optionally `content_type` and `headers` as `jsonb`); the source locks up
//! to a batch of them (`FOR UPDATE SKIP LOCKED`, in `id` order), stores them
//! as jobs, then deletes them and commits. The job commit comes first: a
//! crash between the two leaves the rows, taken again on restart and found
//! by their id (`TABLE:ID`), so nothing is lost or stored twice. With a
//! `channel`, a `NOTIFY` on it wakes the drain at once; without one, or when
//! a notification is missed, the table is looked at every second. `lag` is
//! the table's row count.
//!
//! **Channel only** (`channel` without `table`): each notification's payload
//! is a message. PostgreSQL keeps no notification for a listener that is not
//! connected, so this mode is at-most-once: a payload sent while no node
//! listens is gone. The id is the payload's `id` key when it is a JSON object
//! that has one, else one made on receipt.
//!
//! Either way one node consumes (a lease): `LISTEN` would hand every node
//! every notification.

use super::feed::{Feed, SourceError};
use super::ingest::Message;
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Longest wait between looks at the table without a notification.
const POLL: Duration = Duration::from_secs(1);
/// How often the table's row count is read.
const LAG_EVERY: Duration = Duration::from_secs(5);
/// How long a channel-only batch waits for more notifications after its first.
const GATHER: Duration = Duration::from_millis(20);

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let url = feed.url_with_password();
    let listener = match &feed.settings.channel {
        Some(channel) => {
            let mut listener = PgListener::connect(&url)
                .await
                .map_err(|e| SourceError::broker("connect to PostgreSQL", e))?;
            listener
                .listen(channel)
                .await
                .map_err(|e| SourceError::broker(&format!("LISTEN {channel}"), e))?;
            Some(listener)
        }
        None => None,
    };
    match feed.settings.table.clone() {
        Some(table) => drain(feed, &url, &table, listener).await,
        None => match listener {
            Some(listener) => notifications(feed, listener).await,
            None => Ok(()),
        },
    }
}

/// Table mode.
async fn drain(
    feed: &Feed,
    url: &str,
    table: &str,
    mut listener: Option<PgListener>,
) -> Result<(), SourceError> {
    let at = |doing: &str| format!("{doing} (table `{table}`)");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .map_err(|e| SourceError::broker("connect to PostgreSQL", e))?;
    let mut last_lag: Option<Instant> = None;
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        if last_lag.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
            let count: Result<i64, _> =
                sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await;
            if let Ok(count) = count {
                feed.lag(count);
            }
            last_lag = Some(Instant::now());
        }
        let taken = drain_batch(feed, &pool, table).await.map_err(|e| match e {
            Drained::Broker(e) => SourceError::broker(&at("drain"), e),
            Drained::Source(e) => e,
        })?;
        if taken > 0 {
            continue;
        }
        // Nothing there: wait for a notification, or look again after POLL.
        let woken = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = feed.cancelled() => return Ok(()),
            woken = woken => woken.map_err(|e| SourceError::broker(&at("wait for a notification"), e))?,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

enum Drained {
    Broker(sqlx::Error),
    Source(SourceError),
}

impl From<sqlx::Error> for Drained {
    fn from(e: sqlx::Error) -> Self {
        Drained::Broker(e)
    }
}

/// Lock up to a batch of rows, store them as jobs, delete them, commit.
async fn drain_batch(feed: &Feed, pool: &PgPool, table: &str) -> Result<usize, Drained> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT ctid::text AS ferry_row, * FROM {table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(feed.batch_size() as i64)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let messages: Vec<Message> = rows.iter().map(|r| message(table, r)).collect();
    feed.take(&messages).await.map_err(Drained::Source)?;
    let ctids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("ferry_row").ok())
        .collect();
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE ctid = ANY($1::text[]::tid[])"
    ))
    .bind(&ctids)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// The message of a row: whatever types its columns have.
fn message(table: &str, row: &PgRow) -> Message {
    let id = row
        .try_get::<i64, _>("id")
        .map(|i| i.to_string())
        .or_else(|_| row.try_get::<i32, _>("id").map(|i| i.to_string()))
        .or_else(|_| row.try_get::<String, _>("id"))
        .unwrap_or_default();
    let body = row
        .try_get::<Vec<u8>, _>("body")
        .or_else(|_| row.try_get::<String, _>("body").map(String::into_bytes))
        .or_else(|_| {
            row.try_get::<Value, _>("body")
                .map(|v| v.to_string().into_bytes())
        })
        .unwrap_or_default();
    let headers = match row.try_get::<Option<Value>, _>("headers") {
        Ok(Some(Value::Object(map))) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    Message {
        id: format!("{table}:{id}"),
        subject: table.to_string(),
        content_type: row
            .try_get::<Option<String>, _>("content_type")
            .ok()
            .flatten(),
        headers,
        body,
    }
}

/// Channel-only mode.
async fn notifications(feed: &Feed, mut listener: PgListener) -> Result<(), SourceError> {
    let channel = feed.settings.channel.clone().unwrap_or_default();
    let mut received: u64 = 0;
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        let first = tokio::select! {
            _ = feed.cancelled() => return Ok(()),
            n = listener.recv() => n.map_err(|e| SourceError::broker(&format!("LISTEN {channel}"), e))?,
        };
        let mut batch = vec![first];
        while batch.len() < feed.batch_size() {
            match tokio::time::timeout(GATHER, listener.recv()).await {
                Ok(Ok(n)) => batch.push(n),
                Ok(Err(e)) => return Err(SourceError::broker(&format!("LISTEN {channel}"), e)),
                Err(_) => break,
            }
        }
        let messages: Vec<Message> = batch
            .iter()
            .map(|n| {
                received += 1;
                let body = n.payload().as_bytes().to_vec();
                let id = match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(map)) => match map.get("id") {
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    },
                    _ => None,
                };
                Message {
                    id: format!(
                        "{channel}:{}",
                        id.unwrap_or_else(|| format!(
                            "{}:{}:{received}",
                            feed.node,
                            crate::store::now_ms()
                        ))
                    ),
                    subject: channel.clone(),
                    content_type: None,
                    headers: BTreeMap::new(),
                    body,
                }
            })
            .collect();
        feed.take(&messages).await?;
    }
}
