//! Sources ([`crate::triggers::sources`]): which listener of which backend
//! instance takes messages from which broker, the messages taken (so that a
//! redelivery stores nothing twice), the dead letters, and what each node's
//! consumer reports.

use super::Store;
use super::jobs::NewJob;
use super::sql::now_ms;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A stored source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    /// Id.
    pub id: i64,
    /// Backend instance.
    pub instance: String,
    /// Listener of the instance's backend chain (`[[listener]]`).
    pub listener: String,
    /// Type: `rabbitmq`, `nats`, `mqtt`, `redis`, `postgres`.
    pub kind: String,
    /// Settings of the type (a JSON object; secrets only by name).
    pub config: Map<String, Value>,
    /// Pending jobs of the instance past which the source stops taking messages.
    pub max_pending: i64,
    /// Whether an operator paused it.
    pub paused: bool,
    /// Created, ms.
    pub created_at: i64,
    /// Who created it (an audit actor).
    pub created_by: String,
}

impl SourceRow {
    /// `INSTANCE/LISTENER`, as operators and metrics name it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.instance, self.listener)
    }
}

/// A source to store.
#[derive(Debug, Clone)]
pub struct NewSource {
    /// Backend instance.
    pub instance: String,
    /// Listener.
    pub listener: String,
    /// Type.
    pub kind: String,
    /// Settings of the type.
    pub config: Map<String, Value>,
    /// Back-pressure limit.
    pub max_pending: i64,
    /// Audit actor.
    pub created_by: String,
}

/// What became of one message a consumer handed over.
#[derive(Debug, Clone)]
pub enum Intake {
    /// It becomes this job.
    Job(Box<NewJob>),
    /// It goes to dead letters.
    Dead(NewDeadLetter),
}

/// A message that did not become a job.
#[derive(Debug, Clone)]
pub struct NewDeadLetter {
    /// Its content type, if it had one.
    pub content_type: Option<String>,
    /// Its metadata (headers, subject…), a JSON object.
    pub headers: Map<String, Value>,
    /// Its body, cut at the kept size.
    pub body: Vec<u8>,
    /// The size the body had.
    pub body_size: i64,
    /// Why it was refused.
    pub reason: String,
}

/// How one message ended, in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Stored as job `id`.
    Job(i64),
    /// Stored as dead letter `id`.
    Dead(i64),
    /// Taken before (a redelivery): nothing stored.
    Duplicate,
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetterRow {
    /// Id.
    pub id: i64,
    /// Source id.
    pub source_id: i64,
    /// The message's id at its broker.
    pub message_id: String,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its metadata.
    pub headers: Map<String, Value>,
    /// Its body (cut at the kept size).
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The size the body had.
    pub body_size: i64,
    /// Why it was refused.
    pub reason: String,
    /// When, ms.
    pub created_at: i64,
    /// When it was replayed, ms.
    pub replayed_at: Option<i64>,
    /// The job its replay made.
    pub replay_job_id: Option<i64>,
}

/// What one node's consumer of a source reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatusRow {
    /// Source id.
    pub source_id: i64,
    /// The node (worker name).
    pub node: String,
    /// `connecting`, `connected`, `paused`, `standby`, `failed` or `stopped`.
    pub state: String,
    /// Why it is paused, on standby or failed.
    pub detail: Option<String>,
    /// Messages waiting at the broker, when it tells.
    pub lag: Option<i64>,
    /// When the last message came, ms.
    pub last_message_at: Option<i64>,
    /// Messages taken (jobs and duplicates).
    pub received: i64,
    /// Messages sent to dead letters.
    pub dead: i64,
    /// Connection and consumer errors.
    pub errors: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When it came, ms.
    pub last_error_at: Option<i64>,
    /// When this row was written, ms.
    pub updated_at: i64,
}

/// A status report: counters are added to the stored ones.
#[derive(Debug, Clone, Default)]
pub struct StatusReport {
    /// State name.
    pub state: String,
    /// Why.
    pub detail: Option<String>,
    /// Lag, when known.
    pub lag: Option<i64>,
    /// Last message, ms.
    pub last_message_at: Option<i64>,
    /// Messages taken since the last report.
    pub received: i64,
    /// Dead letters since the last report.
    pub dead: i64,
    /// Errors since the last report.
    pub errors: i64,
    /// The last error, with when, ms.
    pub last_error: Option<(String, i64)>,
}

const SOURCE_COLUMNS: &str =
    "id, instance, listener, kind, config, max_pending, paused, created_at, created_by";

type SourceTuple = (i64, String, String, String, String, i64, i64, i64, String);

fn source_row(t: SourceTuple) -> Result<SourceRow> {
    let config = match serde_json::from_str(&t.4)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(SourceRow {
        id: t.0,
        instance: t.1,
        listener: t.2,
        kind: t.3,
        config,
        max_pending: t.5,
        paused: t.6 != 0,
        created_at: t.7,
        created_by: t.8,
    })
}

