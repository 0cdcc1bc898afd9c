//! `ferry:connector/messaging`: messages a connector publishes to topics.
//!
//! A module may publish only to the topics its manifest grants
//! (`[capabilities] publish = ["order.*"]`, patterns of
//! [`crate::manifest::TopicPattern`]): deny by default, and the refusal names
//! the manifest key to add.
//!
//! In a job, `publish` is staged in the run (shared by the instances of
//! every module the run calls) and handed to the queue with the job's
//! outcome, like [`super::cursors`]: the messages are written to the outbox
//! in the transaction that marks the job done (or commits the step's chunk),
//! fenced by the claim's lease, and a failed try drops them. Outside a job
//! (a webhook, a unit called from the CLI) they are written at once. The
//! relay ([`crate::outbox`]) sends them after the commit.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::wit::{WitResult, denied, final_error};
use crate::bindings::{messaging, types};
use crate::engine::config::EngineConfig;
use crate::manifest::TopicPattern;
use crate::store::{OutboxWrite, Store};
use std::sync::{Arc, Mutex};
use wasmtime::component::Linker;

/// Messages one run may publish: past it a run is not notifying but
/// streaming data, which belongs in a step (its chunks commit as they go).
pub const MAX_MESSAGES_PER_RUN: usize = 10_000;
/// Bytes (payloads, keys and headers) one run may publish.
pub const MAX_BYTES_PER_RUN: usize = 64 << 20;
/// Headers one message may carry.
pub const MAX_HEADERS: usize = 64;
/// Longest ordering key, in bytes.
pub const MAX_KEY_BYTES: usize = 255;
/// The header the relay sets to the outbox id: receivers drop duplicates by
/// it, so a guest cannot set it.
pub const OUTBOX_ID_HEADER: &str = "Ferry-Outbox-Id";

/// Messaging of the backend instance.
pub struct Messaging;

/// The messages a job's run published, in order.
#[derive(Debug, Default)]
pub struct MessagingRun {
    staged: Mutex<Staged>,
}

#[derive(Debug, Default)]
struct Staged {
    messages: Vec<OutboxWrite>,
    bytes: usize,
}

impl MessagingRun {
    /// Take the staged messages (the run's outcome commits them, or not).
    pub(crate) fn take(&self) -> Vec<OutboxWrite> {
        let mut staged = self.staged.lock().unwrap_or_else(|p| p.into_inner());
        staged.bytes = 0;
        std::mem::take(&mut staged.messages)
    }
}

/// What one instance may publish, and the run it stages into.
pub struct MessagingState {
    patterns: Vec<TopicPattern>,
    run: Option<Arc<MessagingRun>>,
}

