//! What operators do with sources, the one way the CLI, the admin API and the
//! console do it: add (checked against the listener and the type), list with
//! what every node reports, pause, resume, remove, and the dead letters.
//! Every change is in the audit log.

use super::listener;
use super::spec::{SourceKind, SourceSettings};
use crate::audit;
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::store::{DeadLetterRow, NewSource, SourceRow, SourceStatusRow, Store};
use serde::{Deserialize, Serialize};

/// Audit action: a source was added.
pub const SOURCE_ADD: &str = "source.add";
/// Audit action: a source was removed.
pub const SOURCE_REMOVE: &str = "source.remove";
/// Audit action: a source was paused.
pub const SOURCE_PAUSE: &str = "source.pause";
/// Audit action: a source was resumed.
pub const SOURCE_RESUME: &str = "source.resume";
/// Audit action: a dead letter was replayed.
pub const DEAD_LETTER_REPLAY: &str = "source.replay";

/// A source to add (`POST /api/sources`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceSpec {
    /// Backend instance.
    pub instance: String,
    /// Listener of its backend chain.
    pub listener: String,
    /// Type.
    pub kind: SourceKind,
    /// Settings of the type.
    pub settings: SourceSettings,
    /// Back-pressure limit (default [`super::DEFAULT_MAX_PENDING`]).
    #[serde(default)]
    pub max_pending: Option<i64>,
}

/// A source with what its consumers report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceView {
    /// The source.
    #[serde(flatten)]
    pub source: SourceRow,
    /// A one-word summary (see [`summary`]).
    pub state: String,
    /// One row per node that consumed it (the newest report of each).
    pub nodes: Vec<SourceStatusRow>,
    /// Dead letters not replayed.
    pub dead_letters: i64,
}

/// A one-word summary of a source: `paused` (by an operator), else the best
/// state a node reports (`connected` over `paused`, `connecting`, `failed`,
/// `standby`), or `idle` when no node runs it.
pub fn summary(source: &SourceRow, nodes: &[SourceStatusRow]) -> &'static str {
    const ORDER: [&str; 6] = [
        "connected",
        "paused",
        "connecting",
        "failed",
        "standby",
        "stopped",
    ];
    if source.paused {
        return "paused";
    }
    ORDER
        .iter()
        .find(|s| nodes.iter().any(|n| n.state == **s))
        .copied()
        .unwrap_or("idle")
}

/// Add a source: the instance and its listener must exist, the settings fit
/// the type, and the password secret (when named) be set.
pub async fn add(
    store: &Store,
    modules: &Modules,
    spec: &SourceSpec,
    actor: &str,
) -> Result<SourceRow> {
    let instance = store.instance(&spec.instance).await?;
    listener::find(&modules.current(), &instance.backend, &spec.listener)?;
    spec.settings.check(spec.kind)?;
    if let Some(name) = &spec.settings.password_secret {
        crate::service_url::check_password_secret(store, &spec.instance, name).await?;
    }
    let max_pending = spec.max_pending.unwrap_or(super::DEFAULT_MAX_PENDING);
    if max_pending < 1 {
        return Err(Error::Invalid("max pending: at least 1".into()));
    }
    let row = store
        .add_source(&NewSource {
            instance: spec.instance.clone(),
            listener: spec.listener.clone(),
            kind: spec.kind.as_str().into(),
            config: spec.settings.to_config(),
            max_pending,
            created_by: actor.into(),
        })
        .await?;
    let mut entry = audit::entry(actor, SOURCE_ADD, &spec.instance, &spec.listener);
    entry.detail = Some(format!("{} {}", spec.kind, spec.settings.url));
    audit::record(store, &entry).await?;
    Ok(row)
}

/// Every source with its nodes' reports.
pub async fn list(store: &Store) -> Result<Vec<SourceView>> {
    let statuses = store.source_statuses().await?;
    let dead = store.dead_letter_counts().await?;
    Ok(store
        .sources()
        .await?
        .into_iter()
        .map(|source| {
            let nodes: Vec<SourceStatusRow> = statuses
                .iter()
                .filter(|s| s.source_id == source.id)
                .cloned()
                .collect();
            SourceView {
                state: summary(&source, &nodes).into(),
                nodes,
                dead_letters: dead
                    .iter()
                    .find(|(id, _)| *id == source.id)
                    .map(|(_, n)| *n)
                    .unwrap_or_default(),
                source,
            }
        })
        .collect())
}

/// Pause (`true`) or resume source `listener` of `instance`: a paused source
/// takes no message; its broker keeps them.
pub async fn set_paused(
    store: &Store,
    instance: &str,
    listener: &str,
    paused: bool,
    actor: &str,
) -> Result<SourceRow> {
    let source = store.source(instance, listener).await?;
    store.set_source_paused(source.id, paused).await?;
    let action = if paused { SOURCE_PAUSE } else { SOURCE_RESUME };
    audit::record(store, &audit::entry(actor, action, instance, listener)).await?;
    store.source_by_id(source.id).await
}

/// Remove source `listener` of `instance` (its dead letters with it); its
/// consumers stop within a few seconds.
pub async fn remove(store: &Store, instance: &str, listener: &str, actor: &str) -> Result<()> {
    let source = store.source(instance, listener).await?;
    store.remove_source(source.id).await?;
    audit::record(
        store,
        &audit::entry(actor, SOURCE_REMOVE, instance, listener),
    )
    .await?;
    Ok(())
}

/// Dead letters of source `listener` of `instance` (of every source when
/// none), newest first.
pub async fn dead_letters(
    store: &Store,
    source: Option<(&str, &str)>,
    include_replayed: bool,
    limit: u32,
) -> Result<Vec<DeadLetterRow>> {
    let id = match source {
        Some((instance, listener)) => Some(store.source(instance, listener).await?.id),
        None => None,
    };
    store.dead_letters(id, include_replayed, limit).await
}

/// Replay dead letter `id` (see [`super::replay`]): the job it became.
pub async fn replay(store: &Store, modules: &Modules, id: i64, actor: &str) -> Result<i64> {
    let dead = store.dead_letter(id).await?;
    let source = store.source_by_id(dead.source_id).await?;
    let job = super::replay::replay(store, modules, id).await?;
    let mut entry = audit::entry(
        actor,
        DEAD_LETTER_REPLAY,
        &source.instance,
        &source.listener,
    );
    entry.job_id = Some(job);
    entry.detail = Some(format!("dead letter {id}"));
    audit::record(store, &entry).await?;
    Ok(job)
}
