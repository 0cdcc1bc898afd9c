//! Broker sources through [`Admin`]: the CLI (`ferry source …`), the admin
//! API (`/api/sources`, `/api/dead-letters`) and the CLI in remote mode share
//! these; the work is [`crate::triggers::sources::manage`]'s.

use super::Admin;
use super::types::Done;
use super::views::{
    BODY_PREVIEW, DeadLetterInfo, DeadLetterQuery, MAX_DEAD_LETTERS, Replayed, SourceAction,
};
use crate::error::Result;
use crate::store::{DeadLetterRow, SourceRow};
use crate::triggers::sources::{SourceSpec, SourceView, manage};

impl Admin {
    /// Every source, with what each node reports and its dead letters.
    pub async fn sources(&self) -> Result<Vec<SourceView>> {
        match self {
            Admin::Local(ferry) => manage::list(ferry.store()).await,
            Admin::Remote(r) => r.get(&["api", "sources"]).await,
        }
    }

    /// Bind a listener of an instance to a broker, for `actor`.
    pub async fn add_source(&self, spec: &SourceSpec, actor: &str) -> Result<SourceRow> {
        match self {
            Admin::Local(ferry) => manage::add(ferry.store(), ferry.modules(), spec, actor).await,
            Admin::Remote(r) => r.post(&["api", "sources"], spec).await,
        }
    }

    /// Pause or resume source `listener` of `instance`, for `actor`.
    pub async fn source_action(
        &self,
        instance: &str,
        listener: &str,
        action: SourceAction,
        actor: &str,
    ) -> Result<SourceRow> {
        match self {
            Admin::Local(ferry) => {
                let paused = action == SourceAction::Pause;
                manage::set_paused(ferry.store(), instance, listener, paused, actor).await
            }
            Admin::Remote(r) => {
                let action = match action {
                    SourceAction::Pause => "pause",
                    SourceAction::Resume => "resume",
                };
                r.post(&["api", "sources", instance, listener, action], &())
                    .await
            }
        }
    }

    /// Remove source `listener` of `instance` (and its dead letters), for `actor`.
    pub async fn remove_source(&self, instance: &str, listener: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => {
                manage::remove(ferry.store(), instance, listener, actor).await?;
                Ok(Done { done: true })
            }
            Admin::Remote(r) => r.delete(&["api", "sources", instance, listener]).await,
        }
    }

    /// Dead letters, newest first.
    pub async fn dead_letters(&self, query: &DeadLetterQuery) -> Result<Vec<DeadLetterInfo>> {
        match self {
            Admin::Local(ferry) => {
                let store = ferry.store();
                let source = match (&query.instance, &query.listener) {
                    (Some(i), Some(l)) => Some((i.as_str(), l.as_str())),
                    (None, None) => None,
                    _ => {
                        return Err(crate::error::Error::Invalid(
                            "dead letters: give both the instance and the listener, or neither"
                                .into(),
                        ));
                    }
                };
                let limit = query.limit.unwrap_or(100).min(MAX_DEAD_LETTERS);
                let rows = manage::dead_letters(store, source, query.replayed, limit).await?;
                let sources = store.sources().await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let name = sources
                            .iter()
                            .find(|s| s.id == row.source_id)
                            .map(SourceRow::name)
                            .unwrap_or_else(|| format!("#{}", row.source_id));
                        info(row, name)
                    })
                    .collect())
            }
            Admin::Remote(r) => r.get_with(&["api", "dead-letters"], query).await,
        }
    }

    /// Replay dead letter `id` as a job, for `actor`.
    pub async fn replay_dead_letter(&self, id: i64, actor: &str) -> Result<Replayed> {
        match self {
            Admin::Local(ferry) => {
                let job = manage::replay(ferry.store(), ferry.modules(), id, actor).await?;
                Ok(Replayed {
                    dead_letter: id,
                    job,
                })
            }
            Admin::Remote(r) => {
                r.post(&["api", "dead-letters", &id.to_string(), "replay"], &())
                    .await
            }
        }
    }
}

fn info(row: DeadLetterRow, source: String) -> DeadLetterInfo {
    let shown = &row.body[..row.body.len().min(BODY_PREVIEW)];
    DeadLetterInfo {
        id: row.id,
        source,
        message_id: row.message_id,
        content_type: row.content_type,
        headers: row.headers,
        body_preview: String::from_utf8_lossy(shown).into_owned(),
        body_size: row.body_size,
        reason: row.reason,
        created_at: row.created_at,
        replayed_at: row.replayed_at,
        replay_job_id: row.replay_job_id,
    }
}
