//! Automatic retention: while a worker runs, it forgets on its own what is
//! older than its retention (finished jobs with their logs and steps,
//! transmissions, sent outbox messages), now and then, in small batches, so
//! that the queue's tables stay the size of the recent past.
//!
//! Every worker of a database does it; two at once only find less to delete.

use crate::store::{Store, now_ms};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a worker prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Rows per table and transaction: small, so that a prune of a long history
/// never holds the database from the worker's own claims for long.
const BATCH: u32 = 1_000;

/// Pause between two batches of a long prune.
const PAUSE: Duration = Duration::from_millis(20);

/// Prune what is older than `retention` at once, then every
/// [`PRUNE_INTERVAL`], until `stop`.
pub(super) async fn prune_periodically(store: Store, retention: Duration, stop: CancellationToken) {
    let age_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        let pruned = tokio::select! {
            _ = stop.cancelled() => return,
            pruned = store.prune_before(now_ms().saturating_sub(age_ms), BATCH, PAUSE) => pruned,
        };
        match pruned {
            Ok(p) if p.is_empty() => {}
            Ok(p) => tracing::info!(
                jobs = p.jobs,
                log_lines = p.log_lines,
                step_rows = p.step_rows,
                transmissions = p.transmissions,
                outbox = p.outbox,
                "retention: forgot what is older than {}s",
                retention.as_secs()
            ),
            Err(e) => tracing::warn!("retention: could not prune old jobs: {e}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(PRUNE_INTERVAL) => {}
        }
    }
}
