//! Trigger bookkeeping: the jobs record events give subscribers (immediate,
//! timed, or the cancellation of a timed one), and the state of cron schedules
//! per backend instance (operators' overrides, last tick handled).

use super::{NewJob, Store, now_ms};
use crate::error::{Error, Result};
use serde::Serialize;
use sqlx::Row;

/// What a record event asks of the queue, stored in the record write's own
/// transaction.
#[derive(Debug, Clone)]
pub enum EventJob {
    /// Store this job.
    Enqueue(NewJob),
    /// A timed job (identity key `BASE@DUE` and eta set, see
    /// [`timed_key`]): it replaces the pending job of the same base (a pending
    /// one for the same due time is updated in place), and is not stored again
    /// if a job for this due time already ran: a timed condition fires once per
    /// due time, however often the record changes.
    Timed(NewJob),
    /// Cancel the pending timed job of this base, if any (the condition no
    /// longer holds).
    CancelTimed {
        /// Backend instance.
        instance: String,
        /// Base of the identity key (see [`timed_key`]).
        base: String,
    },
}

impl From<NewJob> for EventJob {
    fn from(job: NewJob) -> Self {
        EventJob::Enqueue(job)
    }
}

/// The identity key of a timed job: its base (one per subscription and
/// record) and its due time.
pub fn timed_key(base: &str, due: i64) -> String {
    format!("{base}@{due}")
}

/// `base@%` as a LIKE pattern, escaped (`\`) so that `_` and `%` in model or
/// job names match only themselves.
fn base_pattern(base: &str) -> String {
    let mut pattern = String::with_capacity(base.len() + 2);
    for c in base.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("@%");
    pattern
}

async fn cancel_timed_in(
    tx: &mut super::DbConn,
    instance: &str,
    base: &str,
    keep: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1 \
         WHERE instance = $2 AND state = 'pending' AND identity_key LIKE $3 ESCAPE '\\' \
         AND identity_key != COALESCE($4, '')",
    )
    .bind(now_ms())
    .bind(instance)
    .bind(base_pattern(base))
    .bind(keep)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A schedule of one backend instance that an operator changed (`ferry cron set`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CronOverride {
    /// Backend instance.
    pub instance: String,
    /// Name of the schedule (`[[cron]] name`).
    pub name: String,
    /// The schedule to use instead of the manifest's; none: switched off.
    pub schedule: Option<String>,
    /// The profile whose parameters its runs take instead of the manifest's payload.
    pub profile: Option<String>,
    /// When it was set, ms.
    pub updated_at: i64,
}

/// Where a schedule of one backend instance is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CronRun {
    /// Backend instance.
    pub instance: String,
    /// Name of the schedule.
    pub name: String,
    /// Ticks up to this time (ms) are handled.
    pub last_tick: i64,
    /// The last job enqueued.
    pub job_id: Option<i64>,
    /// The tick it was enqueued for, ms.
    pub job_tick: Option<i64>,
    /// The tick of the last run known to have finished done, ms.
    pub done_tick: Option<i64>,
}