impl Store {
    /// Store a source; refused when the listener of the instance has one.
    pub async fn add_source(&self, new: &NewSource) -> Result<SourceRow> {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM sources WHERE instance = $1 AND listener = $2")
                .bind(&new.instance)
                .bind(&new.listener)
                .fetch_optional(self.pool())
                .await?;
        if taken.is_some() {
            return Err(Error::Invalid(format!(
                "listener `{}` of `{}` already has a source: remove it first (`ferry source remove {} {}`)",
                new.listener, new.instance, new.instance, new.listener
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sources (instance, listener, kind, config, max_pending, paused, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id",
        )
        .bind(&new.instance)
        .bind(&new.listener)
        .bind(&new.kind)
        .bind(Value::Object(new.config.clone()).to_string())
        .bind(new.max_pending)
        .bind(now_ms())
        .bind(&new.created_by)
        .fetch_one(self.pool())
        .await?;
        self.source_by_id(id).await
    }

    /// Every source, by instance and listener.
    pub async fn sources(&self) -> Result<Vec<SourceRow>> {
        let rows: Vec<SourceTuple> = sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources ORDER BY instance, listener"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(source_row).collect()
    }

    /// Source `id`.
    pub async fn source_by_id(&self, id: i64) -> Result<SourceRow> {
        let row: Option<SourceTuple> = sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(t) => source_row(t),
            None => Err(Error::NotFound {
                kind: "source",
                name: id.to_string(),
                hint: String::new(),
            }),
        }
    }

    /// The source of `listener` of `instance`.
    pub async fn source(&self, instance: &str, listener: &str) -> Result<SourceRow> {
        let row: Option<SourceTuple> = sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE instance = $1 AND listener = $2"
        ))
        .bind(instance)
        .bind(listener)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(t) => source_row(t),
            None => Err(Error::NotFound {
                kind: "source",
                name: format!("{instance}/{listener}"),
                hint: " (see `ferry source list`)".into(),
            }),
        }
    }

