//! Bulk actions through [`Admin`]: requeue or cancel every job a filter
//! matches (`POST /api/jobs/bulk/{action}`, and the console through it),
//! one job at a time through the same operation as [`Admin::act`], so that
//! a bulk action does exactly what acting on each job would.

use super::Admin;
use super::types::JobAction;
use super::views::{BulkOutcome, MAX_BULK, Skipped};
use crate::Ferry;
use crate::error::{Error, Result};
use crate::store::JobFilter;

impl Admin {
    /// Requeue or cancel every job `filter` matches (its `limit` aside; at
    /// most [`MAX_BULK`], a filter that matches more is refused so that
    /// nobody acts on a set they did not mean). Jobs whose state forbids the
    /// action are skipped with the reason.
    pub async fn act_many(&self, filter: &JobFilter, action: JobAction) -> Result<BulkOutcome> {
        match self {
            Admin::Local(ferry) => act_many(ferry, filter, action).await,
            Admin::Remote(r) => {
                r.post(&["api", "jobs", "bulk", action.as_str()], filter)
                    .await
            }
        }
    }
}

async fn act_many(ferry: &Ferry, filter: &JobFilter, action: JobAction) -> Result<BulkOutcome> {
    if !matches!(action, JobAction::Requeue | JobAction::Cancel) {
        return Err(Error::Invalid(format!(
            "bulk action `{}`: only requeue and cancel act on many jobs at once",
            action.as_str()
        )));
    }
    let ids = ferry.store().job_ids(filter, MAX_BULK + 1).await?;
    if ids.len() > MAX_BULK as usize {
        return Err(Error::Invalid(format!(
            "the filter matches more than {MAX_BULK} jobs: narrow it (by state, instance, \
             name, trigger, since/until) and act in parts"
        )));
    }
    let mut outcome = BulkOutcome {
        action,
        matched: ids.len(),
        acted: Vec::new(),
        skipped: Vec::new(),
    };
    for id in ids {
        match super::local::act(ferry, id, action).await {
            Ok(_) => outcome.acted.push(id),
            Err(e @ (Error::Conflict(_) | Error::NotFound { .. })) => {
                outcome.skipped.push(Skipped {
                    id,
                    reason: e.to_string(),
                })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(outcome)
}