impl Store {
    /// Store what a record event asks of the queue, inside the caller's
    /// transaction. Returns the id of the job stored or updated, if any.
    pub(crate) async fn store_event_job_in(
        &self,
        tx: &mut super::DbConn,
        job: &EventJob,
    ) -> Result<Option<i64>> {
        match job {
            EventJob::Enqueue(new) => Ok(Some(self.enqueue_in(tx, new).await?)),
            EventJob::CancelTimed { instance, base } => {
                cancel_timed_in(tx, instance, base, None).await?;
                Ok(None)
            }
            EventJob::Timed(new) => {
                let key = new.identity_key.as_deref().ok_or_else(|| {
                    Error::Invalid(format!("timed job `{}` without identity key", new.name))
                })?;
                let base = key.rsplit_once('@').map_or(key, |(base, _)| base);
                cancel_timed_in(tx, &new.instance, base, Some(key)).await?;
                // Same due time, still pending: give it the record's new values.
                let updated: Option<i64> = sqlx::query_scalar(
                    "UPDATE jobs SET payload = $1, priority = $2, eta = $3, description = $4, user_name = $5 \
                     WHERE instance = $6 AND identity_key = $7 AND state = 'pending' RETURNING id",
                )
                .bind(&new.payload)
                .bind(new.priority)
                .bind(new.eta)
                .bind(&new.description)
                .bind(&new.user)
                .bind(&new.instance)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                if updated.is_some() {
                    return Ok(updated);
                }
                let ran: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 \
                     AND state IN ('enqueued', 'started', 'done', 'failed') LIMIT 1",
                )
                .bind(&new.instance)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                match ran {
                    Some(_) => Ok(None),
                    None => Ok(Some(self.enqueue_in(tx, new).await?)),
                }
            }
        }
    }

    /// Store what an event asks of the queue, in one transaction. Returns the
    /// ids of the jobs stored or updated.
    pub async fn store_event_jobs(&self, jobs: &[EventJob]) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::new();
        for job in jobs {
            ids.extend(self.store_event_job_in(&mut tx, job).await?);
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(ids)
    }

    /// Every schedule an operator changed.
    pub async fn cron_overrides(&self) -> Result<Vec<CronOverride>> {
        let rows = sqlx::query(
            "SELECT instance, name, schedule, profile, updated_at FROM cron_overrides \
             ORDER BY instance, name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CronOverride {
                    instance: r.try_get("instance")?,
                    name: r.try_get("name")?,
                    schedule: r.try_get("schedule")?,
                    profile: r.try_get("profile")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Set the schedule of `name` for `instance` (none: switch it off), and
    /// the profile its runs take their parameters from, or with `reset` go
    /// back to the manifest's. Ticks before `now` are taken as handled: a
    /// changed schedule starts afresh instead of catching up.
    pub async fn set_cron_override(
        &self,
        instance: &str,
        name: &str,
        schedule: Option<&str>,
        profile: Option<&str>,
        reset: bool,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if reset {
            sqlx::query("DELETE FROM cron_overrides WHERE instance = $1 AND name = $2")
                .bind(instance)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO cron_overrides (instance, name, schedule, updated_at, profile) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance, name) DO UPDATE SET \
                 schedule = excluded.schedule, updated_at = excluded.updated_at, profile = excluded.profile",
            )
            .bind(instance)
            .bind(name)
            .bind(schedule)
            .bind(now)
            .bind(profile)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE cron_runs SET last_tick = $1 WHERE instance = $2 AND name = $3")
            .bind(now)
            .bind(instance)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where every schedule of every backend instance is.
    pub async fn cron_runs(&self) -> Result<Vec<CronRun>> {
        let rows = sqlx::query(
            "SELECT instance, name, last_tick, job_id, job_tick, done_tick FROM cron_runs ORDER BY instance, name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CronRun {
                    instance: r.try_get("instance")?,
                    name: r.try_get("name")?,
                    last_tick: r.try_get("last_tick")?,
                    job_id: r.try_get("job_id")?,
                    job_tick: r.try_get("job_tick")?,
                    done_tick: r.try_get("done_tick")?,
                })
            })
            .collect()
    }

    /// Start keeping track of a schedule first seen at `now`: ticks before
    /// `now` are taken as handled (a new schedule does not catch up).
    pub async fn start_cron_run(&self, instance: &str, name: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO cron_runs (instance, name, last_tick) VALUES ($1, $2, $3) \
             ON CONFLICT (instance, name) DO NOTHING",
        )
        .bind(instance)
        .bind(name)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether a job with this identity key is waiting or running for `instance`.
    pub async fn job_in_flight(&self, instance: &str, identity_key: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 \
             AND state IN ('pending', 'enqueued', 'started') LIMIT 1",
        )
        .bind(instance)
        .bind(identity_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Enqueue the run of `tick` of a schedule and mark the tick handled, in
    /// one transaction, provided the schedule is still where `seen` says (no
    /// other scheduler handled it meanwhile). Returns the job's id, or none if
    /// the schedule had moved on.
    pub async fn enqueue_cron_run(
        &self,
        seen: &CronRun,
        tick: i64,
        done_tick: Option<i64>,
        job: &NewJob,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        // The write comes first: it takes the write lock before anything is read.
        let moved = sqlx::query(
            "UPDATE cron_runs SET last_tick = $1, job_tick = $1, done_tick = $2 \
             WHERE instance = $3 AND name = $4 AND last_tick = $5",
        )
        .bind(tick)
        .bind(done_tick)
        .bind(&seen.instance)
        .bind(&seen.name)
        .bind(seen.last_tick)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(None);
        }
        let id = self.enqueue_in(&mut tx, job).await?;
        sqlx::query("UPDATE cron_runs SET job_id = $1 WHERE instance = $2 AND name = $3")
            .bind(id)
            .bind(&seen.instance)
            .bind(&seen.name)
            .execute(&mut *tx)
            .await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_patterns_escape_like_wildcards() {
        assert_eq!(base_pattern("timed:a_b/c%d"), "timed:a\\_b/c\\%d@%");
        assert_eq!(timed_key("timed:x", 5), "timed:x@5");
    }
}
