//! The queue's hot path, one implementation per database: claiming ready
//! jobs, marking them started, and writing batches of outcomes and logs.
//!
//! **Why two pools on PostgreSQL and one on SQLite.** The store runs on a
//! sqlx `Any` pool, which binds scalars only: batches there travel as one
//! JSON array and are taken apart in SQL. PostgreSQL deserves its own types,
//! so its driver ([`postgres`]) opens a native `PgPool` on the same URL (lazily,
//! beside the store's pool) and binds arrays: claims join the unnested ids,
//! batches are `UNNEST`ed, ready jobs are locked with `FOR UPDATE SKIP
//! LOCKED` so that concurrent claims pass each other instead of queueing.
//! Two pools on one server change nothing for correctness: each statement
//! and each transaction is on one connection either way, and every write of
//! an outcome is still fenced by the claim's lease token. On SQLite a second
//! pool would be wrong (`sqlite::memory:` would be a second, empty database)
//! and slower (one more set of writers queueing for the file's single write
//! lock), so its driver ([`sqlite`]) keeps the store's pool, its `BEGIN
//! IMMEDIATE` write transactions and its WAL and busy-timeout settings, with
//! fixed SQLite statements (`json_each`) instead of ones built per dialect.
//!
//! What is not here stays on the store's pool with SQL both databases share:
//! enqueueing (it must commit in the caller's transaction, with the record
//! write or trigger run that caused it), a failed try (a few statements in
//! one transaction that also cancels twins, merges payloads, fails dependents
//! and snoozes the instance), leases, rescues and operators' commands.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use super::{Candidate, ClaimLoad, Completion, CursorWrite, JobRow, LogLine, OutboxWrite};
use crate::error::Result;
use futures_util::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

/// Chooses among the ready jobs of a claim, knowing what runs per channel.
pub(crate) type Pick<'a> = Box<dyn FnOnce(&ClaimLoad, &[Candidate]) -> Vec<i64> + Send + 'a>;

/// The claim side of the queue on one database.
pub(crate) trait QueueDriver: Send + Sync + fmt::Debug {
    /// Claim up to `max` ready jobs for `worker` under a new lease: the
    /// first in run order, or those `pick` chooses knowing the load per
    /// channel (see [`crate::store::Store::claim_jobs`] and
    /// [`crate::store::Store::claim_jobs_within`]).
    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
        pick: Option<Pick<'a>>,
    ) -> BoxFuture<'a, Result<Vec<JobRow>>>;

    /// Mark claimed jobs started: `(id, token, at)`; the ids marked.
    fn mark_started<'a>(
        &'a self,
        started: &'a [(i64, i64, i64)],
    ) -> BoxFuture<'a, Result<Vec<i64>>>;

    /// Mark `started` jobs started (as [`Self::mark_started`], those whose
    /// lease was lost left alone) and write completions and log lines, in
    /// one transaction; the ids of completions fenced.
    fn record_completions<'a>(
        &'a self,
        started: &'a [(i64, i64, i64)],
        done: &'a [Completion],
        logs: &'a [(i64, LogLine)],
    ) -> BoxFuture<'a, Result<Vec<i64>>>;

    /// Give back claimed, unstarted jobs: `(id, token)`; how many.
    fn release_claimed<'a>(&'a self, jobs: &'a [(i64, i64)]) -> BoxFuture<'a, Result<u64>>;
}

/// The ready jobs in the order they should run: pending, due (eta reached),
/// dependencies done, instance not snoozed (`$1` now, `$2` how many): the
/// columns `$columns` (at least `id, channel`), read `FROM` `$jobs` (the jobs
/// table, with an index hint where the database takes one). Run order is priority, then when the job became due (its
/// eta, else its enqueue time), then id: the order of the `jobs_run_order`
/// index, where the jobs not due yet come after the due ones of their
/// priority, so that a claim stops after reading what it takes.
macro_rules! ready_jobs {
    ($columns:literal, $jobs:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM ",
            $jobs,
            " WHERE state = 'pending' AND COALESCE(eta, created_at) <= $1 \
             AND (has_deps = 0 OR NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p \
                  ON p.id = d.depends_on OR p.group_name = d.depends_on_group \
                  WHERE d.job_id = jobs.id AND p.state <> 'done')) \
             AND NOT EXISTS (SELECT 1 FROM snoozes s WHERE s.instance = jobs.instance AND s.snoozed_until > $1) \
             ORDER BY priority, COALESCE(eta, created_at), id LIMIT $2"
        )
    };
}
use ready_jobs;

