//! Publishers for the brokers of this machine, as the systems Ferry listens to
//! would publish: what the source tests and the sources benchmark send. Each
//! waits until the broker has accepted every message (publisher confirms,
//! JetStream acks, MQTT PUBACKs, a committed insert), so a test that counts
//! jobs afterwards counts against messages that really are at the broker.

use anyhow::{Context as _, Result, bail};
use ferry::triggers::sources::{SourceKind, SourceSettings};

/// One message to publish.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The body.
    pub body: Vec<u8>,
    /// Its content type, where the protocol carries one (AMQP property, NATS
    /// and Redis `content_type` header/field, the table's column).
    pub content_type: Option<String>,
    /// A message id, where the protocol carries one (AMQP `message_id`,
    /// `Nats-Msg-Id`); otherwise the broker's own.
    pub id: Option<String>,
}

impl Outgoing {
    /// A message with `body` and nothing else.
    pub fn body(body: impl Into<Vec<u8>>) -> Outgoing {
        Outgoing {
            body: body.into(),
            ..Default::default()
        }
    }
}

/// Publish `messages` where a source of `kind` with `settings` reads them:
/// `subject` is the routing key (RabbitMQ with an exchange), the subject
/// (NATS) or the topic (MQTT); Redis and PostgreSQL use the stream and table
/// of the settings.
pub async fn publish(
    kind: SourceKind,
    settings: &SourceSettings,
    subject: &str,
    messages: &[Outgoing],
) -> Result<()> {
    match kind {
        SourceKind::Rabbitmq => rabbitmq(settings, subject, messages).await,
        SourceKind::Nats => nats(settings, subject, messages).await,
        SourceKind::Mqtt => mqtt(settings, subject, messages).await,
        SourceKind::Redis => redis(settings, messages).await,
        SourceKind::Postgres => postgres(settings, messages).await,
    }
    .with_context(|| format!("publishing {} messages on {kind}", messages.len()))
}

async fn rabbitmq(settings: &SourceSettings, subject: &str, messages: &[Outgoing]) -> Result<()> {
    use lapin::options::{
        BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
        QueueDeclareOptions,
    };
    use lapin::types::FieldTable;
    use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
    let connection = Connection::connect(&settings.url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    // Declared as the source declares them, so that nothing published before
    // the source first connects is dropped.
    let queue = settings
        .queue
        .clone()
        .context("a rabbitmq source has a queue")?;
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await?;
    let (exchange, routing_key) = match &settings.exchange {
        Some(exchange) => {
            let kind = match settings.exchange_type.as_deref().unwrap_or("topic") {
                "direct" => ExchangeKind::Direct,
                "fanout" => ExchangeKind::Fanout,
                "headers" => ExchangeKind::Headers,
                _ => ExchangeKind::Topic,
            };
            channel
                .exchange_declare(
                    exchange.as_str().into(),
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
                    queue.as_str().into(),
                    exchange.as_str().into(),
                    settings.routing_key.as_deref().unwrap_or("#").into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            (exchange.clone(), subject.to_string())
        }
        None => (String::new(), queue),
    };
    let mut confirms = Vec::with_capacity(messages.len());
    for message in messages {
        let mut properties = BasicProperties::default().with_delivery_mode(2);
        if let Some(content_type) = &message.content_type {
            properties = properties.with_content_type(content_type.as_str().into());
        }
        if let Some(id) = &message.id {
            properties = properties.with_message_id(id.as_str().into());
        }
        confirms.push(
            channel
                .basic_publish(
                    exchange.as_str().into(),
                    routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &message.body,
                    properties,
                )
                .await?,
        );
    }
    for confirm in confirms {
        if !confirm.await?.is_ack() {
            bail!("RabbitMQ refused a message (nack)");
        }
    }
    connection.close(200, "done".into()).await?;
    Ok(())
}

async fn nats(settings: &SourceSettings, subject: &str, messages: &[Outgoing]) -> Result<()> {
    let client = async_nats::connect(settings.url.as_str()).await?;
    let jetstream = async_nats::jetstream::new(client);
    if let Some(stream) = &settings.stream {
        jetstream
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![settings.subject.clone().unwrap_or_else(|| subject.into())],
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("stream `{stream}`: {e}"))?;
    }
    let mut acks = Vec::with_capacity(messages.len());
    for message in messages {
        let mut headers = async_nats::HeaderMap::new();
        if let Some(content_type) = &message.content_type {
            headers.insert("Content-Type", content_type.as_str());
        }
        if let Some(id) = &message.id {
            headers.insert("Nats-Msg-Id", id.as_str());
        }
        acks.push(
            jetstream
                .publish_with_headers(subject.to_string(), headers, message.body.clone().into())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    for ack in acks {
        ack.await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

async fn mqtt(settings: &SourceSettings, subject: &str, messages: &[Outgoing]) -> Result<()> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing as Out, Packet, QoS};
    let url = url::Url::parse(&settings.url)?;
    let client_id = format!("ferry-test-publisher-{}", fastrand::u64(..));
    let mut options = MqttOptions::new(
        client_id,
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(1883),
    );
    options.set_max_packet_size(16 << 20, 16 << 20);
    options.set_keep_alive(std::time::Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(options, 1000);
    let expected = messages.len();
    let acks = tokio::spawn(async move {
        let mut acked = 0;
        while acked < expected {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                Ok(Event::Outgoing(Out::Disconnect)) => break,
                Ok(_) => {}
                Err(e) => return Err(anyhow::anyhow!("MQTT: {e}")),
            }
        }
        Ok(acked)
    });
    for message in messages {
        client
            .publish(subject, QoS::AtLeastOnce, false, message.body.clone())
            .await?;
    }
    let acked = acks.await??;
    let _ = client.disconnect().await;
    anyhow::ensure!(acked == expected, "{acked} of {expected} acknowledged");
    Ok(())
}

async fn redis(settings: &SourceSettings, messages: &[Outgoing]) -> Result<()> {
    let stream = settings
        .stream
        .clone()
        .context("a redis source has a stream")?;
    let client = ::redis::Client::open(settings.url.as_str())?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    for chunk in messages.chunks(1000) {
        let mut pipe = ::redis::pipe();
        for message in chunk {
            let command = pipe.cmd("XADD").arg(&stream).arg("*");
            command.arg("body").arg(&message.body);
            if let Some(content_type) = &message.content_type {
                command.arg("content_type").arg(content_type);
            }
            command.ignore();
        }
        pipe.query_async::<()>(&mut connection).await?;
    }
    Ok(())
}

/// The table a `postgres` source drains, as its type documents it.
pub async fn create_source_table(url: &str, table: &str) -> Result<()> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL, \
         content_type TEXT, headers JSONB)"
    ))
    .execute(&mut connection)
    .await?;
    Ok(())
}

async fn postgres(settings: &SourceSettings, messages: &[Outgoing]) -> Result<()> {
    use sqlx::Connection;
    let table = settings
        .table
        .clone()
        .context("a postgres source has a table")?;
    let mut connection = sqlx::PgConnection::connect(&settings.url).await?;
    for chunk in messages.chunks(1000) {
        let bodies: Vec<Vec<u8>> = chunk.iter().map(|m| m.body.clone()).collect();
        let types: Vec<Option<String>> = chunk.iter().map(|m| m.content_type.clone()).collect();
        let mut tx = connection.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO {table} (body, content_type) SELECT * FROM UNNEST($1::bytea[], $2::text[])"
        ))
        .bind(&bodies)
        .bind(&types)
        .execute(&mut *tx)
        .await?;
        if let Some(channel) = &settings.channel {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(channel)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
