//! Rows of console sessions ([`crate::serve`]'s web console): the SHA-256 of
//! the session id the browser holds, the API token it was opened with (by
//! name, never the token), that token's role, the session's CSRF secret and
//! its expiry.

use super::{Store, now_ms};
use crate::error::Result;
use sqlx::Row;

/// A console session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The name of the API token the operator signed in with.
    pub token_name: String,
    /// That token's role when the session was opened.
    pub role: String,
    /// The secret every form and API write of this session must carry.
    pub csrf: String,
    /// Opened, ms.
    pub created_at: i64,
    /// Ends, ms.
    pub expires_at: i64,
}

impl Store {
    /// Keep a new session under `id_hash`, and forget the ones that ended
    /// (so the table does not grow with every sign-in).
    pub async fn insert_console_session(
        &self,
        id_hash: &str,
        session: &ConsoleSession,
    ) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, token_name, role, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(&session.token_name)
        .bind(&session.role)
        .bind(&session.csrf)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session stored under `id_hash`: none when there is none, it
    /// has expired, or its token was revoked, re-made (newer than the
    /// session) or given another role since.
    pub async fn console_session(&self, id_hash: &str) -> Result<Option<ConsoleSession>> {
        let row = sqlx::query(
            "SELECT s.token_name, s.role, s.csrf, s.created_at, s.expires_at \
             FROM console_sessions s JOIN api_tokens t \
               ON t.name = s.token_name AND t.role = s.role AND t.created_at <= s.created_at \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(ConsoleSession {
                token_name: row.try_get("token_name")?,
                role: row.try_get("role")?,
                csrf: row.try_get("csrf")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// End the session stored under `id_hash` (signing out); false when
    /// there was none.
    pub async fn delete_console_session(&self, id_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