    /// Remove a source with its status rows; its dead letters and the
    /// messages it took are removed too.
    pub async fn remove_source(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for table in ["source_status", "source_messages", "dead_letters"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE source_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM sources WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pause or resume source `id`.
    pub async fn set_source_paused(&self, id: i64, paused: bool) -> Result<()> {
        sqlx::query("UPDATE sources SET paused = $1 WHERE id = $2")
            .bind(i64::from(paused))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Store what a batch of messages of source `source_id` became, in one
    /// transaction: each message id is remembered with its job or dead
    /// letter, and a message id taken before stores nothing. Only after this
    /// returns may the consumer acknowledge the messages.
    pub async fn take_messages(
        &self,
        source_id: i64,
        messages: &[(String, Intake)],
    ) -> Result<Vec<IntakeOutcome>> {
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        let now = now_ms();
        let mut any_job = false;
        for (message_id, intake) in messages {
            let fresh: Option<i64> = sqlx::query_scalar(
                "INSERT INTO source_messages (source_id, message_id, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id",
            )
            .bind(source_id)
            .bind(message_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if fresh.is_none() {
                outcomes.push(IntakeOutcome::Duplicate);
                continue;
            }
            let outcome = match intake {
                Intake::Job(job) => {
                    any_job = true;
                    let id = self.enqueue_in(&mut tx, job).await?;
                    sqlx::query(
                        "UPDATE source_messages SET job_id = $1 WHERE source_id = $2 AND message_id = $3",
                    )
                    .bind(id)
                    .bind(source_id)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                    IntakeOutcome::Job(id)
                }
                Intake::Dead(dead) => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO dead_letters (source_id, message_id, content_type, headers, body, body_size, reason, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(source_id)
                    .bind(message_id)
                    .bind(&dead.content_type)
                    .bind(Value::Object(dead.headers.clone()).to_string())
                    .bind(&dead.body)
                    .bind(dead.body_size)
                    .bind(&dead.reason)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    IntakeOutcome::Dead(id)
                }
            };
            outcomes.push(outcome);
        }
        if any_job {
            self.announce_jobs(&mut tx).await?;
        }
        tx.commit().await?;
        if any_job {
            self.wake_workers();
        }
        Ok(outcomes)
    }

    /// Dead letters of source `source_id` (every source when none), newest
    /// first, at most `limit`; replayed ones only when `include_replayed`.
    pub async fn dead_letters(
        &self,
        source_id: Option<i64>,
        include_replayed: bool,
        limit: u32,
    ) -> Result<Vec<DeadLetterRow>> {
        self.dead_letters_where("source_id = $2", source_id, include_replayed, limit)
            .await
    }

    async fn dead_letters_where(
        &self,
        condition: &str,
        value: Option<i64>,
        include_replayed: bool,
        limit: u32,
    ) -> Result<Vec<DeadLetterRow>> {
        type Tuple = (
            i64,
            i64,
            String,
            Option<String>,
            String,
            Vec<u8>,
            i64,
            String,
            i64,
            Option<i64>,
            Option<i64>,
        );
        // Conditions written out rather than `$2 IS NULL`, which PostgreSQL
        // cannot type.
        let mut sql = String::from(
            "SELECT id, source_id, message_id, content_type, headers, body, body_size, reason, created_at, \
             replayed_at, replay_job_id FROM dead_letters WHERE 1 = 1",
        );
        if value.is_some() {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        if !include_replayed {
            sql.push_str(" AND replayed_at IS NULL");
        }
        sql.push_str(" ORDER BY id DESC LIMIT $1");
        let mut query = sqlx::query_as(&sql).bind(i64::from(limit));
        if let Some(value) = value {
            query = query.bind(value);
        }
        let rows: Vec<Tuple> = query.fetch_all(self.pool()).await?;
        rows.into_iter()
            .map(|t| {
                Ok(DeadLetterRow {
                    id: t.0,
                    source_id: t.1,
                    message_id: t.2,
                    content_type: t.3,
                    headers: match serde_json::from_str(&t.4)? {
                        Value::Object(map) => map,
                        _ => Map::new(),
                    },
                    body: t.5,
                    body_size: t.6,
                    reason: t.7,
                    created_at: t.8,
                    replayed_at: t.9,
                    replay_job_id: t.10,
                })
            })
            .collect()
    }

    /// Dead letters not replayed, by source id.
    pub async fn dead_letter_counts(&self) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT source_id, COUNT(*) FROM dead_letters WHERE replayed_at IS NULL GROUP BY source_id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Dead letter `id`.
    pub async fn dead_letter(&self, id: i64) -> Result<DeadLetterRow> {
        self.dead_letters_where("id = $2", Some(id), true, 1)
            .await?
            .pop()
            .ok_or_else(|| Error::NotFound {
                kind: "dead letter",
                name: id.to_string(),
                hint: " (see `ferry source dead-letters`)".into(),
            })
    }

    /// Mark dead letter `id` replayed as job `job_id` (the job is stored by
    /// the caller in the same transaction).
    pub(crate) async fn replay_dead_letter(&self, id: i64, job: &NewJob) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let job_id = self.enqueue_in(&mut tx, job).await?;
        let marked = sqlx::query(
            "UPDATE dead_letters SET replayed_at = $1, replay_job_id = $2 WHERE id = $3 AND replayed_at IS NULL",
        )
        .bind(now_ms())
        .bind(job_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            return Err(Error::Invalid(format!(
                "dead letter {id} is gone or was replayed already"
            )));
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(job_id)
    }

    /// Add a consumer's report for source `source_id` on `node`.
    pub async fn report_source_status(
        &self,
        source_id: i64,
        node: &str,
        report: &StatusReport,
    ) -> Result<()> {
        let (last_error, last_error_at) = match &report.last_error {
            Some((e, at)) => (Some(e.as_str()), Some(*at)),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO source_status (source_id, node, state, detail, lag, last_message_at, received, dead, \
             errors, last_error, last_error_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (source_id, node) DO UPDATE SET state = excluded.state, detail = excluded.detail, \
             lag = COALESCE(excluded.lag, source_status.lag), \
             last_message_at = COALESCE(excluded.last_message_at, source_status.last_message_at), \
             received = source_status.received + excluded.received, dead = source_status.dead + excluded.dead, \
             errors = source_status.errors + excluded.errors, \
             last_error = COALESCE(excluded.last_error, source_status.last_error), \
             last_error_at = COALESCE(excluded.last_error_at, source_status.last_error_at), \
             updated_at = excluded.updated_at",
        )
        .bind(source_id)
        .bind(node)
        .bind(&report.state)
        .bind(&report.detail)
        .bind(report.lag)
        .bind(report.last_message_at)
        .bind(report.received)
        .bind(report.dead)
        .bind(report.errors)
        .bind(last_error)
        .bind(last_error_at)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// What every node reports of every source.
    pub async fn source_statuses(&self) -> Result<Vec<SourceStatusRow>> {
        type Tuple = (
            i64,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
            i64,
            Option<String>,
            Option<i64>,
            i64,
        );
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT source_id, node, state, detail, lag, last_message_at, received, dead, errors, last_error, \
             last_error_at, updated_at FROM source_status ORDER BY source_id, node",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|t| SourceStatusRow {
                source_id: t.0,
                node: t.1,
                state: t.2,
                detail: t.3,
                lag: t.4,
                last_message_at: t.5,
                received: t.6,
                dead: t.7,
                errors: t.8,
                last_error: t.9,
                last_error_at: t.10,
                updated_at: t.11,
            })
            .collect())
    }

    /// Jobs of `instance` waiting to run (pending or enqueued): what
    /// back-pressure compares with a source's `max_pending`.
    pub async fn waiting_jobs(&self, instance: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE instance = $1 AND state IN ('pending', 'enqueued')",
        )
        .bind(instance)
        .fetch_one(self.pool())
        .await?)
    }
}
