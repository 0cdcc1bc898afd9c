//! Type `redis`: a Redis stream read through a consumer group.
//!
//! | | |
//! |---|---|
//! | setting | `stream` (the key) |
//! | group | `consumer` (default `ferry-INSTANCE-LISTENER`), created at `0` with `MKSTREAM` when missing, so entries added before the source existed are read too |
//! | consumer | this node's name: nodes share the group's entries |
//! | message | field `body` (or `payload`, `data`), `content_type`, other fields as headers |
//! | id | the entry id (`1717171717171-0`), stable across redeliveries |
//! | acknowledgement | one `XACK` of the batch, after the jobs are stored |
//! | lag | the group's `lag` (entries not yet delivered to it) |
//!
//! After a crash, the entries this node read and did not acknowledge stay
//! pending for its consumer name: on reconnect it reads its own pending
//! entries first (`XREADGROUP … 0`), then claims those another node left
//! pending for more than [`CLAIM_IDLE`] (`XAUTOCLAIM`: a node that died),
//! then reads new ones (`>`).

use super::feed::{Feed, SourceError};
use super::ingest::Message;
use ::redis::Value;
use ::redis::aio::MultiplexedConnection;
use ::redis::streams::{StreamAutoClaimReply, StreamId, StreamInfoGroupsReply, StreamReadReply};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long an entry stays pending for another consumer before this one
/// claims it (the other node is taken for dead).
const CLAIM_IDLE: Duration = Duration::from_secs(30);
/// How long one read waits for a first entry.
const BLOCK: Duration = Duration::from_secs(1);
/// How often the lag is read.
const LAG_EVERY: Duration = Duration::from_secs(5);
/// Fields that hold the body, in the order they are looked for.
const BODY_FIELDS: [&str; 3] = ["body", "payload", "data"];

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let stream = feed.settings.stream.clone().unwrap_or_default();
    let group = feed.consumer_name();
    let at = |doing: &str| format!("{doing} (stream `{stream}`, group `{group}`)");
    let client = redis::Client::open(feed.url_with_password())
        .map_err(|e| SourceError::broker("Redis URL", e))?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| SourceError::broker(&at("connect to Redis"), e))?;
    // A blocking read holds the connection for BLOCK: answers take longer
    // than the client's default timeout.
    connection.set_response_timeout(BLOCK + Duration::from_secs(10));
    create_group(&mut connection, &stream, &group)
        .await
        .map_err(|e| SourceError::broker(&at("create the consumer group"), e))?;
    let consumer = feed.node.clone();
    let mut own_pending_done = false;
    let mut last_claim: Option<Instant> = None;
    let mut last_lag: Option<Instant> = None;
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        if last_lag.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
            if let Ok(Some(lag)) = group_lag(&mut connection, &stream, &group).await {
                feed.lag(lag);
            }
            last_lag = Some(Instant::now());
        }
        let entries = if !own_pending_done {
            let entries = read(&mut connection, feed, &stream, &group, &consumer, "0")
                .await
                .map_err(|e| SourceError::broker(&at("read pending entries"), e))?;
            own_pending_done = entries.is_empty();
            entries
        } else if last_claim.is_none_or(|t| t.elapsed() >= CLAIM_IDLE / 3) {
            last_claim = Some(Instant::now());
            claim(&mut connection, feed, &stream, &group, &consumer)
                .await
                .map_err(|e| SourceError::broker(&at("claim entries of dead nodes"), e))?
        } else {
            tokio::select! {
                _ = feed.cancelled() => return Ok(()),
                read = read(&mut connection, feed, &stream, &group, &consumer, ">") => {
                    read.map_err(|e| SourceError::broker(&at("read"), e))?
                }
            }
        };
        if entries.is_empty() {
            continue;
        }
        let messages: Vec<Message> = entries.iter().map(|e| message(&stream, e)).collect();
        feed.take(&messages).await?;
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        redis::cmd("XACK")
            .arg(&stream)
            .arg(&group)
            .arg(&ids)
            .query_async::<i64>(&mut connection)
            .await
            .map_err(|e| SourceError::broker(&at("acknowledge"), e))?;
    }
}

/// `XGROUP CREATE … 0 MKSTREAM`, unless the group exists.
async fn create_group(
    connection: &mut MultiplexedConnection,
    stream: &str,
    group: &str,
) -> redis::RedisResult<()> {
    let created = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async::<()>(connection)
        .await;
    match created {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}

/// `XREADGROUP` from `from` (`0`: this consumer's pending entries; `>`:
/// new ones, waiting up to [`BLOCK`] for a first one).
async fn read(
    connection: &mut MultiplexedConnection,
    feed: &Feed,
    stream: &str,
    group: &str,
    consumer: &str,
    from: &str,
) -> redis::RedisResult<Vec<StreamId>> {
    let mut command = redis::cmd("XREADGROUP");
    command
        .arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("COUNT")
        .arg(feed.batch_size());
    if from == ">" {
        command.arg("BLOCK").arg(BLOCK.as_millis() as u64);
    }
    command.arg("STREAMS").arg(stream).arg(from);
    let reply: Option<StreamReadReply> = command.query_async(connection).await?;
    Ok(reply
        .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
        .unwrap_or_default())
}

/// `XAUTOCLAIM` entries pending for longer than [`CLAIM_IDLE`] elsewhere.
async fn claim(
    connection: &mut MultiplexedConnection,
    feed: &Feed,
    stream: &str,
    group: &str,
    consumer: &str,
) -> redis::RedisResult<Vec<StreamId>> {
    let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(stream)
        .arg(group)
        .arg(consumer)
        .arg(CLAIM_IDLE.as_millis() as u64)
        .arg("0")
        .arg("COUNT")
        .arg(feed.batch_size())
        .query_async(connection)
        .await?;
    Ok(reply.claimed)
}

/// The group's lag, when the server tells it (Redis 7).
async fn group_lag(
    connection: &mut MultiplexedConnection,
    stream: &str,
    group: &str,
) -> redis::RedisResult<Option<i64>> {
    let reply: StreamInfoGroupsReply = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query_async(connection)
        .await?;
    Ok(reply
        .groups
        .into_iter()
        .find(|g| g.name == group)
        .and_then(|g| g.lag)
        .map(|lag| lag as i64))
}

/// The message of a stream entry.
fn message(stream: &str, entry: &StreamId) -> Message {
    let mut fields: BTreeMap<String, Vec<u8>> = entry
        .map
        .iter()
        .filter_map(|(k, v)| bytes(v).map(|b| (k.clone(), b)))
        .collect();
    let body = BODY_FIELDS
        .iter()
        .find_map(|f| fields.remove(*f))
        .unwrap_or_default();
    let content_type = fields
        .remove("content_type")
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    Message {
        id: entry.id.clone(),
        subject: stream.to_string(),
        content_type,
        headers: fields
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect(),
        body,
    }
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}
