//! Enqueueing: jobs are stored durably before anything runs them.

use super::super::{Dialect, Store, now_ms};
use super::{InsertRow, NewJob, merge_payloads};
use crate::error::Result;

/// The columns a new job sets.
macro_rules! insert_columns {
    () => {
        "instance, name, payload, priority, eta, max_retries, retry_pattern, identity_key, \
         merge_key, channel, description, user_name, pinned_module, pinned_hash, pin_policy, \
         group_name, has_deps, triggered_by"
    };
}

/// A new job, its columns bound as `$1`…`$18` in the order of
/// [`insert_columns`] and its creation time as `$19`; nothing (no row
/// returned) when a pending or enqueued job of the instance has its identity key.
const INSERT_ONE: &str = concat!(
    "INSERT INTO jobs (",
    insert_columns!(),
    ", state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'pending', $19) \
     ON CONFLICT (instance, identity_key) WHERE identity_key IS NOT NULL AND state IN ('pending', 'enqueued') \
     DO NOTHING RETURNING id"
);

/// Plain new jobs travel as one JSON array of objects (`$1`, see
/// `InsertRow`) with their creation time as `$2`: on SQLite each object is
/// taken out once (`MATERIALIZED`) rather than parsed again for every column.
/// No `RETURNING`: one statement holding the write lock gives its rows
/// consecutive ids (`AUTOINCREMENT`: one more than the largest ever), so the
/// last one and the count name them all, without a row per job back
/// through sqlx's channel.
const INSERT_MANY_SQLITE: &str = concat!(
    "INSERT INTO jobs (",
    insert_columns!(),
    ", state, created_at) SELECT ",
    insert_columns!(),
    ", 'pending', $2 FROM (WITH e AS MATERIALIZED (SELECT value AS o FROM json_each($1)) SELECT \
     json_extract(o, '$.instance') AS instance, json_extract(o, '$.name') AS name, \
     json_extract(o, '$.payload') AS payload, json_extract(o, '$.priority') AS priority, \
     json_extract(o, '$.eta') AS eta, json_extract(o, '$.max_retries') AS max_retries, \
     json_extract(o, '$.retry_pattern') AS retry_pattern, json_extract(o, '$.identity_key') \
     AS identity_key, json_extract(o, '$.merge_key') AS merge_key, json_extract(o, \
     '$.channel') AS channel, json_extract(o, '$.description') AS description, \
     json_extract(o, '$.user_name') AS user_name, json_extract(o, '$.pinned_module') AS \
     pinned_module, json_extract(o, '$.pinned_hash') AS pinned_hash, json_extract(o, \
     '$.pin_policy') AS pin_policy, json_extract(o, '$.group_name') AS group_name, \
     json_extract(o, '$.has_deps') AS has_deps, json_extract(o, '$.triggered_by') AS triggered_by \
     FROM e) AS v"
);

/// [`INSERT_MANY_SQLITE`] on PostgreSQL (the store's `Any` pool binds no
/// arrays). `json`, not `jsonb`: the batch is read once, in order, and
/// `jsonb_to_recordset` first builds the whole binary document (2.1x the
/// server's time for 500 rows, 3.0 against 1.45 ms).
const INSERT_MANY_POSTGRES: &str = concat!(
    "INSERT INTO jobs (",
    insert_columns!(),
    ", state, created_at) SELECT ",
    insert_columns!(),
    ", 'pending', $2 FROM json_to_recordset(($1)::json) AS v(\
     instance text, name text, payload text, priority bigint, eta bigint, max_retries bigint, \
     retry_pattern text, identity_key text, merge_key text, channel text, description text, \
     user_name text, pinned_module text, pinned_hash text, pin_policy text, group_name text, \
     has_deps bigint, triggered_by text) \
     RETURNING id"
);

/// The pending job of an instance with a merge key (`$1`, `$2`); on
/// PostgreSQL locked, so that two merges into it do not lose one another.
const MERGE_TWIN_SQLITE: &str =
    "SELECT id, payload FROM jobs WHERE instance = $1 AND merge_key = $2 AND state = 'pending'";
