//! The queue on SQLite, on the store's own pool (see the [module doc](super)).
//! Batches travel as one JSON array bound as text: each row's object is taken
//! out once (`MATERIALIZED`, then found in SQLite's JSON cache) rather than
//! parsed again for every column.
//!
//! Statements that update a batch of jobs by id also test their state, and
//! write it `+state` to keep it from choosing the index: otherwise SQLite's
//! planner walks every job in that state (an index on `state`) and looks
//! each one up in the batch, quadratic in the batch size (1000 jobs: 0.6 s
//! instead of 5 ms). Driven by the batch, each job is one rowid lookup.

use super::super::{Candidate, ClaimLoad, Completion, JobRow, LogLine, StoredJob, job_json_object};
use super::{
    Pick, QueueDriver, RUNNING_PER_CHANNEL, cursor_writes, fenced, in_run_order, published,
    ready_jobs, scan,
};
use crate::error::Result;
use crate::store::now_ms;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::time::Duration;

/// Take the chosen jobs (`$4`, a JSON array of ids) under a lease.
const CLAIM: &str = "UPDATE jobs SET state = 'enqueued', attempts = attempts + 1, lease_token = $1, \
     lease_until = $2, worker = $3 WHERE +state = 'pending' AND id IN (SELECT value FROM json_each($4))";

/// The jobs a claim took (`$1` the ids, `$2` its token), as one JSON array:
/// one row back through sqlx's channel instead of one per job (each a
/// thread hand-off, and 34 values copied and converted).
const CLAIMED: &str = concat!(
    "SELECT json_group_array(",
    job_json_object!(),
    ") FROM jobs WHERE id IN (SELECT value FROM json_each($1)) AND lease_token = $2"
);

/// The candidates of a claim as one JSON array of `[id, channel]`, best
/// first: one row back instead of one per job. Named, the run-order index is
/// used whatever SQLite's statistics say: without `ANALYZE` its planner would
/// rather read every pending job by state and sort them.
const READY_JOBS: &str = concat!(
    "SELECT json_group_array(json_array(id, channel) ORDER BY priority, due, id) FROM (",
    ready_jobs!(
        "id, channel, priority, COALESCE(eta, created_at) AS due",
        "jobs INDEXED BY jobs_run_order"
    ),
    ")"
);

/// Started marks of a batch (`$1`, a JSON array of `{id, token, at}`).
macro_rules! mark_started {
    () => {
        "UPDATE jobs SET state = 'started', started_at = v.at, lost_claims = 0 FROM \
         (WITH e AS MATERIALIZED (SELECT value AS o FROM json_each($1)) \
          SELECT json_extract(o, '$.id') AS id, json_extract(o, '$.token') AS token, \
          json_extract(o, '$.at') AS at FROM e) AS v \
         WHERE jobs.id = v.id AND jobs.lease_token = v.token AND +jobs.state = 'enqueued'"
    };
}
const MARK_STARTED: &str = mark_started!();
const MARK_STARTED_RETURNING: &str = concat!(mark_started!(), " RETURNING jobs.id");

/// Completions of a batch (`$1`, a JSON array; `$2` now).
macro_rules! complete {
    () => {
        "UPDATE jobs SET state = 'done', result = v.result, error = NULL, error_kind = NULL, \
         module = COALESCE(v.module, jobs.module), module_hash = COALESCE(v.hash, jobs.module_hash), \
         started_at = v.started, finished_at = $2, lease_token = NULL, lease_until = NULL, worker = NULL, \
         progress_total = COALESCE(v.total, jobs.progress_total), \
         progress_done = COALESCE(v.done, jobs.progress_done) FROM \
         (WITH e AS MATERIALIZED (SELECT value AS o FROM json_each($1)) \
          SELECT json_extract(o, '$.id') AS id, json_extract(o, '$.token') AS token, \
          json_extract(o, '$.result') AS result, json_extract(o, '$.module') AS module, \
          json_extract(o, '$.hash') AS hash, json_extract(o, '$.started') AS started, \
          json_extract(o, '$.total') AS total, json_extract(o, '$.done') AS done FROM e) AS v \
         WHERE jobs.id = v.id AND jobs.lease_token = v.token \
         AND +jobs.state IN ('enqueued', 'started')"
    };
}
const COMPLETE: &str = complete!();
const COMPLETE_RETURNING: &str = concat!(complete!(), " RETURNING jobs.id");

/// Cursors of many completed jobs (`$1`, a JSON array; `$2` now). `WHERE
/// true` keeps SQLite from reading `ON` as a join's.
const UPSERT_CURSORS: &str = "INSERT INTO cursors (instance, name, value, updated_at, job_id) \
     SELECT json_extract(value, '$.instance'), json_extract(value, '$.name'), \
     json_extract(value, '$.value'), $2, json_extract(value, '$.job') FROM json_each($1) WHERE true \
     ON CONFLICT (instance, name) DO UPDATE SET value = excluded.value, \
     updated_at = excluded.updated_at, job_id = excluded.job_id";

