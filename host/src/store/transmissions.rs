//! The transmission log: one row per outbound HTTP request of a guest, sent or
//! refused, so that an operator can see what connector code talked to.

use super::jobs::{Conditions, escape_like};
use super::{DbRow, Store};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One outbound request and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transmission {
    /// Id (0 before it is stored).
    pub id: i64,
    /// When the request was made, ms since the epoch.
    pub at: i64,
    /// Backend instance of the run.
    pub instance: String,
    /// Job of the run, if it was one.
    pub job_id: Option<i64>,
    /// Module that sent it.
    pub module: String,
    /// HTTP method.
    pub method: String,
    /// URL with query values redacted.
    pub url: String,
    /// Status of the answer, when one came.
    pub status: Option<i64>,
    /// Why the sandbox refused the request.
    pub refused: Option<String>,
    /// What went wrong on the way (connection, timeout, size limit).
    pub error: Option<String>,
    /// Request body bytes sent.
    pub bytes_sent: i64,
    /// Response body bytes received.
    pub bytes_received: i64,
    /// From the request to the end of the answer (or the refusal), ms.
    pub duration_ms: i64,
}

/// Which transmissions to list, newest first. Every field narrows the list;
/// `before` pages back (pass the smallest id shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransmissionFilter {
    /// Only this backend instance.
    pub instance: Option<String>,
    /// Only this job.
    pub job: Option<i64>,
    /// Only requests of this module.
    pub module: Option<String>,
    /// Only requests to this host (`api.example.com`, no port).
    pub host: Option<String>,
    /// Only requests answered with this HTTP status.
    pub status: Option<i64>,
    /// Only refused requests.
    #[serde(rename = "refused")]
    pub refused_only: bool,
    /// Only requests made at or after this time, ms since the epoch.
    pub since: Option<i64>,
    /// Only requests made before this time, ms since the epoch.
    pub until: Option<i64>,
    /// Only requests whose id is below this one (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

impl Default for TransmissionFilter {
    fn default() -> Self {
        TransmissionFilter {
            instance: None,
            job: None,
            module: None,
            host: None,
            status: None,
            refused_only: false,
            since: None,
            until: None,
            before: None,
            limit: 50,
        }
    }
}

const COLUMNS: &str = "id, at, instance, job_id, module, method, url, status, refused, error, \
                       bytes_sent, bytes_received, duration_ms";

impl Store {
    /// Add a row to the transmission log.
    pub async fn record_transmission(&self, t: &Transmission) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO transmissions (at, instance, job_id, module, method, url, status, refused, \
             error, bytes_sent, bytes_received, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(t.at)
        .bind(&t.instance)
        .bind(t.job_id)
        .bind(&t.module)
        .bind(&t.method)
        .bind(&t.url)
        .bind(t.status)
        .bind(t.refused.as_deref())
        .bind(t.error.as_deref())
        .bind(t.bytes_sent)
        .bind(t.bytes_received)
        .bind(t.duration_ms)
        .fetch_one(self.pool())
        .await?)
    }

    /// Forget transmissions made before `before_ms`; returns how many.
    pub async fn prune_transmissions(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM transmissions WHERE at < $1")
            .bind(before_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Transmissions matching `filter`, newest first.
    pub async fn transmissions(&self, filter: &TransmissionFilter) -> Result<Vec<Transmission>> {
        let mut when = Conditions::default();
        when.text_equals("instance", filter.instance.as_deref());
        when.number("job_id", "=", filter.job);
        when.text_equals("module", filter.module.as_deref());
        if let Some(host) = filter.host.as_deref().filter(|h| !h.is_empty()) {
            // The URL is `scheme://host[:port][/path][?query]`.
            let host = escape_like(&host.to_ascii_lowercase());
            let ends = ["", "/%", ":%", "?%"];
            let patterns: Vec<String> = ends.iter().map(|end| format!("%://{host}{end}")).collect();
            when.like_any("url", &patterns);
        }
        when.number("status", "=", filter.status);
        if filter.refused_only {
            when.fixed("refused IS NOT NULL");
        }
        when.number("at", ">=", filter.since);
        when.number("at", "<", filter.until);
        when.number("id", "<", filter.before);
        let sql = format!(
            "SELECT {COLUMNS} FROM transmissions{} ORDER BY id DESC LIMIT {}",
            when.clause(),
            when.next_param()
        );
        let rows = when
            .bind(sqlx::query(&sql))
            .bind(i64::from(filter.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(transmission).collect()
    }
}

fn transmission(r: &DbRow) -> Result<Transmission> {
    Ok(Transmission {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        instance: r.try_get("instance")?,
        job_id: r.try_get("job_id")?,
        module: r.try_get("module")?,
        method: r.try_get("method")?,
        url: r.try_get("url")?,
        status: r.try_get("status")?,
        refused: r.try_get("refused")?,
        error: r.try_get("error")?,
        bytes_sent: r.try_get("bytes_sent")?,
        bytes_received: r.try_get("bytes_received")?,
        duration_ms: r.try_get("duration_ms")?,
    })
}
