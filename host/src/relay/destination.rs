//! Where an instance's published topics go: a connection to one broker of
//! a type, that sends outbox messages and confirms them.
//!
//! | type | sent as | confirmed by |
//! |---|---|---|
//! | `nats` | a JetStream publish when `stream` is set (`Nats-Msg-Id` = the outbox id), else a core publish | the JetStream ack; a flush of the connection |
//! | `rabbitmq` | `basic_publish` to `exchange` (default: the default exchange) with the topic as routing key, persistent, `message_id` = the outbox id | publisher confirms |
//! | `redis` | `XADD` to `stream` (default: the topic) with fields `body`, `topic`, `key`, `ferry_outbox_id` and the headers | the reply |
//! | `mqtt` | a QoS 1 publish on the topic (dots become `/`); MQTT 3.1.1 has no headers, so no outbox id | the PUBACK |

use crate::store::{OutboxRow, Store, TopicRow};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The types a topic may be sent to.
pub const RELAY_KINDS: [&str; 4] = ["nats", "rabbitmq", "redis", "mqtt"];

/// How long the relay waits for a broker's confirmations.
const CONFIRM_WAIT: Duration = Duration::from_secs(10);

/// The header receivers drop duplicates by.
pub const OUTBOX_ID_HEADER: &str = "Ferry-Outbox-Id";

/// Settings of a publish destination, as `ferry topic set` stores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSettings {
    /// Broker URL, without a password.
    pub url: String,
    /// Secret of the instance holding the URL user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// RabbitMQ: the exchange (must exist); default: the default exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// NATS: the JetStream stream covering the topics (publishes are then
    /// acknowledged); Redis: the stream key (default: the topic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
}

impl DestinationSettings {
    /// Check the settings for `kind`: a known type, the URL's scheme, no
    /// password in the URL.
    pub fn check(&self, kind: &str) -> Result<(), String> {
        let schemes: &[&str] = match kind {
            "nats" => &["nats", "tls"],
            "rabbitmq" => &["amqp", "amqps"],
            "redis" => &["redis", "rediss"],
            "mqtt" => &["mqtt", "tcp"],
            other => {
                return Err(format!(
                    "unknown topic type `{other}` ({})",
                    RELAY_KINDS.join(", ")
                ));
            }
        };
        crate::service_url::check(&self.url, schemes).map_err(|e| format!("type {kind}: {e}"))?;
        if self.exchange.is_some() && kind != "rabbitmq" {
            return Err("`--exchange` applies to type rabbitmq only".into());
        }
        if self.stream.is_some() && !matches!(kind, "nats" | "redis") {
            return Err("`--stream` applies to types nats and redis only".into());
        }
        Ok(())
    }
}

/// An open connection to a destination.
pub enum Destination {
    /// NATS (JetStream when a stream is set).
    Nats {
        /// The connection.
        client: async_nats::Client,
        /// JetStream, with the acks of what was sent since the last flush.
        jetstream: Option<(
            async_nats::jetstream::Context,
            Vec<async_nats::jetstream::context::PublishAckFuture>,
        )>,
    },
    /// RabbitMQ, with publisher confirms.
    Rabbitmq {
        /// The connection (kept open with the channel).
        connection: lapin::Connection,
        /// The channel, in confirm mode.
        channel: lapin::Channel,
        /// The exchange.
        exchange: String,
        /// Confirms of what was sent since the last flush.
        confirms: Vec<lapin::PublisherConfirm>,
    },
    /// A Redis stream.
    Redis {
        /// The connection.
        connection: ::redis::aio::MultiplexedConnection,
        /// The stream key, when one is set for every topic.
        stream: Option<String>,
    },
    /// MQTT, QoS 1.
    Mqtt {
        /// The client.
        client: rumqttc::AsyncClient,
        /// PUBACKs as the event loop receives them (or its error).
        acks: tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
        /// Publishes not acknowledged yet.
        pending: usize,
    },
}

