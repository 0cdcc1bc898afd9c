//! Rows of API tokens: a name, a role and the SHA-256 of the token; the token
//! itself is shown once when it is made ([`crate::tokens`]) and never stored.

use super::{Store, now_ms};
use crate::error::{Error, Result};
use sqlx::Row;

/// An API token as stored: everything but the token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenRow {
    /// Its unique name (who or what uses it).
    pub name: String,
    /// `viewer`, `developer` or `manager`.
    pub role: String,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it was last presented, to the minute (none: never).
    pub last_used_at: Option<i64>,
}

/// How often the last use of a token is written: not on every call, so that
/// reads of the API do not turn into writes.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

impl Store {
    /// Keep a new token; a name already taken is an [`Error::Conflict`].
    pub async fn insert_token(&self, name: &str, role: &str, hash: &str) -> Result<TokenRow> {
        let created_at = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role)
        .bind(hash)
        .bind(created_at)
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "an API token named `{name}` exists already (revoke it first, or choose another name)"
            )));
        }
        Ok(TokenRow {
            name: name.to_string(),
            role: role.to_string(),
            created_at,
            last_used_at: None,
        })
    }

    /// The token whose hash is `hash`, noting that it was used now.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>> {
        let Some(row) = sqlx::query(
            "SELECT name, role, created_at, last_used_at FROM api_tokens WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let token = token_row(&row)?;
        let now = now_ms();
        if token
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS)
        {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE hash = $2")
                .bind(now)
                .bind(hash)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(token))
    }

    /// Every token, by name.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT name, role, created_at, last_used_at FROM api_tokens ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_row).collect()
    }

    /// Forget token `name`; false when there was none.
    pub async fn delete_token(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn token_row(row: &super::DbRow) -> Result<TokenRow> {
    Ok(TokenRow {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}
