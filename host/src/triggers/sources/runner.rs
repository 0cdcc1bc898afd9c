//! The runner: one task per source on this node, started and stopped as
//! sources are added and removed, each reconnecting with backoff when its
//! broker goes away, holding a lease where the type needs one consumer
//! across all nodes, and storing its status every second.

use super::feed::{Feed, SourceError, Status};
use super::ingest::Ingest;
use super::listener;
use super::spec::{SourceKind, SourceSettings};
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::store::{SourceRow, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the runner looks for added, changed and removed sources.
const RELOAD: Duration = Duration::from_secs(2);
/// How often a source's status is stored.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// A source lease lasts this long without renewal (a node that dies hands
/// its sources over within it).
const LEASE_TTL: Duration = Duration::from_secs(10);
/// First wait before reconnecting; doubles up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
/// Longest wait before reconnecting.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the runner needs.
#[derive(Clone)]
pub struct SourcesConfig {
    /// The database.
    pub store: Store,
    /// Installed modules (listeners come from their manifests).
    pub modules: Modules,
    /// Master key file of the instances' secrets (passwords).
    pub key_file: Option<PathBuf>,
    /// This node's name (status rows, lease holder, per-node consumer names).
    pub node: String,
}

/// Run every source on this node until `cancel`.
pub async fn run(config: SourcesConfig, cancel: CancellationToken) {
    let mut running: HashMap<i64, (SourceRow, CancellationToken, JoinHandle<()>)> = HashMap::new();
    loop {
        match config.store.sources().await {
            Ok(sources) => {
                running.retain(|id, (row, stop, _)| {
                    let same = sources.iter().any(|s| s.id == *id && same_binding(s, row));
                    if !same {
                        stop.cancel();
                    }
                    same
                });
                for source in sources {
                    if running.contains_key(&source.id) {
                        continue;
                    }
                    let stop = cancel.child_token();
                    let task =
                        tokio::spawn(run_source(config.clone(), source.clone(), stop.clone()));
                    running.insert(source.id, (source, stop, task));
                }
            }
            Err(e) => tracing::warn!("sources: cannot list them (retrying): {e}"),
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(RELOAD) => {}
        }
    }
    for (_, (_, stop, task)) in running {
        stop.cancel();
        let _ = task.await;
    }
}

/// Whether `a` and `b` bind the same thing (pausing is not a change: the
/// feed's gate reads it).
fn same_binding(a: &SourceRow, b: &SourceRow) -> bool {
    a.kind == b.kind && a.config == b.config && a.max_pending == b.max_pending
}

/// One source on this node until `stop`.
async fn run_source(config: SourcesConfig, source: SourceRow, stop: CancellationToken) {
    let status = Arc::new(Status::default());
    status.set("connecting", None);
    let reporter = tokio::spawn(report_status(
        config.store.clone(),
        source.id,
        config.node.clone(),
        status.clone(),
        stop.clone(),
    ));
    let mut backoff = BACKOFF_FIRST;
    while !stop.is_cancelled() {
        let outcome = consume_once(&config, &source, &status, &stop).await;
        config
            .store
            .metrics()
            .sources()
            .connected(&source.name(), false);
        match outcome {
            Ok(Consumed::Stopped) => break,
            Ok(Consumed::Standby | Consumed::Ended) => backoff = BACKOFF_FIRST,
            Err(e) => {
                let text = e.to_string();
                tracing::warn!(source = %source.name(), "{text}; again in {backoff:?}");
                status.error(text.clone());
                status.set("failed", Some(format!("{text} (again in {backoff:?})")));
            }
        }
        let wait = match status.state().as_str() {
            "standby" => LEASE_TTL / 3,
            _ => backoff,
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(wait + jitter(wait)) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    status.set("stopped", None);
    stop.cancel();
    let _ = reporter.await;
    if SourceKind::parse(&source.kind).is_ok_and(SourceKind::needs_lease) {
        let _ = config
            .store
            .release_lease(&lease_name(&source), &config.node)
            .await;
    }
}

fn jitter(wait: Duration) -> Duration {
    wait.mul_f64(fastrand::f64() * 0.2)
}

enum Consumed {
    /// The source must stop.
    Stopped,
    /// Another node holds the lease.
    Standby,
    /// The consumer ended without being asked to (a lost lease, a broker
    /// that closed the consumer): try again.
    Ended,
}

fn lease_name(source: &SourceRow) -> String {
    format!("source:{}", source.id)
}

/// Connect and consume until the connection ends, the lease is lost or `stop`.
async fn consume_once(
    config: &SourcesConfig,
    source: &SourceRow,
    status: &Arc<Status>,
    stop: &CancellationToken,
) -> std::result::Result<Consumed, SourceError> {
    let kind = SourceKind::parse(&source.kind)?;
    let settings = SourceSettings::from_config(&source.config)?;
    // Where the broker cannot share messages between consumers, one node
    // consumes: the one holding the lease, renewed while it consumes.
    let session = stop.child_token();
    let renewer = if kind.needs_lease() {
        if !take_lease(config, source).await? {
            status.set(
                "standby",
                Some("another node consumes this source (lease)".into()),
            );
            return Ok(Consumed::Standby);
        }
        Some(tokio::spawn(keep_lease(
            config.clone(),
            source.clone(),
            session.clone(),
        )))
    } else {
        None
    };
    let outcome = async {
        let registry = config.modules.current();
        let instance = config.store.instance(&source.instance).await?;
        let bound = listener::find(&registry, &instance.backend, &source.listener)?;
        let password = match &settings.password_secret {
            Some(name) => Some(
                crate::secrets::open_one(
                    &config.store,
                    config.key_file.as_deref(),
                    &source.instance,
                    name,
                )
                .await?
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "secret `{name}` of `{}` is not set (`ferry secret set {} {name}`)",
                        source.instance, source.instance
                    ))
                })?,
            ),
            None => None,
        };
        let ingest = Ingest::new(
            config.store.clone(),
            config.modules.clone(),
            source.clone(),
            bound,
        );
        let feed = Feed::new(
            ingest,
            settings,
            password,
            config.node.clone(),
            config.store.clone(),
            config.store.metrics().clone(),
            status.clone(),
            session.clone(),
        );
        status.set("connecting", None);
        consume(kind, &feed).await
    }
    .await;
    session.cancel();
    if let Some(renewer) = renewer {
        let _ = renewer.await;
    }
    match outcome {
        Ok(()) if stop.is_cancelled() => Ok(Consumed::Stopped),
        Ok(()) => Ok(Consumed::Ended),
        Err(e) => Err(e),
    }
}

