//! Type `nats`: a JetStream durable pull consumer.
//!
//! - The stream `stream` (default: the consumer name, sanitized) is created
//!   over `subject` when missing; the durable pull consumer
//!   [`Feed::consumer_name`] (explicit acks, filter `subject`) likewise.
//! - Message id: the `Nats-Msg-Id` header when the publisher set one (the
//!   id JetStream itself deduplicates publishes by), else `STREAM:SEQUENCE`
//!   from the delivery's metadata, which a redelivery keeps.
//! - Content type: the `Content-Type` header; other headers are kept as text
//!   (the first value of each).
//! - Ack: each message of a batch is acknowledged after [`Feed::take`], then
//!   the connection is flushed once. An unacknowledged message is delivered
//!   again after [`ACK_WAIT`].
//! - Nodes share the work through the durable consumer: each pull hands
//!   different messages to each node, no lease is needed.
//! - Lag: the consumer's `num_pending` (messages not yet delivered), read
//!   every [`LAG_EVERY`].

use super::feed::{Feed, SourceError};
use super::ingest::Message;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, stream};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long JetStream waits for an ack before delivering a message again
/// (to another node, or to this one after a restart).
const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long one pull waits for a first message.
const FETCH_WAIT: Duration = Duration::from_secs(1);
/// Pause after an empty pull the server answered at once.
const IDLE_PAUSE: Duration = Duration::from_millis(200);
/// How often the consumer's pending count is read.
const LAG_EVERY: Duration = Duration::from_secs(3);

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let settings = &feed.settings;
    let subject = settings.subject.clone().unwrap_or_default();
    let consumer_name = feed.consumer_name();
    let stream_name = settings
        .stream
        .clone()
        .unwrap_or_else(|| stream_name_of(&consumer_name));
    let at = format!("{} (stream {stream_name})", settings.url);

    let client = connect(feed).await?;
    let context = jetstream::new(client.clone());
    let stream = context
        .get_or_create_stream(stream::Config {
            name: stream_name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| SourceError::broker(&format!("get or create the stream at {at}"), e))?;
    let batch = feed.batch_size();
    let mut consumer: PullConsumer = stream
        .get_or_create_consumer(
            &consumer_name,
            pull::Config {
                durable_name: Some(consumer_name.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                filter_subject: subject.clone(),
                // Messages of nodes killed before their ack stay pending
                // until ACK_WAIT: room for several of those batches.
                max_ack_pending: (batch * 10).max(1_000) as i64,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            SourceError::broker(
                &format!("get or create consumer `{consumer_name}` over `{subject}` at {at}"),
                e,
            )
        })?;

    let mut lag_read: Option<Instant> = None;
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        if client.connection_state() != async_nats::connection::State::Connected {
            return Err(SourceError::Broker(format!(
                "the connection to {} was lost",
                settings.url
            )));
        }
        if lag_read.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
            let info = consumer.info().await.map_err(|e| {
                SourceError::broker(&format!("read consumer `{consumer_name}` at {at}"), e)
            })?;
            feed.lag(info.num_pending as i64);
            lag_read = Some(Instant::now());
        }
        let started = Instant::now();
        let fetched = tokio::select! {
            _ = feed.cancelled() => return Ok(()),
            fetched = fetch(&consumer, batch) => fetched,
        }
        .map_err(|e| SourceError::broker(&format!("pull from `{consumer_name}` at {at}"), e))?;
        if fetched.is_empty() {
            if started.elapsed() < IDLE_PAUSE {
                tokio::select! {
                    _ = feed.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(IDLE_PAUSE) => {}
                }
            }
            continue;
        }
        let messages: Vec<Message> = fetched.iter().map(message_of).collect();
        feed.take(&messages).await?;
        // Acks are publishes to each message's reply subject: queued here,
        // sent by the flush.
        for message in &fetched {
            message
                .ack()
                .await
                .map_err(|e| SourceError::broker(&format!("ack at {at}"), e))?;
        }
        client
            .flush()
            .await
            .map_err(|e| SourceError::broker(&format!("send acks to {at}"), e))?;
    }
}

/// Connect to the URL, with the password as the user's (a user in the URL)
/// or as a token (none).
async fn connect(feed: &Feed) -> Result<async_nats::Client, SourceError> {
    let url = &feed.settings.url;
    let parsed = url::Url::parse(url).map_err(|e| SourceError::broker(&format!("URL {url}"), e))?;
    let mut options = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .name(format!("ferry {}", feed.node));
    let mut address = parsed.clone();
    let _ = address.set_username("");
    if let Some(password) = &feed.password {
        options = if parsed.username().is_empty() {
            options.token(password.clone())
        } else {
            options.user_and_password(parsed.username().to_string(), password.clone())
        };
    }
    options
        .connect(address.as_str())
        .await
        .map_err(|e| SourceError::broker(&format!("connect to {url}"), e))
}

/// Up to `batch` messages, waiting at most [`FETCH_WAIT`] for the first.
async fn fetch(
    consumer: &PullConsumer,
    batch: usize,
) -> Result<Vec<jetstream::Message>, async_nats::Error> {
    let mut pulled = consumer
        .fetch()
        .max_messages(batch)
        .expires(FETCH_WAIT)
        .messages()
        .await?;
    let mut messages = Vec::with_capacity(batch);
    while let Some(message) = pulled.next().await {
        messages.push(message?);
    }
    Ok(messages)
}

/// The message ingest takes for `delivered`.
fn message_of(delivered: &jetstream::Message) -> Message {
    let mut headers = BTreeMap::new();
    let mut content_type = None;
    let mut msg_id = None;
    for (name, values) in delivered.headers.iter().flat_map(|h| h.iter()) {
        let Some(value) = values.first() else {
            continue;
        };
        let name: &str = name.as_ref();
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("nats-msg-id") {
            msg_id = Some(value.to_string());
        } else {
            headers.insert(name.to_string(), value.to_string());
        }
    }
    let id = msg_id
        .filter(|id| !id.is_empty())
        .or_else(|| {
            delivered
                .info()
                .ok()
                .map(|info| format!("{}:{}", info.stream, info.stream_sequence))
        })
        .unwrap_or_else(|| Message::content_id(delivered.subject.as_str(), &delivered.payload));
    Message {
        id,
        subject: delivered.subject.to_string(),
        content_type,
        headers,
        body: delivered.payload.to_vec(),
    }
}

/// A stream name from a consumer name: JetStream names take no `.`, `*`,
/// `>`, `/`, `\` or whitespace.
fn stream_name_of(consumer: &str) -> String {
    consumer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::stream_name_of;

    #[test]
    fn a_stream_name_derived_from_a_consumer_name_is_one_jetstream_takes() {
        assert_eq!(stream_name_of("ferry-acme-orders"), "ferry-acme-orders");
        assert_eq!(stream_name_of("ferry.acme orders>*"), "ferry_acme_orders__");
    }
}
