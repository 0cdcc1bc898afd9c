//! Triggers: what starts work. Each trigger turns something that happened into
//! work for the queue or, for webhooks, a call answered at once:
//!
//! - [`record`]: record events (`record.created` / `record.updated` /
//!   `record.deleted`) and timed conditions on a record's fields, filtered by
//!   model, watched fields and conditions on the values. Their jobs are stored
//!   in the record write's own transaction (see [`crate::events::RecordWriter`]).
//! - [`cron`]: schedules declared by modules (`[[cron]]`), which operators may
//!   change or switch off per backend instance. One scheduler runs across all
//!   the nodes that share a database (a lease), and a schedule never has two
//!   runs in flight.
//! - [`webhook`]: calls of external systems, checked (size, token or HMAC
//!   signature, JSON) before the module answers them.
//! - [`button`]: manual runs with data (`ferry trigger`), always queued.
//! - [`sources`]: messages of a broker (RabbitMQ, NATS, MQTT, a Redis stream,
//!   PostgreSQL), each stored as a job before it is acknowledged.

pub mod background;
pub mod button;
pub mod cron;
pub mod record;
pub mod sources;
pub mod webhook;
