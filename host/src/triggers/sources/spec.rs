//! What an operator gives to bind a listener to a broker: the type and its
//! settings ([`SourceSettings`]), checked before anything is stored.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Default back-pressure limit: pending jobs of the instance past which a
/// source stops taking messages.
pub const DEFAULT_MAX_PENDING: i64 = 10_000;

/// The type of a source: which broker, and how it is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An AMQP 0-9-1 queue (bound to an exchange when one is given).
    Rabbitmq,
    /// A NATS JetStream durable pull consumer.
    Nats,
    /// MQTT topics, QoS 1, persistent session.
    Mqtt,
    /// A Redis stream read through a consumer group.
    Redis,
    /// A PostgreSQL table the source drains (woken by `LISTEN`), or a bare
    /// `LISTEN` channel.
    Postgres,
}

/// Every type, in the order help texts list them.
pub const SOURCE_KINDS: [SourceKind; 5] = [
    SourceKind::Rabbitmq,
    SourceKind::Nats,
    SourceKind::Mqtt,
    SourceKind::Redis,
    SourceKind::Postgres,
];

impl SourceKind {
    /// Its name in commands and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Rabbitmq => "rabbitmq",
            SourceKind::Nats => "nats",
            SourceKind::Mqtt => "mqtt",
            SourceKind::Redis => "redis",
            SourceKind::Postgres => "postgres",
        }
    }

    /// Parse a name, listing the known ones when it is not.
    pub fn parse(text: &str) -> Result<SourceKind> {
        SOURCE_KINDS
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown source type `{text}` (rabbitmq, nats, mqtt, redis, postgres)"
                ))
            })
    }

    /// Whether one node at a time consumes it (a lease, as cron's): true
    /// where the broker has no consumer group to share messages between
    /// nodes (an MQTT persistent session has one client id; a PostgreSQL
    /// `LISTEN` would hand every node every notification).
    pub fn needs_lease(self) -> bool {
        matches!(self, SourceKind::Mqtt | SourceKind::Postgres)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of a source, by type (unused ones stay empty). Stored as a JSON
/// object; a password is never one of them, only the name of the instance's
/// secret that holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    /// Broker URL, without a password: `amqp://user@host:5672/vhost`,
    /// `nats://host:4222`, `mqtt://host:1883`, `redis://host:6379/0`,
    /// `postgres://user@host/db`.
    pub url: String,
    /// Secret of the instance holding the password (or token) of the URL's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// RabbitMQ: exchange the queue is bound to (declared when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// RabbitMQ: type of the exchange: `direct`, `fanout`, `topic`, `headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_type: Option<String>,
    /// RabbitMQ: binding key of the queue to the exchange (`order.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// RabbitMQ: the queue (durable, declared when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// NATS: subject filter (`orders.>`); MQTT: topic filter (`shop/orders/#`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// NATS: JetStream stream (created over `subject` when missing); Redis:
    /// the stream key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// NATS: durable consumer name; Redis: consumer group; MQTT: client id.
    /// Default: `ferry-INSTANCE-LISTENER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<String>,
    /// PostgreSQL: the `LISTEN` channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// PostgreSQL: a table the source drains (`id`, `body`, optional
    /// `content_type` and `headers` columns), woken by `channel` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Messages taken (and their jobs stored) per transaction; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
}

/// Default messages per batch.
pub const DEFAULT_BATCH: u32 = 100;
/// Largest batch.
pub const MAX_BATCH: u32 = 5_000;

impl SourceSettings {
    /// The settings stored as `config`.
    pub fn from_config(config: &Map<String, Value>) -> Result<SourceSettings> {
        serde_json::from_value(Value::Object(config.clone()))
            .map_err(|e| Error::Invalid(format!("stored source settings: {e}")))
    }