const MERGE_TWIN_POSTGRES: &str = "SELECT id, payload FROM jobs WHERE instance = $1 AND merge_key = $2 \
     AND state = 'pending' FOR UPDATE";

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

    /// Store many jobs in one transaction; their ids, in the order of `jobs`.
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = vec![0; jobs.len()];
        let (plain, special): (Vec<usize>, Vec<usize>) = (0..jobs.len()).partition(|&i| {
            let j = &jobs[i];
            j.identity_key.is_none()
                && j.merge_key.is_none()
                && j.depends_on.is_empty()
                && j.after_groups.is_empty()
        });
        // Plain jobs travel as one JSON array in one statement.
        for chunk in plain.chunks(500) {
            let rows: Vec<InsertRow> = chunk
                .iter()
                .map(|&i| InsertRow::of(&jobs[i]))
                .collect::<Result<_>>()?;
            let stored = self
                .insert_plain(&mut tx, serde_json::to_string(&rows)?, chunk.len())
                .await?;
            for (&i, id) in chunk.iter().zip(stored) {
                ids[i] = id;
                self.metrics.job_enqueued(&jobs[i].instance, &jobs[i].name);
            }
        }
        for i in special {
            ids[i] = self.enqueue_in(&mut tx, &jobs[i]).await?;
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(ids)
    }

    /// Insert `n` plain jobs (`batch`, a JSON array of [`InsertRow`]s) in
    /// the transaction `tx`; their ids, in the batch's order.
    async fn insert_plain(
        &self,
        tx: &mut super::super::DbConn,
        batch: String,
        n: usize,
    ) -> Result<Vec<i64>> {
        match self.dialect() {
            Dialect::Sqlite => {
                let written = sqlx::query(INSERT_MANY_SQLITE)
                    .bind(batch)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if written != n as u64 {
                    return Err(sqlx::Error::Protocol(format!(
                        "storing {n} jobs wrote {written} rows"
                    ))
                    .into());
                }
                let last: i64 = sqlx::query_scalar("SELECT last_insert_rowid()")
                    .fetch_one(&mut *tx)
                    .await?;
                Ok((last - n as i64 + 1..=last).collect())
            }
            Dialect::Postgres => {
                let mut ids: Vec<i64> = sqlx::query_scalar(INSERT_MANY_POSTGRES)
                    .bind(batch)
                    .bind(now_ms())
                    .fetch_all(&mut *tx)
                    .await?;
                ids.sort_unstable();
                Ok(ids)
            }
        }
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
        let inserted = sqlx::query_scalar::<_, i64>(INSERT_ONE)
            .bind(&new.instance)
            .bind(&new.name)
            .bind(&new.payload)
            .bind(new.priority)
            .bind(new.eta)
            .bind(new.max_retries)
            .bind(
                new.retry_pattern
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
            )
            .bind(&new.identity_key)
            .bind(&new.merge_key)
            .bind(&new.channel)
            .bind(&new.description)
            .bind(&new.user)
            .bind(new.pin.as_ref().map(|p| p.module.clone()))
            .bind(new.pin.as_ref().map(|p| p.hash.clone()))
            .bind(new.pin_policy.as_str())
            .bind(&new.group)
            .bind(i64::from(
                !new.depends_on.is_empty() || !new.after_groups.is_empty(),
            ))
            .bind(new.trigger.as_str())
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
        let id = match inserted {
            Some(id) => {
                // Counted when written: a caller's transaction that rolls
                // back afterwards (rare: a failed record write) still counts.
                self.metrics.job_enqueued(&new.instance, &new.name);
                id
            }
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
        let sql = match self.dialect() {
            Dialect::Sqlite => MERGE_TWIN_SQLITE,
            Dialect::Postgres => MERGE_TWIN_POSTGRES,
        };
        let pending: Option<(i64, String)> = sqlx::query_as(sql)
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
