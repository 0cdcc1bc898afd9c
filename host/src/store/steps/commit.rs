//! A chunk's commit: in one write transaction, fenced by the job's lease,
//! the local writes its writer returned (with the jobs their record events
//! give subscribers), the cursors its calls set, the reader's position after the chunk, the step's
//! counts and chunk index, its warnings (bounded) and the job's progress.
//! Either all of it is stored or none: a worker killed before the commit
//! leaves the step at the previous chunk, and the next try reads it again.

use super::status::{MAX_STEP_WARNINGS, holds_lease};
use crate::error::Result;
use crate::store::{CursorWrite, EventJob, RecordRow, Store, SyncedAt, now_ms};
use serde_json::Value;

/// A local write a writer returned, committed with its chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalWrite {
    /// Create a record bound to an external one, the link synced at the
    /// record's first revision and at `remote_version`.
    CreateLinked {
        /// Model.
        model: String,
        /// Field values, a JSON object.
        values: Value,
        /// The external record's id.
        external_id: String,
        /// The external record's version at the read.
        remote_version: Option<String>,
    },
    /// Merge values into a record; with `synced_from` (external id, version)
    /// its link is bound synced at the revision this write made.
    Write {
        /// Model.
        model: String,
        /// Record id.
        id: i64,
        /// Field values to merge, a JSON object.
        values: Value,
        /// The external record the values came from, and its version.
        synced_from: Option<(String, Option<String>)>,
    },
    /// Bind a link as synced (an export the remote accepted).
    BindSynced {
        /// Model.
        model: String,
        /// Local record id.
        local_id: i64,
        /// External id.
        external_id: String,
        /// The external record's version, if the remote gives one.
        remote_version: Option<String>,
        /// The local revision the writer sent.
        synced_revision: i64,
        /// Connector data kept with the link.
        data: Option<Value>,
    },
    /// Flag a record for review.
    Checkpoint {
        /// Model.
        model: String,
        /// Record id.
        id: i64,
        /// Why.
        message: String,
    },
}

/// A record change of a chunk, for the caller to turn into the jobs of its
/// subscribers (the store knows no subscriptions).
#[derive(Debug, Clone, Copy)]
pub enum RecordChange<'a> {
    /// A record was created.
    Created(&'a RecordRow),
    /// A record was written: these fields changed.
    Updated(&'a RecordRow, &'a [String]),
}

/// One chunk of an item step, as it commits.
#[derive(Debug, Clone)]
pub struct ChunkCommit<'a> {
    /// The job.
    pub job_id: i64,
    /// The claim's fencing token.
    pub token: i64,
    /// The job's backend instance (the links' side).
    pub instance: &'a str,
    /// The step.
    pub step: &'a str,
    /// Index of the chunk in the step, from 0.
    pub chunk: i64,
    /// Where the next chunk starts; none: the reader is done (the step completes).
    pub next: Option<&'a Value>,
    /// Items read.
    pub read: i64,
    /// Items written.
    pub written: i64,
    /// Items filtered out.
    pub filtered: i64,
    /// Items not written (item, reason): invalid ones and the writer's refusals.
    pub warnings: &'a [(Value, String)],
    /// The writer's local writes, in order.
    pub writes: &'a [LocalWrite],
    /// Cursors the chunk's calls set: they move with the chunk.
    pub cursors: &'a [CursorWrite],
    /// Messages the chunk's calls published: written to the outbox with it.
    pub messages: &'a [crate::store::OutboxWrite],
}

