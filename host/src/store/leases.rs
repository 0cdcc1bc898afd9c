//! Leases: a named right held by one holder at a time, across every process
//! that shares the database (the cron scheduler is one per installation, not
//! one per node). A holder keeps its lease by renewing it before it expires; a
//! holder that stops renewing (crashed, cut off) loses it to the next taker.

use super::Store;
use crate::error::Result;

impl Store {
    /// Take lease `name` for `holder` until `now + ttl_ms`, or renew it if
    /// `holder` has it already. Returns whether `holder` holds it now: false if
    /// another holder has it and it has not expired.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now: i64,
    ) -> Result<bool> {
        // One statement, so that two takers cannot both see the lease free: the
        // row is written only if it is new, expired or already ours, and only a
        // written row is returned.
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.expires_at < $4 OR leases.holder = $2 \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ttl_ms))
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(taken.as_deref() == Some(holder))
    }

    /// Give lease `name` back if `holder` has it (so that another node takes
    /// over at once instead of after the expiry).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Who holds lease `name` at `now`, if anyone.
    pub async fn lease_holder(&self, name: &str, now: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at >= $2")
                .bind(name)
                .bind(now)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}
