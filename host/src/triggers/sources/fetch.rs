//! Collecting a batch from a broker that pushes its messages (an AMQP
//! consumer, an MQTT session): wait a while for a first one, then take those
//! already arrived, without waiting to fill the batch. Shared by the types
//! whose client hands deliveries over as a stream.

use super::feed::Feed;
use futures_util::{Stream, StreamExt};
use std::time::Duration;

/// Longest wait for a first message: the consumer then looks at
/// back-pressure and the broker again even when nothing comes.
pub(crate) const FIRST_WAIT: Duration = Duration::from_secs(1);

/// Wait for each further message of a batch: long enough to take what the
/// client has already buffered, short enough not to hold a batch back.
const NEXT_WAIT: Duration = Duration::from_millis(20);

/// How a wait for a batch ended.
pub(crate) enum Fetched<T, E> {
    /// Up to `max` deliveries (none when nothing came in [`FIRST_WAIT`] or
    /// the source must stop).
    Batch(Vec<T>),
    /// The stream failed (the deliveries of the batch so far are left to
    /// the broker, which delivers them again).
    Failed(E),
    /// The stream ended: the broker (or the client) closed the consumer.
    Ended,
}

/// Up to `max` deliveries of `stream`: the first waited for at most
/// [`FIRST_WAIT`] (or until `feed` is cancelled), then those that follow
/// within [`NEXT_WAIT`] of each other.
pub(crate) async fn next_batch<S, T, E>(feed: &Feed, stream: &mut S, max: usize) -> Fetched<T, E>
where
    S: Stream<Item = Result<T, E>> + Unpin,
{
    let first = tokio::select! {
        _ = feed.cancelled() => return Fetched::Batch(Vec::new()),
        first = tokio::time::timeout(FIRST_WAIT, stream.next()) => first,
    };
    let mut batch = match first {
        Err(_elapsed) => return Fetched::Batch(Vec::new()),
        Ok(None) => return Fetched::Ended,
        Ok(Some(Err(e))) => return Fetched::Failed(e),
        Ok(Some(Ok(delivery))) => vec![delivery],
    };
    while batch.len() < max {
        match tokio::time::timeout(NEXT_WAIT, stream.next()).await {
            Err(_elapsed) => break,
            Ok(None) => return Fetched::Ended,
            Ok(Some(Err(e))) => return Fetched::Failed(e),
            Ok(Some(Ok(delivery))) => batch.push(delivery),
        }
    }
    Fetched::Batch(batch)
}
