//! The queue on PostgreSQL, on a native pool beside the store's (see the
//! [module doc](super)): batches are bound as arrays and `UNNEST`ed (claims
//! that count capacity too, see `CLAIM`), and ready jobs are locked `FOR
//! UPDATE SKIP LOCKED` so that workers of many nodes claim side by side. A
//! claim with no capacity to count locks, claims and returns its jobs in one
//! statement (`CLAIM_FIRST`).
//!
//! Statements that update a batch of jobs by id test their state as
//! `(jobs.state …) IS TRUE`, which no index answers, so that the batch
//! drives the plan (a primary-key lookup per job). As plain `jobs.state
//! IN (…)`, statistics taken while few jobs ran (an `ANALYZE` of a quiet
//! queue) make the planner walk the jobs in that state through a `state`
//! index and scan the whole batch for each: with a million jobs in the
//! table, one completion of 256 jobs took ~0.8 s instead of milliseconds.
//! (SQLite's driver writes `+state` for the same reason.)
//!
//! Statistics can be stale the other way too: taken while the table was
//! small (a new installation, a quiet queue before a burst of enqueues),
//! they make a scan of the whole table and a hash join look cheaper than
//! one lookup per job of the batch, and a walk of a few "pending" rows and a
//! sort cheaper than the run-order index. Every claim and completion then
//! reads the table: in the queue benchmark, 5–30 ms a statement instead of
//! one or two. The driver's pool is the hot path alone, and the plan it
//! wants is known, so its sessions say so ([`PLANNER_SETTINGS`]).

use super::super::{Candidate, ClaimLoad, Completion, JobRow, LogLine, StoredJob, job_columns};
use super::{
    Pick, QueueDriver, RUNNING_PER_CHANNEL, cursor_writes, fenced, in_run_order, published,
    ready_jobs, scan,
};
use crate::error::Result;
use crate::store::now_ms;
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Row};
use std::str::FromStr;
use std::time::Duration;

/// Session settings of the driver's pool: the planner takes a scan of
/// `jobs`, a hash or merge join or a sort only where nothing else answers
/// (they are made costly, not forbidden), so that batches drive primary-key
/// lookups and claims walk the run-order index whatever the statistics say.
const PLANNER_SETTINGS: [(&str, &str); 4] = [
    ("enable_seqscan", "off"),
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
    ("enable_sort", "off"),
];

/// Capacity is counted across all workers: claims that count take turns
/// (this transaction-scoped lock), so two nodes cannot both fill the last slot.
const COUNTING_CLAIMS_TAKE_TURNS: &str = "SELECT pg_advisory_xact_lock(7470001)";

const READY_JOBS: &str = concat!(
    ready_jobs!("id, channel", "jobs"),
    " FOR UPDATE SKIP LOCKED"
);

// Driven by the batch of ids (a join with the unnested array): with
// `id = ANY($4)`, the generic plan PostgreSQL settles on for a prepared
// statement walks every pending job by state and tests each against the
// array (2.7x slower execution in the queue benchmark).
const CLAIM: &str = concat!(
    "UPDATE jobs SET state = 'enqueued', attempts = jobs.attempts + 1, lease_token = $1, \
     lease_until = $2, worker = $3 FROM UNNEST($4::bigint[]) AS v(claimed_id) \
     WHERE jobs.id = v.claimed_id AND (jobs.state = 'pending') IS TRUE RETURNING ",
    job_columns!()
);

/// A claim with no capacity to weigh takes the first `$2` ready jobs: it
/// locks, claims and returns them in one statement (one round trip, where
/// a claim that counts capacity needs a transaction of four). The ready
/// ids are named apart so that `RETURNING`'s columns are the job's alone.
const CLAIM_FIRST: &str = concat!(
    "WITH ready AS MATERIALIZED (",
    ready_jobs!("id AS ready_id", "jobs"),
    " FOR UPDATE SKIP LOCKED) \
     UPDATE jobs SET state = 'enqueued', attempts = jobs.attempts + 1, lease_token = $3, \
     lease_until = $4, worker = $5 FROM ready WHERE jobs.id = ready.ready_id RETURNING ",
    job_columns!()
);

const MARK_STARTED: &str = "UPDATE jobs SET state = 'started', started_at = v.at, lost_claims = 0 \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, token, at) \
     WHERE jobs.id = v.id AND jobs.lease_token = v.token AND (jobs.state = 'enqueued') IS TRUE RETURNING jobs.id";

