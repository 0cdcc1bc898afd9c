//! Broker sources: messages in, jobs out.
//!
//! A connector declares what it listens for (`[[listener]]`: the job, the
//! message fields it maps, the content types it takes); an operator binds a
//! listener of a backend instance to a broker by type (`ferry source add
//! acme orders --type rabbitmq --url amqp://… --queue q_acme_orders`). As
//! sqAPI's listener topics, the type picks the technology and the rest of the
//! framework does not change:
//!
//! | type | consumed as | shared between nodes by |
//! |---|---|---|
//! | [`rabbitmq`] | a durable queue, bound to an exchange | the queue (competing consumers) |
//! | [`nats`] | a JetStream durable pull consumer | the durable consumer |
//! | [`mqtt`] | QoS 1 subscriptions of a persistent session | a lease (one client id) |
//! | [`redis`] | a stream read by a consumer group | the group |
//! | [`postgres`] | a table drained (woken by `LISTEN`), or a channel | a lease |
//!
//! The guarantees are the queue's: each message is stored as a job, with its
//! message id, in one transaction per batch, and acknowledged at the broker
//! only after that commit ([`Feed::take`]); a redelivery after a crash finds
//! its id and stores nothing ([`crate::store::Store::take_messages`]). A
//! message that cannot become a job (content type, size, not JSON, a required
//! field missing, a payload the job's parameters refuse) becomes a dead
//! letter instead, acknowledged the same way, that operators list and replay
//! ([`replay`]). Back-pressure stops a source while its instance is snoozed
//! or has too many jobs waiting ([`Feed::ready`]); a broker that goes away is
//! reconnected with backoff ([`runner`]).
//!
//! Each type is one module with one function, `consume(&Feed)`: connect,
//! then loop `feed.ready()` → fetch a batch → `feed.take(&batch)` →
//! acknowledge, until `feed.cancelled()`; an `Err` makes the runner
//! reconnect.

mod feed;
mod fetch;
mod ingest;
pub mod listener;
pub mod manage;
pub mod mqtt;
pub mod nats;
pub mod postgres;
pub mod rabbitmq;
pub mod redis;
pub mod replay;
pub mod runner;
mod spec;

pub use feed::{Feed, SourceError};
pub use ingest::{DEAD_LETTER_BODY, Ingest, Message, Taken};
pub use listener::{BoundListener, find as find_listener, listeners};
pub use manage::{SourceSpec, SourceView};
pub use runner::{SourcesConfig, run};
pub use spec::{
    DEFAULT_BATCH, DEFAULT_MAX_PENDING, MAX_BATCH, SOURCE_KINDS, SourceKind, SourceSettings,
};
