//! Forgetting old history through [`Admin`]: finished jobs with their logs
//! and steps, transmissions and sent outbox messages older than an age
//! (`ferry jobs prune --older-than 30d`, `POST /api/jobs/prune`). Workers do
//! the same on their own with their retention (`--job-retention`); this is
//! the operator's way to do it now, or to see first what it would forget.

use super::Admin;
use super::views::{JOBS_PRUNE, MIN_PRUNE_AGE, PruneOutcome, PruneRequest};
use crate::Ferry;
use crate::audit;
use crate::error::{Error, Result};
use crate::store::{MAX_PRUNE_BATCH, now_ms};
use std::time::Duration;

impl Admin {
    /// Forget the history older than the request's age, or count it (dry run).
    pub async fn prune(&self, request: &PruneRequest, actor: &str) -> Result<PruneOutcome> {
        match self {
            Admin::Local(ferry) => prune(ferry, request, actor).await,
            Admin::Remote(r) => r.post(&["api", "jobs", "prune"], request).await,
        }
    }
}

async fn prune(ferry: &Ferry, request: &PruneRequest, actor: &str) -> Result<PruneOutcome> {
    let age = Duration::from_millis(request.older_than_ms);
    if age < MIN_PRUNE_AGE {
        return Err(Error::Invalid(format!(
            "older than {}s: a prune forgets only what is at least an hour old (e.g. 30d)",
            age.as_secs()
        )));
    }
    let before = now_ms().saturating_sub(i64::try_from(request.older_than_ms).unwrap_or(i64::MAX));
    let store = ferry.store();
    let pruned = if request.dry_run {
        store.prunable_before(before).await?
    } else {
        // Short pauses between batches: a worker's claims and outcomes get
        // their turn at the database while a large history goes.
        let pruned = store
            .prune_before(before, MAX_PRUNE_BATCH, Duration::from_millis(5))
            .await?;
        let mut entry = audit::entry(actor, JOBS_PRUNE, "", "jobs");
        entry.detail = Some(serde_json::to_string(&PruneOutcome {
            before,
            dry_run: false,
            pruned,
        })?);
        audit::record(store, &entry).await?;
        pruned
    };
    Ok(PruneOutcome {
        before,
        dry_run: request.dry_run,
        pruned,
    })
}
