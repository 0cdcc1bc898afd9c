//! The outbox relay: sends what guests published (`ferry:connector/messaging`)
//! to the brokers operators set for each instance's topics.
//!
//! A message a job publishes is written to the `outbox` table in the
//! transaction that marks the job done (see [`crate::capabilities::messaging`]),
//! so a failed job publishes nothing and a committed one is never lost. This
//! relay then reads each instance's unsent messages **in id order**, sends
//! each to the destination whose pattern matches its topic most specifically
//! (`ferry topic set acme 'order.*' --type nats --url nats://…`), and marks it
//! sent once the broker confirmed it. At the first message it cannot send
//! (no destination, a broker down), it records why and stops that instance
//! until the next pass: later messages never overtake an earlier one, so the
//! order is kept for every key.
//!
//! Delivery is **at least once**: a process that dies after the broker
//! confirmed a message and before it is marked sent sends it again. Every
//! message carries the header `Ferry-Outbox-Id` (and, on NATS, `Nats-Msg-Id`
//! with the same value, which JetStream deduplicates by; on RabbitMQ the
//! `message_id`): receivers drop duplicates by it.
//!
//! One node relays an instance at a time (a lease `relay:INSTANCE`, as cron).

mod destination;
pub mod topics;

pub use destination::{Destination, DestinationSettings, OUTBOX_ID_HEADER, RELAY_KINDS};
pub use topics::TopicSpec;

use crate::manifest::TopicPattern;
use crate::store::{OutboxRow, Store, TopicRow, now_ms};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the relay looks for unsent messages.
const PASS_EVERY: Duration = Duration::from_millis(200);
/// Messages read per instance per round.
const BATCH: i64 = 500;
/// A relay lease lasts this long without renewal.
const LEASE_TTL: Duration = Duration::from_secs(10);
/// Wait after a failed send before the instance is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Relay every instance's outbox from node `node` until `cancel`.
pub async fn run(
    store: Store,
    node: String,
    key_file: Option<std::path::PathBuf>,
    cancel: CancellationToken,
) {
    let mut relay = Relay {
        store,
        node,
        key_file,
        connections: HashMap::new(),
        failed_until: HashMap::new(),
        leased: HashSet::new(),
    };
    loop {
        if let Err(e) = relay.pass().await {
            tracing::warn!("outbox relay: {e}");
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(PASS_EVERY) => {}
        }
    }
    for instance in &relay.leased {
        let _ = relay
            .store
            .release_lease(&lease_name(instance), &relay.node)
            .await;
    }
}

fn lease_name(instance: &str) -> String {
    format!("relay:{instance}")
}

struct Relay {
    store: Store,
    node: String,
    key_file: Option<std::path::PathBuf>,
    /// Open connections by destination (instance and topic pattern).
    connections: HashMap<(String, String), (TopicRow, Destination)>,
    /// Instances whose last send failed, and when to try again (ms).
    failed_until: HashMap<String, i64>,
    /// Instances whose lease this node took.
    leased: HashSet<String>,
}

impl Relay {
    /// One look at every instance with unsent messages.
    async fn pass(&mut self) -> crate::error::Result<()> {
        for instance in self.store.instances_with_unsent_outbox().await? {
            if self
                .failed_until
                .get(&instance)
                .is_some_and(|t| *t > now_ms())
            {
                continue;
            }
            let held = self
                .store
                .acquire_lease(
                    &lease_name(&instance),
                    &self.node,
                    LEASE_TTL.as_millis() as i64,
                    now_ms(),
                )
                .await?;
            if !held {
                continue;
            }
            self.leased.insert(instance.clone());
            match self.relay_instance(&instance).await {
                Ok(()) => {
                    self.failed_until.remove(&instance);
                }
                Err((id, error)) => {
                    tracing::warn!(instance, outbox_id = id, "outbox relay: {error}");
                    self.store.mark_outbox_failed(id, &error).await?;
                    self.failed_until
                        .insert(instance, now_ms() + RETRY_AFTER.as_millis() as i64);
                }
            }
        }
        Ok(())
    }

    /// Send `instance`'s unsent messages in order until none is left or one
    /// fails (its id and why).
    async fn relay_instance(&mut self, instance: &str) -> Result<(), (i64, String)> {
        loop {
            let rows = self
                .store
                .unsent_outbox(instance, BATCH)
                .await
                .map_err(|e| (0, e.to_string()))?;
            if rows.is_empty() {
                return Ok(());
            }
            let topics = self
                .store
                .topics(Some(instance))
                .await
                .map_err(|e| (rows[0].id, e.to_string()))?;
            let mut sent = Vec::with_capacity(rows.len());
            let mut failure = None;
            for row in &rows {
                match self.send(row, &topics).await {
                    Ok(()) => sent.push(row.id),
                    Err(e) => {
                        failure = Some((row.id, e));
                        break;
                    }
                }
            }
            if let Err(e) = self.flush(instance).await {
                // Nothing of this round is confirmed: send it all again.
                sent.clear();
                failure = Some((rows[0].id, e));
            }
            self.store
                .mark_outbox_sent(&sent)
                .await
                .map_err(|e| (rows[0].id, e.to_string()))?;
            if let Some(failure) = failure {
                return Err(failure);
            }
        }
    }

    /// Send one message to its destination (connecting when needed).
    async fn send(&mut self, row: &OutboxRow, topics: &[TopicRow]) -> Result<(), String> {
        let topic = destination_of(&row.topic, topics).ok_or_else(|| {
            format!(
                "no broker is set for topic `{}` of `{}`: `ferry topic set {} '{}' --type nats --url nats://…`",
                row.topic, row.instance, row.instance, row.topic
            )
        })?;
        let key = (row.instance.clone(), topic.topic.clone());
        let stale = self
            .connections
            .get(&key)
            .is_some_and(|(set, _)| set.updated_at != topic.updated_at);
        if stale {
            self.connections.remove(&key);
        }
        if !self.connections.contains_key(&key) {
            let destination =
                Destination::connect(&self.store, self.key_file.as_deref(), topic).await?;
            self.connections
                .insert(key.clone(), (topic.clone(), destination));
        }
        let (_, destination) = self.connections.get_mut(&key).expect("inserted above");
        let result = destination.send(row).await;
        if result.is_err() {
            self.connections.remove(&key);
        }
        result
    }

    /// Wait for the brokers' confirmations of what `instance` sent.
    async fn flush(&mut self, instance: &str) -> Result<(), String> {
        let keys: Vec<_> = self
            .connections
            .keys()
            .filter(|(i, _)| i == instance)
            .cloned()
            .collect();
        for key in keys {
            if let Some((_, destination)) = self.connections.get_mut(&key)
                && let Err(e) = destination.flush().await
            {
                self.connections.remove(&key);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The publish destination whose pattern matches `topic` most specifically.
fn destination_of<'a>(topic: &str, topics: &'a [TopicRow]) -> Option<&'a TopicRow> {
    topics
        .iter()
        .filter(|t| !crate::stores::is_store_name(&t.topic))
        .filter_map(|t| TopicPattern::parse(&t.topic).ok().map(|p| (t, p)))
        .filter(|(_, p)| p.matches(topic))
        .max_by_key(|(_, p)| p.specificity())
        .map(|(t, _)| t)
}