const COMPLETE: &str = "UPDATE jobs SET state = 'done', result = v.result, error = NULL, error_kind = NULL, \
     module = COALESCE(v.module, jobs.module), module_hash = COALESCE(v.hash, jobs.module_hash), \
     started_at = v.started, finished_at = $9, lease_token = NULL, lease_until = NULL, worker = NULL, \
     progress_total = COALESCE(v.total, jobs.progress_total), \
     progress_done = COALESCE(v.done, jobs.progress_done) \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
                 $7::bigint[], $8::bigint[]) AS v(id, token, result, module, hash, started, total, done) \
     WHERE jobs.id = v.id AND jobs.lease_token = v.token \
     AND (jobs.state IN ('enqueued', 'started')) IS TRUE RETURNING jobs.id";

/// Cursors of completed jobs: instances, names, values, jobs; `$5` now.
const UPSERT_CURSORS: &str = "INSERT INTO cursors (instance, name, value, updated_at, job_id) \
     SELECT i, n, v, $5, j FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS c(i, n, v, j) \
     ON CONFLICT (instance, name) DO UPDATE SET value = excluded.value, \
     updated_at = excluded.updated_at, job_id = excluded.job_id";

const INSERT_LOGS: &str = "INSERT INTO job_logs (job_id, attempt, at, level, module, message) \
     SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])";

const RELEASE_CLAIMED: &str = "UPDATE jobs SET state = 'pending', attempts = jobs.attempts - 1, \
     lease_token = NULL, lease_until = NULL, worker = NULL \
     FROM UNNEST($1::bigint[], $2::bigint[]) AS v(id, token) \
     WHERE jobs.id = v.id AND jobs.lease_token = v.token AND (jobs.state = 'enqueued') IS TRUE";

/// Messages of completed jobs: instances, topics, keys, payloads, headers,
/// jobs; `$7` now. One statement per completion, in publish order.
const INSERT_OUTBOX: &str = "INSERT INTO outbox (instance, topic, msg_key, payload, headers, job_id, created_at) \
     SELECT i, t, k, p, h, j, $7 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bytea[], \
     $5::text[], $6::bigint[]) WITH ORDINALITY AS m(i, t, k, p, h, j, n) ORDER BY n";

/// The statement marking `started` jobs started (`(id, token, at)`); it
/// returns the ids marked.
fn mark_started(
    started: &[(i64, i64, i64)],
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(MARK_STARTED)
        .bind(started.iter().map(|s| s.0).collect::<Vec<i64>>())
        .bind(started.iter().map(|s| s.1).collect::<Vec<i64>>())
        .bind(started.iter().map(|s| s.2).collect::<Vec<i64>>())
}