/// Log lines of many jobs (`$1`, a JSON array), in one statement.
pub(in crate::store) const INSERT_LOGS: &str = "INSERT INTO job_logs (job_id, attempt, at, level, module, message) \
     SELECT job_id, attempt, at, level, module, message FROM \
     (WITH e AS MATERIALIZED (SELECT value AS o FROM json_each($1)) \
      SELECT json_extract(o, '$.job_id') AS job_id, json_extract(o, '$.attempt') AS attempt, \
      json_extract(o, '$.at') AS at, json_extract(o, '$.level') AS level, \
      json_extract(o, '$.module') AS module, json_extract(o, '$.message') AS message FROM e) AS v";

const RELEASE_CLAIMED: &str = "UPDATE jobs SET state = 'pending', attempts = jobs.attempts - 1, lease_token = NULL, \
     lease_until = NULL, worker = NULL FROM \
     (WITH e AS MATERIALIZED (SELECT value AS o FROM json_each($1)) \
      SELECT json_extract(o, '$.id') AS id, json_extract(o, '$.token') AS token FROM e) AS v \
     WHERE jobs.id = v.id AND jobs.lease_token = v.token AND +jobs.state = 'enqueued'";

/// The queue's claims and outcomes on SQLite.
#[derive(Debug, Clone)]
pub(crate) struct SqliteDriver {
    pool: AnyPool,
    /// Taken around each of the driver's write transactions, so that claims
    /// and outcome batches of this process wait their turn here and start
    /// the moment the other commits, instead of finding the file locked
    /// and sleeping in SQLite's busy handler (1 ms, then 2, 5, 10…).
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteDriver {
    /// A driver on the store's pool.
    pub(crate) fn new(pool: AnyPool) -> Self {
        SqliteDriver {
            pool,
            write_turn: Default::default(),
        }
    }

    /// A write transaction that takes the write lock at once, so that two
    /// writers queue instead of one failing when it upgrades a read.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn claim_now(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
        pick: Option<Pick<'_>>,
    ) -> Result<Vec<JobRow>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let _turn = self.write_turn.lock().await;
        let mut tx = self.begin_write().await?;
        let mut load = ClaimLoad::default();
        if pick.is_some() {
            // The write lock is held: no other claim counts meanwhile.
            let rows: Vec<(String, i64)> = sqlx::query_as(RUNNING_PER_CHANNEL)
                .fetch_all(&mut *tx)
                .await?;
            load.running = rows.into_iter().collect();
        }
        let candidates: String = sqlx::query_scalar(READY_JOBS)
            .bind(now)
            .bind(if pick.is_some() {
                scan(max)
            } else {
                max as i64
            })
            .fetch_one(&mut *tx)
            .await?;
        let candidates: Vec<(i64, String)> = serde_json::from_str(&candidates)?;
        let candidates: Vec<Candidate> = candidates
            .into_iter()
            .map(|(id, channel)| Candidate { id, channel })
            .collect();
        let mut chosen = match pick {
            Some(pick) => pick(&load, &candidates),
            None => candidates.iter().map(|c| c.id).collect(),
        };
        chosen.truncate(max);
        if chosen.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let token = fastrand::i64(1..i64::MAX);
        let ids = json!(chosen).to_string();
        sqlx::query(CLAIM)
            .bind(token)
            .bind(now + lease.as_millis() as i64)
            .bind(worker)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        let claimed: String = sqlx::query_scalar(CLAIMED)
            .bind(&ids)
            .bind(token)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let jobs = serde_json::from_str::<Vec<StoredJob>>(&claimed)?
            .into_iter()
            .map(StoredJob::into_job)
            .collect::<Result<_>>()?;
        Ok(in_run_order(jobs))
    }

    /// Every lease usually still holds: a row count says so without a row
    /// per job back through sqlx's channel (one thread hand-off each). When
    /// the count is short, the ids that were marked are asked for.
    async fn mark_started_now(&self, started: &[(i64, i64, i64)]) -> Result<Vec<i64>> {
        if started.is_empty() {
            return Ok(Vec::new());
        }
        let batch = started_batch(started);
        let _turn = self.write_turn.lock().await;
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(MARK_STARTED)
            .bind(&batch)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if marked as usize == started.len() {
            tx.commit().await?;
            return Ok(started.iter().map(|s| s.0).collect());
        }
        tx.rollback().await?;
        let mut tx = self.begin_write().await?;
        let ids = sqlx::query_scalar(MARK_STARTED_RETURNING)
            .bind(&batch)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Started marks and outcomes of a batch, with their log lines,
    /// cursors and outbox messages, in one transaction. As for started
    /// marks alone, a row count stands for the ids when every lease held;
    /// when one was lost the transaction is rolled back and the batch
    /// written again, asking which jobs were written (the others are
    /// fenced off).
    async fn record_completions_now(
        &self,
        started: &[(i64, i64, i64)],
        done: &[Completion],
        logs: &[(i64, LogLine)],
    ) -> Result<Vec<i64>> {
        let started = (!started.is_empty()).then(|| started_batch(started));
        let started = started.as_deref();
        match self
            .record_completions_once(started, done, logs, false)
            .await?
        {
            Some(fenced) => Ok(fenced),
            None => Ok(self
                .record_completions_once(started, done, logs, true)
                .await?
                .unwrap_or_default()),
        }
    }

    /// One try of [`Self::record_completions_now`]: `None` when, not
    /// `returning` ids, fewer jobs than the batch's were written (nothing
    /// was kept).
    async fn record_completions_once(
        &self,
        started: Option<&str>,
        done: &[Completion],
        logs: &[(i64, LogLine)],
        returning: bool,
    ) -> Result<Option<Vec<i64>>> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.begin_write().await?;
        if let Some(started) = started {
            sqlx::query(MARK_STARTED)
                .bind(started)
                .execute(&mut *tx)
                .await?;
        }
        insert_logs(&mut tx, logs).await?;
        let mut fenced_ids = Vec::new();
        if !done.is_empty() {
            let rows: Vec<Value> = done
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id, "token": c.token, "result": c.result,
                        "module": c.module.as_ref().map(|m| &m.0), "hash": c.module.as_ref().map(|m| &m.1),
                        "started": c.started_at, "total": c.progress.map(|p| p.0), "done": c.progress.map(|p| p.1),
                    })
                })
                .collect();
            let batch = Value::Array(rows).to_string();
            let written: Vec<i64> = if returning {
                sqlx::query_scalar(COMPLETE_RETURNING)
                    .bind(batch)
                    .bind(now_ms())
                    .fetch_all(&mut *tx)
                    .await?
            } else {
                let count = sqlx::query(COMPLETE)
                    .bind(batch)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if count as usize != done.len() {
                    tx.rollback().await?;
                    return Ok(None);
                }
                done.iter().map(|c| c.id).collect()
            };
            fenced_ids = fenced(done, &written);
            let cursors: Vec<Value> = cursor_writes(done, &written)
                .into_iter()
                .map(|(job, w)| {
                    json!({ "instance": w.instance, "name": w.name, "value": w.value, "job": job })
                })
                .collect();
            if !cursors.is_empty() {
                sqlx::query(UPSERT_CURSORS)
                    .bind(Value::Array(cursors).to_string())
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            for c in published(done, &written) {
                super::write_outbox(&mut tx, &c.messages, Some(c.id)).await?;
            }
        }
        tx.commit().await?;
        Ok(Some(fenced_ids))
    }

    async fn release_claimed_now(&self, jobs: &[(i64, i64)]) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let rows: Vec<Value> = jobs
            .iter()
            .map(|(id, token)| json!({ "id": id, "token": token }))
            .collect();
        let done = sqlx::query(RELEASE_CLAIMED)
            .bind(Value::Array(rows).to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Started marks `(id, token, at)` as the JSON array [`MARK_STARTED`] takes.
fn started_batch(started: &[(i64, i64, i64)]) -> String {
    let rows: Vec<Value> = started
        .iter()
        .map(|(id, token, at)| json!({ "id": id, "token": token, "at": at }))
        .collect();
    Value::Array(rows).to_string()
}

/// Store log lines of many jobs in the transaction `tx`, 500 a statement.
async fn insert_logs(tx: &mut sqlx::AnyConnection, logs: &[(i64, LogLine)]) -> Result<()> {
    for chunk in logs.chunks(500) {
        let rows: Vec<Value> = chunk
            .iter()
            .map(|(job_id, l)| {
                json!({ "job_id": job_id, "attempt": l.attempt, "at": l.at, "level": l.level,
                        "module": l.module, "message": l.message })
            })
            .collect();
        sqlx::query(INSERT_LOGS)
            .bind(Value::Array(rows).to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

impl QueueDriver for SqliteDriver {
    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
        pick: Option<Pick<'a>>,
    ) -> BoxFuture<'a, Result<Vec<JobRow>>> {
        Box::pin(self.claim_now(worker, max, lease, pick))
    }

    fn mark_started<'a>(
        &'a self,
        started: &'a [(i64, i64, i64)],
    ) -> BoxFuture<'a, Result<Vec<i64>>> {
        Box::pin(self.mark_started_now(started))
    }

    fn record_completions<'a>(
        &'a self,
        started: &'a [(i64, i64, i64)],
        done: &'a [Completion],
        logs: &'a [(i64, LogLine)],
    ) -> BoxFuture<'a, Result<Vec<i64>>> {
        Box::pin(self.record_completions_now(started, done, logs))
    }

    fn release_claimed<'a>(&'a self, jobs: &'a [(i64, i64)]) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.release_claimed_now(jobs))
    }
}