/// Jobs enqueued or started now, per channel.
const RUNNING_PER_CHANNEL: &str =
    "SELECT channel, COUNT(*) FROM jobs WHERE state IN ('enqueued', 'started') GROUP BY channel";

/// How many ready jobs a claim that counts capacity looks at: capacity may
/// turn some candidates down, so it looks a little further.
fn scan(max: usize) -> i64 {
    (max * 4) as i64
}

/// The claimed jobs, best first (the order of [`ready_jobs`]).
fn in_run_order(mut jobs: Vec<JobRow>) -> Vec<JobRow> {
    jobs.sort_by_key(|j| (j.priority, j.eta.unwrap_or(j.created_at), j.id));
    jobs
}

/// The cursor writes of the completions of `done` that were `written` (a
/// fenced completion moves no cursor), the last of each (instance, stream)
/// only: one statement may not update a row twice. In the batch's order.
fn cursor_writes<'a>(done: &'a [Completion], written: &[i64]) -> Vec<(i64, &'a CursorWrite)> {
    if done.iter().all(|c| c.cursors.is_empty()) {
        return Vec::new();
    }
    let written: HashSet<i64> = written.iter().copied().collect();
    let mut at: HashMap<(&str, &str), usize> = HashMap::new();
    let mut out: Vec<(i64, &CursorWrite)> = Vec::new();
    for c in done.iter().filter(|c| written.contains(&c.id)) {
        for w in &c.cursors {
            match at.get(&(w.instance.as_str(), w.name.as_str())) {
                Some(&i) => out[i] = (c.id, w),
                None => {
                    at.insert((&w.instance, &w.name), out.len());
                    out.push((c.id, w));
                }
            }
        }
    }
    out
}

/// Write `messages` (published by job `job_id`, if any) to the outbox, in
/// order, in the caller's write transaction.
pub(crate) async fn write_outbox(
    tx: &mut crate::store::DbConn,
    messages: &[OutboxWrite],
    job_id: Option<i64>,
) -> crate::error::Result<()> {
    let now = crate::store::now_ms();
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (instance, topic, msg_key, payload, headers, job_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.instance)
        .bind(&m.topic)
        .bind(&m.key)
        .bind(m.payload.clone())
        .bind(m.headers_json())
        .bind(job_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The completions of `done` that were `written` and published messages,
/// in the batch's order (a fenced completion publishes nothing).
fn published<'a>(done: &'a [Completion], written: &[i64]) -> Vec<&'a Completion> {
    if done.iter().all(|c| c.messages.is_empty()) {
        return Vec::new();
    }
    let written: HashSet<i64> = written.iter().copied().collect();
    done.iter()
        .filter(|c| !c.messages.is_empty() && written.contains(&c.id))
        .collect()
}

/// The jobs of `done` whose id is not among `written`.
fn fenced(done: &[Completion], written: &[i64]) -> Vec<i64> {
    if written.len() == done.len() {
        return Vec::new();
    }
    done.iter()
        .map(|c| c.id)
        .filter(|id| !written.contains(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(id: i64, value: &str) -> Completion {
        Completion {
            id,
            token: 1,
            result: "{}".into(),
            module: None,
            started_at: 0,
            progress: None,
            cursors: vec![CursorWrite {
                instance: "i".into(),
                name: "s".into(),
                value: value.into(),
            }],
            messages: Vec::new(),
        }
    }

    #[test]
    fn only_written_completions_move_cursors_and_the_last_wins() {
        let batch = [done(1, "1"), done(2, "2"), done(3, "3")];
        let kept = cursor_writes(&batch, &[1, 2]);
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].0, kept[0].1.value.as_str()), (2, "2"));
        assert!(cursor_writes(&batch, &[]).is_empty());
    }
}