async fn take_lease(config: &SourcesConfig, source: &SourceRow) -> Result<bool> {
    config
        .store
        .acquire_lease(
            &lease_name(source),
            &config.node,
            LEASE_TTL.as_millis() as i64,
            crate::store::now_ms(),
        )
        .await
}

/// Renew the lease every third of its life; cancel `session` when it is lost.
async fn keep_lease(config: SourcesConfig, source: SourceRow, session: CancellationToken) {
    loop {
        tokio::select! {
            _ = session.cancelled() => return,
            _ = tokio::time::sleep(LEASE_TTL / 3) => {}
        }
        match take_lease(&config, &source).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(source = %source.name(), "lease lost to another node: stopping here");
                session.cancel();
                return;
            }
            // A database that is down: keep consuming until the lease would
            // have expired (the ingest fails meanwhile anyway).
            Err(e) => tracing::warn!(source = %source.name(), "cannot renew the lease: {e}"),
        }
    }
}

/// Store `status` every [`STATUS_EVERY`] until `stop` (and once after).
async fn report_status(
    store: Store,
    source_id: i64,
    node: String,
    status: Arc<Status>,
    stop: CancellationToken,
) {
    loop {
        let stopped = tokio::select! {
            _ = stop.cancelled() => true,
            _ = tokio::time::sleep(STATUS_EVERY) => false,
        };
        if stopped {
            // Let the source's task set its last state.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let report = status.drain();
        if let Err(e) = store.report_source_status(source_id, &node, &report).await {
            tracing::debug!("source status not stored: {e}");
        }
        if stopped {
            return;
        }
    }
}

/// Consume `feed`'s source with its type's consumer.
async fn consume(kind: SourceKind, feed: &Feed) -> std::result::Result<(), SourceError> {
    match kind {
        SourceKind::Rabbitmq => super::rabbitmq::consume(feed).await,
        SourceKind::Nats => super::nats::consume(feed).await,
        SourceKind::Mqtt => super::mqtt::consume(feed).await,
        SourceKind::Redis => super::redis::consume(feed).await,
        SourceKind::Postgres => super::postgres::consume(feed).await,
    }
}
