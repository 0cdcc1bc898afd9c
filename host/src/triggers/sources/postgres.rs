//! Type `postgres`: not written yet.

use super::feed::{Feed, SourceError};

/// Consume the source until `feed.cancelled()`.
pub(crate) async fn consume(feed: &Feed) -> Result<(), SourceError> {
    let _ = feed;
    Err(SourceError::Broker(
        "source type `postgres` is not built yet".into(),
    ))
}