impl Capability for Messaging {
    type Config = ();
    type RunState = MessagingRun;
    type State = MessagingState;

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) -> MessagingRun {
        MessagingRun::default()
    }

    fn state(setup: &mut Setup<'_, Self>) -> MessagingState {
        MessagingState {
            patterns: setup
                .manifest
                .map(|m| m.publish_patterns())
                .unwrap_or_default(),
            run: setup.run.map(|(_, run)| run.clone()),
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        messaging::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

/// Whether `module` may publish to `topic`, or why not.
fn check_grant(patterns: &[TopicPattern], module: &str, topic: &str) -> Result<(), types::Error> {
    crate::manifest::check_topic(topic).map_err(final_error)?;
    if patterns.iter().any(|p| p.matches(topic)) {
        return Ok(());
    }
    Err(denied(format!(
        "module `{module}` may not publish to topic `{topic}`: add it (or a pattern such as \
         `{}`) to `publish` under `[capabilities]` in its connector.toml",
        suggestion(topic)
    )))
}

/// A pattern granting `topic` and its siblings: `order.*` for `order.imported`.
fn suggestion(topic: &str) -> String {
    match topic.rsplit_once('.') {
        Some((parent, _)) => format!("{parent}.*"),
        None => topic.to_string(),
    }
}

/// A header a guest may set: a token name (RFC 9110) and a value without
/// line breaks, not the outbox id.
fn check_headers(headers: &[(String, String)]) -> Result<(), types::Error> {
    if headers.len() > MAX_HEADERS {
        return Err(final_error(format!(
            "{} headers on one message, at most {MAX_HEADERS}",
            headers.len()
        )));
    }
    for (name, value) in headers {
        let token = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(final_error(format!(
                "header name {name:?}: use 1 to 128 letters, digits or `-` (an HTTP token)"
            )));
        }
        if name.eq_ignore_ascii_case(OUTBOX_ID_HEADER) {
            return Err(final_error(format!(
                "header `{OUTBOX_ID_HEADER}` is set by the relay (the outbox id receivers \
                 drop duplicates by); name yours otherwise"
            )));
        }
        if value.contains(['\r', '\n', '\0']) || value.len() > 4096 {
            return Err(final_error(format!(
                "header `{name}`: a value has no line breaks or NUL and at most 4096 bytes"
            )));
        }
    }
    Ok(())
}

impl messaging::Host for View<'_, Messaging> {
    async fn publish(
        &mut self,
        topic: String,
        key: Option<String>,
        payload: Vec<u8>,
        headers: Vec<(String, String)>,
    ) -> WitResult<()> {
        let granted = check_grant(&self.state.patterns, self.module(), &topic);
        let staged = self.state.run.clone();
        self.with_run(async move |run| {
            granted?;
            check_headers(&headers)?;
            let max = run.limits().max_payload_bytes.as_u64();
            if payload.len() as u64 > max {
                return Err(final_error(format!(
                    "a message to `{topic}` of {} bytes is over max_payload_bytes ({max})",
                    payload.len()
                )));
            }
            let key = key.unwrap_or_else(|| topic.clone());
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(final_error(format!(
                    "message key of {} bytes: use 1 to {MAX_KEY_BYTES} (or none: the topic)",
                    key.len()
                )));
            }
            let message = OutboxWrite {
                instance: run.instance.name.clone(),
                topic,
                key,
                payload,
                headers,
            };
            let (Some(job), Some(staged)) = (&run.job, staged) else {
                run.store.add_outbox(&[message]).await?;
                return Ok(());
            };
            let size = message_size(&message);
            let mut staged = staged.staged.lock().unwrap_or_else(|p| p.into_inner());
            if staged.messages.len() >= MAX_MESSAGES_PER_RUN {
                return Err(final_error(format!(
                    "job {} already published {MAX_MESSAGES_PER_RUN} messages, the most one run \
                     may publish (split the work into steps or more jobs)",
                    job.id
                )));
            }
            if staged.bytes + size > MAX_BYTES_PER_RUN {
                return Err(final_error(format!(
                    "job {} would publish more than {} MiB in one run, the most one run may \
                     (split the work into steps or more jobs)",
                    job.id,
                    MAX_BYTES_PER_RUN >> 20
                )));
            }
            staged.bytes += size;
            staged.messages.push(message);
            Ok(())
        })
        .await
    }
}

fn message_size(m: &OutboxWrite) -> usize {
    m.payload.len()
        + m.key.len()
        + m.topic.len()
        + m.headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::{check_grant, check_headers};
    use crate::manifest::TopicPattern;

    #[test]
    fn unlisted_topics_are_denied_naming_the_manifest_key() {
        let patterns = vec![TopicPattern::parse("order.*").unwrap()];
        assert!(check_grant(&patterns, "shop", "order.imported").is_ok());
        let err = check_grant(&patterns, "shop", "customer.created").unwrap_err();
        assert!(
            err.message.contains("`publish` under `[capabilities]`")
                && err.message.contains("customer.*"),
            "{}",
            err.message
        );
        assert!(check_grant(&[], "shop", "order.imported").is_err());
        assert!(check_grant(&patterns, "shop", "order.*").is_err());
    }

    #[test]
    fn the_outbox_id_header_is_the_relays() {
        assert!(check_headers(&[("x-trace".into(), "1".into())]).is_ok());
        assert!(check_headers(&[("ferry-outbox-id".into(), "1".into())]).is_err());
        assert!(check_headers(&[("bad name".into(), "1".into())]).is_err());
        assert!(check_headers(&[("x".into(), "a\nb".into())]).is_err());
    }
}
