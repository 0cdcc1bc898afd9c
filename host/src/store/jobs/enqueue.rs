//! Enqueueing: jobs are stored durably before anything runs them.

use super::super::{Dialect, Store, now_ms};
use super::{INSERT_COLUMNS, NewJob, insert_row, merge_payloads};
use crate::error::Result;

impl Store {
    /// Store a job. With an identity key that a pending or enqueued job of the
    /// same instance already has, nothing is stored and that job's id is
    /// returned; with a merge key of a pending job, the payload is merged into
    /// that job (see [`merge_payloads`]) and its id returned.
    pub async fn enqueue(&self, new: &NewJob) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = self.enqueue_in(&mut tx, new).await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(id)
    }

    /// Store many jobs in one transaction; their ids, in order.
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(jobs.len());
        let (plain, special): (Vec<&NewJob>, Vec<&NewJob>) = jobs.iter().partition(|j| {
            j.identity_key.is_none()
                && j.merge_key.is_none()
                && j.depends_on.is_empty()
                && j.after_groups.is_empty()
        });
        // Plain jobs travel as one JSON array in one statement.
        for chunk in plain.chunks(500) {
            let rows: Vec<serde_json::Value> =
                chunk.iter().map(|j| insert_row(j)).collect::<Result<_>>()?;
            let columns = INSERT_COLUMNS
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO jobs ({columns}, state, created_at) SELECT {columns}, 'pending', $2 FROM {} RETURNING id",
                self.dialect().json_rows(1, "v", INSERT_COLUMNS)
            );
            let mut batch: Vec<i64> = sqlx::query_scalar(&sql)
                .bind(serde_json::Value::Array(rows).to_string())
                .bind(now_ms())
                .fetch_all(&mut *tx)
                .await?;
            batch.sort_unstable();
            ids.extend(batch);
        }
        for job in special {
            ids.push(self.enqueue_in(&mut tx, job).await?);
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(ids)
    }

    /// [`Store::enqueue`] inside a transaction of the caller (so that a record
    /// write and the jobs its events cause commit together). The caller wakes
    /// the workers after its commit.
    pub(crate) async fn enqueue_in(
        &self,
        tx: &mut super::super::DbConn,
        new: &NewJob,
    ) -> Result<i64> {
        if let Some(key) = &new.merge_key
            && let Some(id) = self
                .merge_into_pending(tx, &new.instance, key, &new.payload)
                .await?
        {
            return Ok(id);
        }
        let columns = INSERT_COLUMNS
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ");
        let params = (1..=INSERT_COLUMNS.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let n = INSERT_COLUMNS.len();
        let sql = format!(
            "INSERT INTO jobs ({columns}, state, created_at) VALUES ({params}, 'pending', ${}) \
             ON CONFLICT (instance, identity_key) WHERE identity_key IS NOT NULL AND state IN ('pending', 'enqueued') \
             DO NOTHING RETURNING id",
            n + 1
        );
        let row = insert_row(new)?;
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for (column, ty) in INSERT_COLUMNS {
            let v = &row[*column];
            q = match (*ty, v) {
                ("bigint", serde_json::Value::Null) => q.bind(None::<i64>),
                ("bigint", v) => q.bind(v.as_i64()),
                (_, serde_json::Value::Null) => q.bind(None::<String>),
                (_, v) => q.bind(v.as_str().map(str::to_string)),
            };
        }
        let inserted = q.bind(now_ms()).fetch_optional(&mut *tx).await?;
        let id = match inserted {
            Some(id) => id,
            None => {
                return sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 AND state IN ('pending', 'enqueued')",
                )
                .bind(&new.instance)
                .bind(&new.identity_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(Into::into);
            }
        };
        for dep in &new.depends_on {
            sqlx::query("INSERT INTO job_dependencies (job_id, depends_on) VALUES ($1, $2)")
                .bind(id)
                .bind(dep)
                .execute(&mut *tx)
                .await?;
        }
        for group in &new.after_groups {
            sqlx::query("INSERT INTO job_dependencies (job_id, depends_on_group) VALUES ($1, $2)")
                .bind(id)
                .bind(group)
                .execute(&mut *tx)
                .await?;
        }
        Ok(id)
    }

    /// Merge `payload` into the pending job of `instance` with merge key `key`,
    /// if there is one; returns its id.
    pub(super) async fn merge_into_pending(
        &self,
        tx: &mut super::super::DbConn,
        instance: &str,
        key: &str,
        payload: &str,
    ) -> Result<Option<i64>> {
        let lock = match self.dialect() {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let pending: Option<(i64, String)> = sqlx::query_as(&format!(
            "SELECT id, payload FROM jobs WHERE instance = $1 AND merge_key = $2 AND state = 'pending'{lock}"
        ))
        .bind(instance)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, older)) = pending else {
            return Ok(None);
        };
        let merged = merge_payloads(
            &serde_json::from_str(&older)?,
            &serde_json::from_str(payload)?,
        );
        sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2")
            .bind(merged.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Ok(Some(id))
    }

    /// Inside a transaction that enqueued jobs: tell the workers of every node
    /// (PostgreSQL `NOTIFY`, delivered at commit).
    pub(crate) async fn announce_jobs(&self, tx: &mut super::super::DbConn) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            sqlx::query("SELECT pg_notify('ferry_jobs', '')")
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}