    /// As stored.
    pub fn to_config(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Messages per batch.
    pub fn batch(&self) -> usize {
        self.batch.unwrap_or(DEFAULT_BATCH).clamp(1, MAX_BATCH) as usize
    }

    /// The consumer name (durable, group, client id), defaulted from the source.
    pub fn consumer_or(&self, instance: &str, listener: &str) -> String {
        self.consumer
            .clone()
            .unwrap_or_else(|| format!("ferry-{instance}-{listener}"))
    }

    /// Check the settings for `kind`: the URL's scheme, no password in it,
    /// the settings the type needs and none it would ignore.
    pub fn check(&self, kind: SourceKind) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(format!("source of type {kind}: {m}")));
        let schemes: &[&str] = match kind {
            SourceKind::Rabbitmq => &["amqp", "amqps"],
            SourceKind::Nats => &["nats", "tls"],
            SourceKind::Mqtt => &["mqtt", "tcp"],
            SourceKind::Redis => &["redis", "rediss"],
            SourceKind::Postgres => &["postgres", "postgresql"],
        };
        crate::service_url::check(&self.url, schemes)
            .map_err(|e| Error::Invalid(format!("source of type {kind}: {e}")))?;
        if let Some(name) = &self.password_secret {
            crate::secrets::check_name(name)?;
        }
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let (needed, allowed): (&[(&str, bool)], &[&str]) = match kind {
            SourceKind::Rabbitmq => (
                &[("queue", given(&self.queue))],
                &["exchange", "exchange_type", "routing_key", "queue"],
            ),
            SourceKind::Nats => (
                &[("subject", given(&self.subject))],
                &["subject", "stream", "consumer"],
            ),
            SourceKind::Mqtt => (
                &[("subject", given(&self.subject))],
                &["subject", "consumer"],
            ),
            SourceKind::Redis => (&[("stream", given(&self.stream))], &["stream", "consumer"]),
            SourceKind::Postgres => (
                &[(
                    "channel or table",
                    given(&self.channel) || given(&self.table),
                )],
                &["channel", "table"],
            ),
        };
        for (name, present) in needed {
            if !present {
                return bad(format!("`--{}` is required", name.replace('_', "-")));
            }
        }
        let set = [
            ("exchange", given(&self.exchange)),
            ("exchange_type", given(&self.exchange_type)),
            ("routing_key", given(&self.routing_key)),
            ("queue", given(&self.queue)),
            ("subject", given(&self.subject)),
            ("stream", given(&self.stream)),
            ("consumer", given(&self.consumer)),
            ("channel", given(&self.channel)),
            ("table", given(&self.table)),
        ];
        if let Some((name, _)) = set.iter().find(|(n, on)| *on && !allowed.contains(n)) {
            return bad(format!(
                "`--{}` does not apply (it takes: {})",
                name.replace('_', "-"),
                allowed
                    .iter()
                    .map(|a| format!("--{}", a.replace('_', "-")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(t) = &self.exchange_type
            && !["direct", "fanout", "topic", "headers"].contains(&t.as_str())
        {
            return bad(format!(
                "exchange type `{t}`: expected direct, fanout, topic or headers"
            ));
        }
        if given(&self.exchange_type) && !given(&self.exchange) {
            return bad("`--exchange-type` needs `--exchange`".into());
        }
        if let Some(table) = &self.table
            && !table
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return bad(format!(
                "table `{table}`: letters, digits and `_`, optionally `schema.table`"
            ));
        }
        if let Some(channel) = &self.channel
            && !(channel.len() <= 63
                && channel
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return bad(format!(
                "channel `{channel}`: up to 63 letters, digits and `_`"
            ));
        }
        if self.batch.is_some_and(|b| b == 0 || b > MAX_BATCH) {
            return bad(format!("batch: between 1 and {MAX_BATCH}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rabbit() -> SourceSettings {
        SourceSettings {
            url: "amqp://127.0.0.1:5672".into(),
            queue: Some("q".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused_and_the_message_says_what_to_do() {
        let mut s = rabbit();
        s.url = "amqp://guest:guest@127.0.0.1:5672".into();
        let err = s.check(SourceKind::Rabbitmq).unwrap_err().to_string();
        assert!(err.contains("--password-secret"), "{err}");
    }

    #[test]
    fn each_type_names_what_it_needs_and_what_does_not_apply() {
        rabbit().check(SourceKind::Rabbitmq).unwrap();
        let err = SourceSettings {
            url: "nats://127.0.0.1:4222".into(),
            ..Default::default()
        }
        .check(SourceKind::Nats)
        .unwrap_err()
        .to_string();
        assert!(err.contains("`--subject` is required"), "{err}");
        let mut s = rabbit();
        s.table = Some("t".into());
        let err = s.check(SourceKind::Rabbitmq).unwrap_err().to_string();
        assert!(err.contains("`--table` does not apply"), "{err}");
        let err = rabbit().check(SourceKind::Redis).unwrap_err().to_string();
        assert!(err.contains("scheme is `amqp`"), "{err}");
    }

    #[test]
    fn settings_round_trip_through_the_stored_config() {
        let s = rabbit();
        assert_eq!(SourceSettings::from_config(&s.to_config()).unwrap(), s);
        assert_eq!(s.consumer_or("acme", "orders"), "ferry-acme-orders");
    }
}
