//! Which models have local records, for operators (`ferry records`).

use super::Store;
use crate::error::Result;

/// Most models listed.
const MAX_MODELS: i64 = 50;

impl Store {
    /// The models that have records, with how many each, most first (at most 50).
    pub async fn record_models(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT model, COUNT(*) AS n FROM records GROUP BY model ORDER BY n DESC, model LIMIT $1",
        )
        .bind(MAX_MODELS)
        .fetch_all(self.pool())
        .await?)
    }
}
