//! Type `rabbitmq`: an AMQP 0-9-1 queue.
//!
//! - **Setup**: the queue is declared durable (nothing happens when it
//!   exists with the same settings); with `exchange`, the exchange is
//!   declared too (type `exchange_type`, default `topic`, durable) and the
//!   queue bound to it with `routing_key` (default `#`).
//! - **Message id**: the AMQP `message_id` property when the publisher set
//!   one, else a hash of routing key and body ([`Message::content_id`]): a
//!   publisher that sends the same body twice with the same routing key and
//!   no `message_id` gets one job.
//! - **Content type and headers**: the `content_type` property; the AMQP
//!   headers whose values are strings, numbers or booleans, as text.
//! - **Ack**: one `basic.ack` with `multiple` of the batch's last delivery
//!   tag, after [`Feed::take`] stored the batch. Deliveries not acked when
//!   the connection ends (a crash, a broken network) go back to the queue
//!   and come again, marked redelivered; their ids are found and nothing is
//!   stored twice.
//! - **Nodes**: every node consumes the same queue (competing consumers),
//!   each with a prefetch of one batch.
//! - **Lag**: the queue's ready message count, from a passive declare every
//!   few seconds.

use super::feed::{Feed, SourceError};
use super::fetch::{Fetched, next_batch};
use super::ingest::Message;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use std::time::{Duration, Instant};

/// How often the queue's depth is asked for.
const LAG_EVERY: Duration = Duration::from_secs(3);

/// How long closing the connection may take when the source stops.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let queue = feed.settings.queue.clone().unwrap_or_default();
    // Where, for messages: the URL as stored (it never holds the password).
    let place = format!("queue `{queue}` at {}", feed.settings.url);
    let url = feed.url_with_password();
    let connect = Connection::connect(
        &url,
        ConnectionProperties::default()
            .with_connection_name(format!("ferry {} on {}", feed.source.name(), feed.node).into()),
    );
    let connection = tokio::select! {
        _ = feed.cancelled() => return Ok(()),
        connection = connect => connection.map_err(|e| {
            SourceError::broker(
                &format!("connect to {} (is RabbitMQ up there, and are the user and its password right?)", feed.settings.url),
                e,
            )
        })?,
    };
    let outcome = consume_on(feed, &connection, &queue, &place).await;
    // Deliveries not acked go back to the queue when the connection closes.
    let _ = tokio::time::timeout(
        CLOSE_WAIT,
        connection.close(200, "the ferry source stopped".into()),
    )
    .await;
    outcome
}

/// Set the queue up on `connection`, then take its messages batch by batch.
async fn consume_on(
    feed: &Feed,
    connection: &Connection,
    queue: &str,
    place: &str,
) -> Result<(), SourceError> {
    let fail = |doing: &str| {
        let doing = format!("{doing} ({place})");
        move |e: lapin::Error| SourceError::broker(&doing, e)
    };
    let channel = connection
        .create_channel()
        .await
        .map_err(fail("open a channel"))?;
    let batch = feed.batch_size();
    channel
        .basic_qos(
            batch.min(u16::MAX as usize) as u16,
            BasicQosOptions::default(),
        )
        .await
        .map_err(fail("set the prefetch"))?;
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(fail(
            "declare the queue (durable; a queue of that name declared otherwise must be removed or renamed)",
        ))?;
    feed.lag(i64::from(declared.message_count()));
    bind(feed, &channel, queue).await.map_err(fail(&format!(
        "declare exchange `{}` and bind the queue to it",
        feed.settings.exchange.as_deref().unwrap_or_default()
    )))?;
    let tag = format!("{}-{}", feed.consumer_name(), feed.node);
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            tag.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(fail("start consuming"))?;
    let mut lag_at = Instant::now();
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        let deliveries = match next_batch(feed, &mut consumer, batch).await {
            Fetched::Batch(deliveries) => deliveries,
            Fetched::Failed(e) => return Err(fail("receive messages")(e)),
            Fetched::Ended => {
                return Err(SourceError::Broker(format!(
                    "RabbitMQ cancelled the consumer of {place} (was the queue deleted?)"
                )));
            }
        };
        if let Some(last) = deliveries.last().map(|d| d.delivery_tag) {
            let messages: Vec<Message> = deliveries.into_iter().map(message_of).collect();
            feed.take(&messages).await?;
            channel
                .basic_ack(last, BasicAckOptions { multiple: true })
                .await
                .map_err(fail("acknowledge stored messages"))?;
        } else if !connection.status().connected() {
            return Err(SourceError::Broker(format!(
                "the connection to RabbitMQ was lost ({place})"
            )));
        }
        if lag_at.elapsed() >= LAG_EVERY {
            lag_at = Instant::now();
            let depth = channel
                .queue_declare(
                    queue.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(fail("read the queue's depth"))?;
            feed.lag(i64::from(depth.message_count()));
        }
    }
}

/// Declare the source's exchange and bind the queue to it (when it has one).
async fn bind(feed: &Feed, channel: &Channel, queue: &str) -> lapin::Result<()> {
    let settings = &feed.settings;
    let Some(exchange) = settings.exchange.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    let kind = match settings.exchange_type.as_deref().unwrap_or("topic") {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "headers" => ExchangeKind::Headers,
        "topic" => ExchangeKind::Topic,
        other => ExchangeKind::Custom(other.to_string()),
    };
    channel
        .exchange_declare(
            exchange.into(),
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            settings.routing_key.as_deref().unwrap_or("#").into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

/// The message a delivery carries.
fn message_of(delivery: Delivery) -> Message {
    let properties = &delivery.properties;
    let subject = delivery.routing_key.as_str().to_string();
    let id = match properties.message_id() {
        Some(id) if !id.as_str().is_empty() => id.as_str().to_string(),
        _ => Message::content_id(&subject, &delivery.data),
    };
    let headers = properties
        .headers()
        .as_ref()
        .map(|table| {
            table
                .inner()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), text_of(v)?)))
                .collect()
        })
        .unwrap_or_default();
    Message {
        id,
        subject,
        content_type: properties
            .content_type()
            .as_ref()
            .map(|t| t.as_str().to_string()),
        headers,
        body: delivery.data,
    }
}

/// A header value as text, when it is a string, a number or a boolean
/// (tables, arrays and bytes have no text a listener could map).
fn text_of(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_string(),
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::ShortShortInt(n) => n.to_string(),
        AMQPValue::ShortShortUInt(n) => n.to_string(),
        AMQPValue::ShortInt(n) => n.to_string(),
        AMQPValue::ShortUInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::Float(n) => n.to_string(),
        AMQPValue::Double(n) => n.to_string(),
        AMQPValue::Timestamp(n) => n.to_string(),
        _ => return None,
    })
}
