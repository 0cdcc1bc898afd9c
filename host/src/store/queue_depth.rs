//! The queue depth for `/metrics`: jobs by state and channel, read from the
//! database when scraped, so that it is right whichever process enqueued or
//! ran them.

use super::Store;
use crate::error::Result;
use crate::metrics::QueueDepth;

impl Store {
    /// How many jobs are in each state of each channel: one `GROUP BY`, a
    /// scan of the jobs table (tens of milliseconds at a million jobs; a
    /// scrape every 15 s or more is the expected use).
    pub async fn queue_depth(&self) -> Result<Vec<QueueDepth>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT state, channel, COUNT(*) FROM jobs GROUP BY state, channel ORDER BY state, channel",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(state, channel, jobs)| QueueDepth {
                state,
                channel,
                jobs,
            })
            .collect())
    }
}