impl Destination {
    /// Connect to `topic`'s destination.
    pub async fn connect(
        store: &Store,
        key_file: Option<&std::path::Path>,
        topic: &TopicRow,
    ) -> Result<Destination, String> {
        let settings: DestinationSettings =
            serde_json::from_value(serde_json::Value::Object(topic.config.clone()))
                .map_err(|e| format!("settings of topic `{}`: {e}", topic.topic))?;
        let password = match &settings.password_secret {
            Some(name) => Some(
                crate::secrets::open_one(store, key_file, &topic.instance, name)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!(
                            "secret `{name}` of `{}` is not set (`ferry secret set {} {name}`)",
                            topic.instance, topic.instance
                        )
                    })?,
            ),
            None => None,
        };
        let url = crate::service_url::with_password(&settings.url, password.as_deref());
        let at = |e: &dyn std::fmt::Display| {
            format!("connect to {} ({}): {e}", topic.kind, settings.url)
        };
        match topic.kind.as_str() {
            "nats" => {
                let client = async_nats::connect(url.as_str())
                    .await
                    .map_err(|e| at(&e))?;
                let jetstream = settings
                    .stream
                    .as_ref()
                    .map(|_| (async_nats::jetstream::new(client.clone()), Vec::new()));
                Ok(Destination::Nats { client, jetstream })
            }
            "rabbitmq" => {
                use lapin::options::ConfirmSelectOptions;
                let connection =
                    lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
                        .await
                        .map_err(|e| at(&e))?;
                let channel = connection.create_channel().await.map_err(|e| at(&e))?;
                channel
                    .confirm_select(ConfirmSelectOptions::default())
                    .await
                    .map_err(|e| at(&e))?;
                Ok(Destination::Rabbitmq {
                    connection,
                    channel,
                    exchange: settings.exchange.clone().unwrap_or_default(),
                    confirms: Vec::new(),
                })
            }
            "redis" => {
                let client = ::redis::Client::open(url.as_str()).map_err(|e| at(&e))?;
                let connection = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| at(&e))?;
                Ok(Destination::Redis {
                    connection,
                    stream: settings.stream.clone(),
                })
            }
            "mqtt" => mqtt(&url, &topic.instance).map_err(|e| at(&e)),
            other => Err(format!("unknown topic type `{other}`")),
        }
    }

    /// Send one message (confirmed by [`Destination::flush`]).
    pub async fn send(&mut self, row: &OutboxRow) -> Result<(), String> {
        let id = row.id.to_string();
        let fail = |e: &dyn std::fmt::Display| {
            format!("send outbox message {} on `{}`: {e}", row.id, row.topic)
        };
        match self {
            Destination::Nats { client, jetstream } => {
                let mut headers = async_nats::HeaderMap::new();
                for (k, v) in &row.headers {
                    headers.insert(k.as_str(), v.as_str());
                }
                headers.insert(OUTBOX_ID_HEADER, id.as_str());
                if !row.key.is_empty() {
                    headers.insert("Ferry-Key", row.key.as_str());
                }
                match jetstream {
                    Some((context, acks)) => {
                        headers.insert("Nats-Msg-Id", id.as_str());
                        let ack = context
                            .publish_with_headers(
                                row.topic.clone(),
                                headers,
                                row.payload.clone().into(),
                            )
                            .await
                            .map_err(|e| fail(&e))?;
                        acks.push(ack);
                    }
                    None => client
                        .publish_with_headers(
                            row.topic.clone(),
                            headers,
                            row.payload.clone().into(),
                        )
                        .await
                        .map_err(|e| fail(&e))?,
                }
                Ok(())
            }
            Destination::Rabbitmq {
                channel,
                exchange,
                confirms,
                ..
            } => {
                use lapin::types::{AMQPValue, FieldTable, LongString};
                let mut table = FieldTable::default();
                for (k, v) in &row.headers {
                    table.insert(
                        k.as_str().into(),
                        AMQPValue::LongString(LongString::from(v.as_str())),
                    );
                }
                table.insert(
                    OUTBOX_ID_HEADER.into(),
                    AMQPValue::LongString(LongString::from(id.as_str())),
                );
                let properties = lapin::BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_message_id(id.as_str().into())
                    .with_headers(table);
                let confirm = channel
                    .basic_publish(
                        exchange.as_str().into(),
                        row.topic.as_str().into(),
                        lapin::options::BasicPublishOptions::default(),
                        &row.payload,
                        properties,
                    )
                    .await
                    .map_err(|e| fail(&e))?;
                confirms.push(confirm);
                Ok(())
            }
            Destination::Redis { connection, stream } => {
                let key = stream.clone().unwrap_or_else(|| row.topic.clone());
                let mut command = ::redis::cmd("XADD");
                command
                    .arg(&key)
                    .arg("*")
                    .arg("body")
                    .arg(&row.payload)
                    .arg("topic")
                    .arg(&row.topic)
                    .arg("key")
                    .arg(&row.key)
                    .arg("ferry_outbox_id")
                    .arg(&id);
                for (k, v) in &row.headers {
                    command.arg(k).arg(v);
                }
                command
                    .query_async::<String>(connection)
                    .await
                    .map_err(|e| fail(&e))?;
                Ok(())
            }
            Destination::Mqtt {
                client, pending, ..
            } => {
                client
                    .publish(
                        row.topic.replace('.', "/"),
                        rumqttc::QoS::AtLeastOnce,
                        false,
                        row.payload.clone(),
                    )
                    .await
                    .map_err(|e| fail(&e))?;
                *pending += 1;
                Ok(())
            }
        }
    }

    /// Wait until the broker confirmed everything sent so far.
    pub async fn flush(&mut self) -> Result<(), String> {
        let confirmed = async {
            match self {
                Destination::Nats { client, jetstream } => {
                    if let Some((_, acks)) = jetstream {
                        for ack in acks.drain(..) {
                            ack.await
                                .map_err(|e| format!("JetStream refused a message: {e}"))?;
                        }
                    }
                    client.flush().await.map_err(|e| format!("NATS flush: {e}"))
                }
                Destination::Rabbitmq {
                    confirms,
                    connection,
                    ..
                } => {
                    let _ = connection;
                    for confirm in confirms.drain(..) {
                        let confirmation = confirm.await.map_err(|e| format!("RabbitMQ: {e}"))?;
                        if confirmation.is_nack() {
                            return Err("RabbitMQ refused a message (nack)".to_string());
                        }
                    }
                    Ok(())
                }
                Destination::Redis { .. } => Ok(()),
                Destination::Mqtt { acks, pending, .. } => {
                    while *pending > 0 {
                        match acks.recv().await {
                            Some(Ok(())) => *pending -= 1,
                            Some(Err(e)) => return Err(e),
                            None => return Err("the MQTT connection ended".into()),
                        }
                    }
                    Ok(())
                }
            }
        };
        tokio::time::timeout(CONFIRM_WAIT, confirmed)
            .await
            .map_err(|_| format!("no confirmation from the broker within {CONFIRM_WAIT:?}"))?
    }
}

/// An MQTT client whose event loop runs in a task, reporting PUBACKs.
fn mqtt(url: &str, instance: &str) -> Result<Destination, String> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let mut options = MqttOptions::new(
        format!("ferry-relay-{instance}-{:08x}", fastrand::u32(..)),
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(1883),
    );
    if !parsed.username().is_empty() {
        options.set_credentials(parsed.username(), parsed.password().unwrap_or_default());
    }
    options.set_max_packet_size(64 << 20, 64 << 20);
    let (client, mut events) = AsyncClient::new(options, 1000);
    let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    if tx.send(Ok(())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(format!("MQTT: {e}")));
                    return;
                }
            }
        }
    });
    Ok(Destination::Mqtt {
        client,
        acks,
        pending: 0,
    })
}