impl Store {
    /// Commit a chunk (see the module's doc). `events` gives the jobs of a
    /// record change's subscribers. Returns false, storing nothing, when the
    /// claim's lease was lost.
    pub async fn commit_chunk(
        &self,
        c: &ChunkCommit<'_>,
        events: &(dyn Fn(RecordChange<'_>) -> Vec<EventJob> + Sync),
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if !holds_lease(self, &mut tx, c.job_id, c.token).await? {
            return Ok(false);
        }
        for write in c.writes {
            self.apply_write(&mut tx, c, write, events).await?;
        }
        Store::set_cursors_in(&mut tx, c.cursors, c.job_id).await?;
        Store::add_outbox_in(&mut tx, c.messages, Some(c.job_id)).await?;
        let kept: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM step_warnings WHERE job_id = $1 AND step = $2",
        )
        .bind(c.job_id)
        .bind(c.step)
        .fetch_one(&mut *tx)
        .await?;
        let room = usize::try_from((MAX_STEP_WARNINGS - kept).max(0)).unwrap_or(0);
        let now = now_ms();
        for (item, reason) in c.warnings.iter().take(room) {
            sqlx::query(
                "INSERT INTO step_warnings (job_id, step, chunk, item, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.job_id)
            .bind(c.step)
            .bind(c.chunk)
            .bind(item.to_string())
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let dropped = c.warnings.len().saturating_sub(room) as i64;
        let (status, ended) = match c.next {
            Some(_) => ("started", None),
            None => ("completed", Some(now)),
        };
        sqlx::query(
            "UPDATE job_steps SET chunks = $1, position = COALESCE($2, position), \
             read_count = read_count + $3, written_count = written_count + $4, \
             filtered_count = filtered_count + $5, skipped_count = skipped_count + $6, \
             warnings_dropped = warnings_dropped + $7, status = $8, ended_at = $9 \
             WHERE job_id = $10 AND step = $11",
        )
        // A reader's empty last chunk (it could not know it was at the end)
        // only completes the step: it is not counted.
        .bind(match (c.read, c.next) {
            (0, None) => c.chunk,
            _ => c.chunk + 1,
        })
        .bind(c.next.map(Value::to_string))
        .bind(c.read)
        .bind(c.written)
        .bind(c.filtered)
        .bind(c.warnings.len() as i64)
        .bind(dropped)
        .bind(status)
        .bind(ended)
        .bind(c.job_id)
        .bind(c.step)
        .execute(&mut *tx)
        .await?;
        // Progress: the items the job's steps have read so far.
        sqlx::query(
            "UPDATE jobs SET progress_done = (SELECT CAST(SUM(read_count) AS BIGINT) FROM job_steps \
             WHERE job_id = $1) WHERE id = $1",
        )
        .bind(c.job_id)
        .execute(&mut *tx)
        .await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(true)
    }

    async fn apply_write(
        &self,
        tx: &mut crate::store::DbConn,
        c: &ChunkCommit<'_>,
        write: &LocalWrite,
        events: &(dyn Fn(RecordChange<'_>) -> Vec<EventJob> + Sync),
    ) -> Result<()> {
        match write {
            LocalWrite::CreateLinked {
                model,
                values,
                external_id,
                remote_version,
            } => {
                let row = self
                    .insert_record_in(tx, model, values.clone(), None, |row| {
                        events(RecordChange::Created(row))
                    })
                    .await?;
                let synced = SyncedAt {
                    remote_version: remote_version.as_deref(),
                    revision: row.revision,
                };
                Store::bind_synced_in(tx, c.instance, model, row.id, external_id, synced, None)
                    .await?;
            }
            LocalWrite::Write {
                model,
                id,
                values,
                synced_from,
            } => {
                let (row, _) = self
                    .write_record_in(tx, model, *id, values.clone(), |row, changed| {
                        events(RecordChange::Updated(row, changed))
                    })
                    .await?;
                if let Some((external_id, version)) = synced_from {
                    let synced = SyncedAt {
                        remote_version: version.as_deref(),
                        revision: row.revision,
                    };
                    Store::bind_synced_in(tx, c.instance, model, *id, external_id, synced, None)
                        .await?;
                }
            }
            LocalWrite::BindSynced {
                model,
                local_id,
                external_id,
                remote_version,
                synced_revision,
                data,
            } => {
                let synced = SyncedAt {
                    remote_version: remote_version.as_deref(),
                    revision: *synced_revision,
                };
                Store::bind_synced_in(
                    tx,
                    c.instance,
                    model,
                    *local_id,
                    external_id,
                    synced,
                    data.clone(),
                )
                .await?;
            }
            LocalWrite::Checkpoint { model, id, message } => {
                Store::add_checkpoint_in(tx, c.instance, model, *id, message, Some(c.job_id))
                    .await?;
            }
        }
        Ok(())
    }
}
