//! Cursors: how far a job has read a stream of changes (e.g.
//! `import:product`), per backend instance.
//!
//! **Why they commit with the job.** A cursor moved before the job's writes
//! commit skips what a crash lost; one moved after them reads it twice. So a
//! job's `set` is staged in its run and written by the queue driver in the
//! transaction that marks the job done (as a `CursorWrite` of the job's
//! `Completion`), fenced by the same lease token
//! (see `record_completions` of `jobs::driver`): a completion that matches
//! no row (its lease was lost) moves no cursor. Operators and runs outside a
//! job write at once ([`Store::set_cursor`]).

use super::{Store, now_ms};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// Longest cursor name.
pub const MAX_CURSOR_NAME: usize = 128;

/// A committed cursor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CursorRow {
    /// Backend instance.
    pub instance: String,
    /// Stream name.
    pub name: String,
    /// Value, as the connector set it.
    pub value: Value,
    /// When it was last set, ms.
    pub updated_at: i64,
    /// The job whose completion set it; none when set outside a job.
    pub job_id: Option<i64>,
}

/// Refuse a cursor name that is not 1 to [`MAX_CURSOR_NAME`] letters,
/// digits and `:._-/` (names show in the CLI and key the table).
pub fn check_cursor_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_CURSOR_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "cursor name {name:?}: use 1 to {MAX_CURSOR_NAME} letters, digits and `:._-/` \
             (e.g. `import:product`)"
        )))
    }
}

fn row(
    (instance, name, value, updated_at, job_id): (String, String, String, i64, Option<i64>),
) -> CursorRow {
    CursorRow {
        instance,
        name,
        value: serde_json::from_str(&value).unwrap_or(Value::Null),
        updated_at,
        job_id,
    }
}

impl Store {
    /// The committed value of cursor `name` of `instance`.
    pub async fn cursor(&self, instance: &str, name: &str) -> Result<Option<Value>> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM cursors WHERE instance = $1 AND name = $2")
                .bind(instance)
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        value
            .map(|v| serde_json::from_str(&v).map_err(Error::from))
            .transpose()
    }

    /// Set cursor `name` of `instance` at once (an operator, or a run outside
    /// a job); `job_id` says which job set it, if any.
    pub async fn set_cursor(
        &self,
        instance: &str,
        name: &str,
        value: &Value,
        job_id: Option<i64>,
    ) -> Result<CursorRow> {
        check_cursor_name(name)?;
        let fields: (String, String, String, i64, Option<i64>) = sqlx::query_as(
            "INSERT INTO cursors (instance, name, value, updated_at, job_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (instance, name) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at, job_id = excluded.job_id \
             RETURNING instance, name, value, updated_at, job_id",
        )
        .bind(instance)
        .bind(name)
        .bind(value.to_string())
        .bind(now_ms())
        .bind(job_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row(fields))
    }

    /// Set the cursors a run staged, in the caller's write transaction (a
    /// step's chunk commits the cursors its calls set with its position).
    pub(crate) async fn set_cursors_in(
        tx: &mut super::DbConn,
        cursors: &[super::CursorWrite],
        job_id: i64,
    ) -> Result<()> {
        for c in cursors {
            sqlx::query(
                "INSERT INTO cursors (instance, name, value, updated_at, job_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (instance, name) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at, job_id = excluded.job_id",
            )
            .bind(&c.instance)
            .bind(&c.name)
            .bind(&c.value)
            .bind(now_ms())
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// The cursors of `instance`, by name.
    pub async fn cursors(&self, instance: &str) -> Result<Vec<CursorRow>> {
        let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT instance, name, value, updated_at, job_id FROM cursors \
             WHERE instance = $1 ORDER BY name",
        )
        .bind(instance)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Remove cursor `name` of `instance` (the next run reads the stream
    /// from its start); false if there was none.
    pub async fn clear_cursor(&self, instance: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM cursors WHERE instance = $1 AND name = $2")
            .bind(instance)
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_names_are_bounded_and_plain() {
        assert!(check_cursor_name("import:product").is_ok());
        assert!(check_cursor_name("a/b.c_d-e").is_ok());
        assert!(check_cursor_name("").is_err());
        assert!(check_cursor_name("has space").is_err());
        assert!(check_cursor_name(&"x".repeat(MAX_CURSOR_NAME + 1)).is_err());
    }
}