/// Write the messages completion `c` published, in the transaction that
/// marks it done.
async fn insert_outbox(tx: &mut sqlx::PgConnection, c: &Completion) -> Result<()> {
    let m = &c.messages;
    sqlx::query(INSERT_OUTBOX)
        .bind(m.iter().map(|w| w.instance.as_str()).collect::<Vec<_>>())
        .bind(m.iter().map(|w| w.topic.as_str()).collect::<Vec<_>>())
        .bind(m.iter().map(|w| w.key.as_str()).collect::<Vec<_>>())
        .bind(
            m.iter()
                .map(|w| w.payload.clone())
                .collect::<Vec<Vec<u8>>>(),
        )
        .bind(m.iter().map(|w| w.headers_json()).collect::<Vec<_>>())
        .bind(m.iter().map(|_| c.id).collect::<Vec<i64>>())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The queue's claims and outcomes on PostgreSQL.
#[derive(Debug, Clone)]
pub(crate) struct PostgresDriver {
    pool: PgPool,
}

impl PostgresDriver {
    /// A driver on its own pool to the database at `url`, opened as the
    /// queue needs connections.
    pub(crate) fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?
            .disable_statement_logging()
            .options(PLANNER_SETTINGS);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        Ok(PostgresDriver { pool })
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
        let token = fastrand::i64(1..i64::MAX);
        let rows: Vec<StoredJob> = match pick {
            None => {
                sqlx::query_as(CLAIM_FIRST)
                    .bind(now)
                    .bind(max as i64)
                    .bind(token)
                    .bind(now + lease.as_millis() as i64)
                    .bind(worker)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(pick) => {
                self.claim_within(worker, max, now, token, lease, pick)
                    .await?
            }
        };
        let jobs = rows
            .into_iter()
            .map(StoredJob::into_job)
            .collect::<Result<_>>()?;
        Ok(in_run_order(jobs))
    }

    /// A claim that counts capacity: the load per channel and the ready jobs
    /// are read under a lock all such claims take, and `pick` chooses.
    async fn claim_within(
        &self,
        worker: &str,
        max: usize,
        now: i64,
        token: i64,
        lease: Duration,
        pick: Pick<'_>,
    ) -> Result<Vec<StoredJob>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(COUNTING_CLAIMS_TAKE_TURNS)
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(RUNNING_PER_CHANNEL)
            .fetch_all(&mut *tx)
            .await?;
        let load = ClaimLoad {
            running: rows.into_iter().collect(),
        };
        let candidates: Vec<(i64, String)> = sqlx::query_as(READY_JOBS)
            .bind(now)
            .bind(scan(max))
            .fetch_all(&mut *tx)
            .await?;
        let candidates: Vec<Candidate> = candidates
            .into_iter()
            .map(|(id, channel)| Candidate { id, channel })
            .collect();
        let mut chosen = pick(&load, &candidates);
        chosen.truncate(max);
        if chosen.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows: Vec<StoredJob> = sqlx::query_as(CLAIM)
            .bind(token)
            .bind(now + lease.as_millis() as i64)
            .bind(worker)
            .bind(&chosen)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn mark_started_now(&self, started: &[(i64, i64, i64)]) -> Result<Vec<i64>> {
        if started.is_empty() {
            return Ok(Vec::new());
        }
        let ids = mark_started(started).fetch_all(&self.pool).await?;
        Ok(ids.into_iter().map(|row| row.get(0)).collect())
    }

    async fn record_completions_now(
        &self,
        started: &[(i64, i64, i64)],
        done: &[Completion],
        logs: &[(i64, LogLine)],
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        if !started.is_empty() {
            mark_started(started).execute(&mut *tx).await?;
        }
        if !logs.is_empty() {
            sqlx::query(INSERT_LOGS)
                .bind(logs.iter().map(|(id, _)| *id).collect::<Vec<i64>>())
                .bind(logs.iter().map(|(_, l)| l.attempt).collect::<Vec<i64>>())
                .bind(logs.iter().map(|(_, l)| l.at).collect::<Vec<i64>>())
                .bind(
                    logs.iter()
                        .map(|(_, l)| l.level.as_str())
                        .collect::<Vec<&str>>(),
                )
                .bind(
                    logs.iter()
                        .map(|(_, l)| l.module.as_str())
                        .collect::<Vec<&str>>(),
                )
                .bind(
                    logs.iter()
                        .map(|(_, l)| l.message.as_str())
                        .collect::<Vec<&str>>(),
                )
                .execute(&mut *tx)
                .await?;
        }
        let mut fenced_ids = Vec::new();
        if !done.is_empty() {
            let (module, hash): (Vec<Option<&str>>, Vec<Option<&str>>) = done
                .iter()
                .map(|c| match &c.module {
                    Some((name, hash)) => (Some(name.as_str()), Some(hash.as_str())),
                    None => (None, None),
                })
                .unzip();
            let written: Vec<i64> = sqlx::query_scalar(COMPLETE)
                .bind(done.iter().map(|c| c.id).collect::<Vec<i64>>())
                .bind(done.iter().map(|c| c.token).collect::<Vec<i64>>())
                .bind(
                    done.iter()
                        .map(|c| c.result.as_str())
                        .collect::<Vec<&str>>(),
                )
                .bind(module)
                .bind(hash)
                .bind(done.iter().map(|c| c.started_at).collect::<Vec<i64>>())
                .bind(
                    done.iter()
                        .map(|c| c.progress.map(|p| p.0))
                        .collect::<Vec<Option<i64>>>(),
                )
                .bind(
                    done.iter()
                        .map(|c| c.progress.map(|p| p.1))
                        .collect::<Vec<Option<i64>>>(),
                )
                .bind(now_ms())
                .fetch_all(&mut *tx)
                .await?;
            fenced_ids = fenced(done, &written);
            let cursors = cursor_writes(done, &written);
            if !cursors.is_empty() {
                sqlx::query(UPSERT_CURSORS)
                    .bind(
                        cursors
                            .iter()
                            .map(|(_, w)| w.instance.as_str())
                            .collect::<Vec<_>>(),
                    )
                    .bind(
                        cursors
                            .iter()
                            .map(|(_, w)| w.name.as_str())
                            .collect::<Vec<_>>(),
                    )
                    .bind(
                        cursors
                            .iter()
                            .map(|(_, w)| w.value.as_str())
                            .collect::<Vec<_>>(),
                    )
                    .bind(cursors.iter().map(|(job, _)| *job).collect::<Vec<i64>>())
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            for c in published(done, &written) {
                insert_outbox(&mut tx, c).await?;
            }
        }
        tx.commit().await?;
        Ok(fenced_ids)
    }

    async fn release_claimed_now(&self, jobs: &[(i64, i64)]) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(RELEASE_CLAIMED)
            .bind(jobs.iter().map(|j| j.0).collect::<Vec<i64>>())
            .bind(jobs.iter().map(|j| j.1).collect::<Vec<i64>>())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

impl QueueDriver for PostgresDriver {
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
