//! Retention: forgetting finished jobs (with their log lines, steps, step
//! warnings and dependencies), transmissions and sent outbox messages once
//! they are older than a cut-off, a batch at a time, so that the tables do
//! not grow without bound and a prune never holds the queue for long.
//!
//! What is never forgotten here: jobs not finished (pending, enqueued,
//! started, paused), messages not yet sent, cursors, links, checkpoints and
//! the audit log. A job that waits for a pruned job sees it as done (only a
//! done job can be pruned with a dependent still waiting: dependents of
//! failed and cancelled jobs failed with them).

use super::Store;
use super::sql::Db;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// States of finished jobs, the only ones a prune forgets.
const FINISHED: &str = "('done', 'failed', 'cancelled')";

/// Most rows a prune deletes from a table in one transaction.
pub const MAX_PRUNE_BATCH: u32 = 5_000;

/// Tables holding rows of a job, by its id in `job_id`.
const JOB_TABLES: [&str; 4] = ["job_logs", "job_steps", "step_warnings", "job_dependencies"];

/// What a prune forgot (or, dry, would forget).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    /// Finished jobs.
    pub jobs: u64,
    /// Their log lines.
    pub log_lines: u64,
    /// Their steps and step warnings.
    pub step_rows: u64,
    /// Outbound requests logged.
    pub transmissions: u64,
    /// Outbox messages sent.
    pub outbox: u64,
}

impl Pruned {
    fn add(&mut self, other: Pruned) {
        self.jobs += other.jobs;
        self.log_lines += other.log_lines;
        self.step_rows += other.step_rows;
        self.transmissions += other.transmissions;
        self.outbox += other.outbox;
    }

    /// Whether nothing was (or would be) forgotten.
    pub fn is_empty(&self) -> bool {
        *self == Pruned::default()
    }
}

impl Store {
    /// Forget what finished or was sent before `before_ms`, `batch` jobs (and
    /// `batch` transmissions, `batch` outbox messages) per transaction, until
    /// none is left; `pause` between batches lets other writers in.
    pub async fn prune_before(
        &self,
        before_ms: i64,
        batch: u32,
        pause: std::time::Duration,
    ) -> Result<Pruned> {
        let batch = batch.clamp(1, MAX_PRUNE_BATCH);
        let mut total = Pruned::default();
        loop {
            let step = self.prune_batch(before_ms, batch).await?;
            total.add(step);
            let full = step.jobs == u64::from(batch)
                || step.transmissions == u64::from(batch)
                || step.outbox == u64::from(batch);
            if !full {
                return Ok(total);
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// What [`Store::prune_before`] would forget, counted.
    pub async fn prunable_before(&self, before_ms: i64) -> Result<Pruned> {
        let jobs = format!(
            "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 AND state IN {FINISHED}"
        );
        let count = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE job_id IN ({jobs})");
        let one = |sql: String| async move {
            let n: i64 = sqlx::query_scalar::<Db, i64>(&sql)
                .bind(before_ms)
                .fetch_one(self.pool())
                .await?;
            Ok::<u64, crate::error::Error>(n.max(0) as u64)
        };
        Ok(Pruned {
            jobs: one(format!("SELECT COUNT(*) FROM ({jobs}) j")).await?,
            log_lines: one(count("job_logs")).await?,
            step_rows: one(count("job_steps")).await? + one(count("step_warnings")).await?,
            transmissions: one("SELECT COUNT(*) FROM transmissions WHERE at < $1".into()).await?,
            outbox: one(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1".into(),
            )
            .await?,
        })
    }

    /// One batch of [`Store::prune_before`], in one transaction.
    async fn prune_batch(&self, before_ms: i64, batch: u32) -> Result<Pruned> {
        let mut tx = self.begin_write().await?;
        let jobs: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 \
             AND state IN {FINISHED} ORDER BY finished_at LIMIT $2"
        ))
        .bind(before_ms)
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await?;
        let mut pruned = Pruned::default();
        if !jobs.is_empty() {
            let list = params(jobs.len());
            for table in JOB_TABLES {
                let sql = format!("DELETE FROM {table} WHERE job_id IN ({list})");
                let done = bind_all(sqlx::query(&sql), &jobs).execute(&mut *tx).await?;
                match table {
                    "job_logs" => pruned.log_lines += done.rows_affected(),
                    "job_steps" | "step_warnings" => pruned.step_rows += done.rows_affected(),
                    _ => {}
                }
            }
            // A finished job may have been requeued since it was selected: the
            // state is tested again, and only what is deleted is counted.
            let sql = format!("DELETE FROM jobs WHERE id IN ({list}) AND state IN {FINISHED}");
            pruned.jobs = bind_all(sqlx::query(&sql), &jobs)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        pruned.transmissions = sqlx::query(
            "DELETE FROM transmissions WHERE id IN \
             (SELECT id FROM transmissions WHERE at < $1 ORDER BY at LIMIT $2)",
        )
        .bind(before_ms)
        .bind(i64::from(batch))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        pruned.outbox = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NOT NULL \
             AND sent_at < $1 ORDER BY sent_at LIMIT $2)",
        )
        .bind(before_ms)
        .bind(i64::from(batch))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(pruned)
    }
}

/// `$1, $2, …, $n`.
fn params(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Db, sqlx::any::AnyArguments<'q>>,
    ids: &'q [i64],
) -> sqlx::query::Query<'q, Db, sqlx::any::AnyArguments<'q>> {
    for id in ids {
        query = query.bind(*id);
    }
    query
}
