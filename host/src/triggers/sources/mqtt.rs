//! Type `mqtt`: QoS 1 subscriptions of a persistent MQTT 3.1.1 session.
//!
//! - **Setup**: the client connects with `clean_session = false` and the
//!   client id [`Feed::consumer_name`], and subscribes to `subject` (a topic
//!   filter) at QoS 1 on each connection. The broker keeps the session, and
//!   the messages of its subscriptions, while no node is connected.
//! - **Message id**: MQTT 3.1.1 carries no stable message id (the packet id
//!   is reused), so the id is a hash of topic and body
//!   ([`Message::content_id`]): a publisher that sends the same body twice
//!   on the same topic gets ONE job. Put something unique in the body (an
//!   id, a timestamp) when repeats must each become a job.
//! - **Content type**: MQTT 3.1.1 carries none; the listener's first content
//!   type is assumed. No headers either.
//! - **Ack**: a `PUBACK` for each message of the batch after
//!   [`Feed::take`] stored it (manual acks). A message not acked when the
//!   connection ends is sent again by the broker to the next connection with
//!   the same client id (after a `kill -9` too); its id is found and nothing
//!   is stored twice. A retained message sent again on a new subscription is
//!   found the same way.
//! - **Nodes**: one client id means one consumer: the runner lets the node
//!   holding the source's lease consume.
//! - **Lag**: MQTT does not tell how many messages wait; none is reported.
//! - **Size**: the client takes packets up to the protocol's limit (256 MB),
//!   so that a message larger than the listener's `max_bytes` arrives and
//!   becomes a dead letter rather than breaking the connection again and
//!   again; the broker's own limit (Mosquitto's `message_size_limit`) applies
//!   before.

use super::feed::{Feed, SourceError};
use super::fetch::{Fetched, next_batch};
use super::ingest::Message;
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeReasonCode,
};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// Largest MQTT packet: a remaining length of 268 435 455 bytes plus its
/// fixed header.
const MAX_PACKET: usize = 268_435_455 + 5;
/// Largest packet sent (subscriptions, acks).
const MAX_OUTGOING: usize = 1 << 20;
/// Keep-alive: a dead connection is noticed within 1.5 times this.
const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// Requests (acks) queued for the event loop.
const REQUESTS: usize = 1_000;
/// Messages received and not yet taken. Mosquitto sends at most
/// `max_inflight_messages` (20) unacked ones, so this is rarely reached;
/// when it is, polling waits (and the broker may drop the connection, which
/// is reconnected).
const RECEIVED: usize = 10_000;
/// How long flushing the acks and disconnecting may take when stopping.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let topic = feed.settings.subject.clone().unwrap_or_default();
    let place = format!("topic `{topic}` at {}", feed.settings.url);
    let (client, eventloop) = AsyncClient::new(options(feed)?, REQUESTS);
    client
        .subscribe(topic.clone(), QoS::AtLeastOnce)
        .await
        .map_err(|e| SourceError::broker(&format!("subscribe to {place}"), e))?;
    let (tx, mut rx) = mpsc::channel(RECEIVED);
    let mut poller = tokio::spawn(poll(eventloop, tx));
    let mut publishes = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let outcome = take_batches(feed, &client, &mut publishes, &place).await;
    if outcome.is_ok() {
        // Send the acks still queued, then leave: the session stays.
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(CLOSE_WAIT, &mut poller).await;
    }
    poller.abort();
    outcome
}

/// The client's options: persistent session, manual acks, large packets,
/// the URL's user with the source's password.
fn options(feed: &Feed) -> Result<MqttOptions, SourceError> {
    let bad =
        |why: String| SourceError::Broker(format!("source URL `{}`: {why}", feed.settings.url));
    let url = url::Url::parse(&feed.settings.url).map_err(|e| bad(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| bad("no host (mqtt://HOST:PORT)".into()))?;
    let client_id = feed.consumer_name();
    if client_id.is_empty() {
        return Err(bad("the client id (`consumer`) is empty".into()));
    }
    let mut options = MqttOptions::new(client_id, host, url.port().unwrap_or(1883));
    options
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(KEEP_ALIVE)
        .set_max_packet_size(MAX_PACKET, MAX_OUTGOING);
    let user = url::form_urlencoded::parse(url.username().as_bytes())
        .map(|(k, v)| format!("{k}{v}"))
        .collect::<String>();
    if !user.is_empty() || feed.password.is_some() {
        options.set_credentials(user, feed.password.clone().unwrap_or_default());
    }
    Ok(options)
}

/// Take batches from `publishes` and ack them, until the feed stops or the
/// connection fails.
async fn take_batches<S>(
    feed: &Feed,
    client: &AsyncClient,
    publishes: &mut S,
    place: &str,
) -> Result<(), SourceError>
where
    S: futures_util::Stream<Item = Result<Publish, String>> + Unpin,
{
    loop {
        if !feed.ready().await {
            return Ok(());
        }
        let batch = match next_batch(feed, publishes, feed.batch_size()).await {
            Fetched::Batch(batch) => batch,
            Fetched::Failed(e) => {
                return Err(SourceError::broker(
                    &format!("connect to the MQTT broker and receive from {place}"),
                    e,
                ));
            }
            Fetched::Ended => {
                return Err(SourceError::Broker(format!(
                    "the MQTT connection ended ({place})"
                )));
            }
        };
        if batch.is_empty() {
            continue;
        }
        let messages: Vec<Message> = batch.iter().map(message_of).collect();
        feed.take(&messages).await?;
        for publish in &batch {
            client
                .ack(publish)
                .await
                .map_err(|e| SourceError::broker(&format!("acknowledge ({place})"), e))?;
        }
    }
}

/// Poll the event loop, handing publishes (and the first failure) over.
async fn poll(mut eventloop: EventLoop, tx: mpsc::Sender<Result<Publish, String>>) {
    loop {
        let event = tokio::select! {
            _ = tx.closed() => return,
            event = eventloop.poll() => event,
        };
        let item = match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => Ok(publish),
            Ok(Event::Incoming(Packet::SubAck(ack)))
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure)) =>
            {
                Err("the broker refused the subscription (may the user read that topic?)".into())
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => continue,
            Err(e) => Err(e.to_string()),
        };
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// The message a publish carries.
fn message_of(publish: &Publish) -> Message {
    Message {
        id: Message::content_id(&publish.topic, &publish.payload),
        subject: publish.topic.clone(),
        content_type: None,
        headers: BTreeMap::new(),
        body: publish.payload.to_vec(),
    }
}
