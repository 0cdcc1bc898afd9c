//! [`Feed`]: what a consumer of one source type gets from the runner: the
//! source and its settings, [`Feed::ready`] (back-pressure), [`Feed::take`]
//! (messages → stored jobs, before any acknowledgement) and the status it
//! reports.

use super::ingest::{Ingest, Message, Taken};
use super::spec::SourceSettings;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::store::{SourceRow, StatusReport, Store, now_ms};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often back-pressure looks at the queue again.
const GATE_RECHECK: Duration = Duration::from_millis(500);

/// A failure of a consumer: the runner reconnects after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The broker refused, was unreachable, or the connection broke.
    #[error("{0}")]
    Broker(String),
    /// Ferry's database failed: nothing was acknowledged.
    #[error("the database failed, nothing was acknowledged: {0}")]
    Store(#[from] crate::error::Error),
}

impl SourceError {
    /// A broker error with what was being done: `SourceError::broker("connect", e)`.
    pub fn broker(doing: &str, error: impl std::fmt::Display) -> Self {
        SourceError::Broker(format!("{doing}: {error}"))
    }
}

/// What one source's consumer reports, as the runner stores it.
#[derive(Debug, Default)]
pub(crate) struct Status {
    current: Mutex<StatusReport>,
}

impl Status {
    /// Set the state (and why).
    pub(crate) fn set(&self, state: &str, detail: Option<String>) {
        let mut s = self.current.lock().unwrap_or_else(|p| p.into_inner());
        s.state = state.to_string();
        s.detail = detail;
    }

    /// Count an error.
    pub(crate) fn error(&self, error: String) {
        let mut s = self.current.lock().unwrap_or_else(|p| p.into_inner());
        s.errors += 1;
        s.last_error = Some((error, now_ms()));
    }

    fn taken(&self, taken: Taken) {
        let mut s = self.current.lock().unwrap_or_else(|p| p.into_inner());
        s.received += (taken.jobs + taken.duplicates) as i64;
        s.dead += taken.dead as i64;
        s.last_message_at = Some(now_ms());
    }

    fn lag(&self, lag: i64) {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).lag = Some(lag);
    }

    /// The report to store: the state, and the counts since the last one.
    pub(crate) fn drain(&self) -> StatusReport {
        let mut s = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let report = s.clone();
        s.received = 0;
        s.dead = 0;
        s.errors = 0;
        s.last_error = None;
        s.last_message_at = None;
        report
    }

    /// The state name.
    pub(crate) fn state(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .state
            .clone()
    }
}

/// Back-pressure: whether the source may take messages now. Closed while
/// an operator paused the source, while its instance is snoozed (its remote
/// asked to wait) and while the instance has `max_pending` jobs waiting.
struct Gate {
    checked: Mutex<Option<(Instant, Option<String>)>>,
}

/// The runner's side of one source, handed to its type's consumer.
pub struct Feed {
    /// The source.
    pub source: SourceRow,
    /// Its settings.
    pub settings: SourceSettings,
    /// The password of the URL's user, from the instance's secret.
    pub password: Option<String>,
    /// This node's name (a consumer name where the broker wants one per node).
    pub node: String,
    ingest: Ingest,
    store: Store,
    metrics: Metrics,
    gate: Gate,
    pub(crate) status: std::sync::Arc<Status>,
    cancel: CancellationToken,
}

impl Feed {
    /// A feed for `ingest`'s source.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ingest: Ingest,
        settings: SourceSettings,
        password: Option<String>,
        node: String,
        store: Store,
        metrics: Metrics,
        status: std::sync::Arc<Status>,
        cancel: CancellationToken,
    ) -> Feed {
        Feed {
            source: ingest.source().clone(),
            settings,
            password,
            node,
            ingest,
            store,
            metrics,
            gate: Gate {
                checked: Mutex::new(None),
            },
            status,
            cancel,
        }
    }

    /// The broker URL with the password put in (for clients that take a URL).
    pub fn url_with_password(&self) -> String {
        crate::service_url::with_password(&self.settings.url, self.password.as_deref())
    }

    /// Messages to take per batch.
    pub fn batch_size(&self) -> usize {
        self.settings.batch()
    }

    /// The consumer name (durable, group, client id).
    pub fn consumer_name(&self) -> String {
        self.settings
            .consumer_or(&self.source.instance, &self.source.listener)
    }

    /// Resolves when the source must stop.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Whether the source must stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Wait until the source may take messages (back-pressure); false when
    /// it must stop instead. Call it before fetching each batch.
    pub async fn ready(&self) -> bool {
        loop {
            if self.cancel.is_cancelled() {
                return false;
            }
            match self.closed_because().await {
                None => {
                    if self.status.state() != "connected" {
                        self.status.set("connected", None);
                        self.metrics.sources().connected(&self.source.name(), true);
                    }
                    return true;
                }
                Some(why) => {
                    if self.status.state() != "paused" {
                        tracing::info!(source = %self.source.name(), "paused: {why}");
                        self.metrics.sources().connected(&self.source.name(), false);
                    }
                    self.status.set("paused", Some(why));
                    tokio::select! {
                        _ = self.cancel.cancelled() => return false,
                        _ = tokio::time::sleep(GATE_RECHECK) => {}
                    }
                }
            }
        }
    }

    /// Why the gate is closed, if it is (checked at most every
    /// [`GATE_RECHECK`]; a database error keeps the gate as it was).
    async fn closed_because(&self) -> Option<String> {
        if let Some((at, why)) = &*self.gate.checked.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < GATE_RECHECK
        {
            return why.clone();
        }
        let why = match self.check_gate().await {
            Ok(why) => why,
            Err(e) => Some(format!("cannot read the queue: {e}")),
        };
        *self.gate.checked.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), why.clone()));
        why
    }

    async fn check_gate(&self) -> Result<Option<String>> {
        let source = self.store.source_by_id(self.source.id).await?;
        if source.paused {
            return Ok(Some("paused by an operator (`ferry source resume`)".into()));
        }
        let instance = &self.source.instance;
        if let Some((_, until, reason)) = self
            .store
            .snoozes()
            .await?
            .into_iter()
            .find(|(i, _, _)| i == instance)
        {
            let left = (until - now_ms()).max(0) / 1000;
            return Ok(Some(format!(
                "instance `{instance}` is snoozed for {left} s more: {reason}"
            )));
        }
        let waiting = self.store.waiting_jobs(instance).await?;
        if waiting >= source.max_pending {
            return Ok(Some(format!(
                "{waiting} jobs of `{instance}` wait to run (max_pending = {})",
                source.max_pending
            )));
        }
        Ok(None)
    }

    /// Store `messages` as jobs (or dead letters), in one transaction.
    /// Acknowledge them at the broker only when this returns `Ok`; on `Err`,
    /// acknowledge none (return the error: the runner reconnects and the
    /// broker delivers them again).
    pub async fn take(&self, messages: &[Message]) -> std::result::Result<Taken, SourceError> {
        if messages.is_empty() {
            return Ok(Taken::default());
        }
        let taken = self.ingest.take(messages).await?;
        self.status.taken(taken);
        self.metrics.sources().messages(
            &self.source.name(),
            taken.jobs,
            taken.duplicates,
            taken.dead,
        );
        // Force a fresh back-pressure look after a large batch.
        if taken.jobs > 0 {
            let mut checked = self.gate.checked.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, None)) = &*checked
                && at.elapsed() >= GATE_RECHECK / 5
            {
                *checked = None;
            }
        }
        Ok(taken)
    }

    /// Report how many messages wait at the broker.
    pub fn lag(&self, lag: i64) {
        self.status.lag(lag);
        self.metrics.sources().lag(&self.source.name(), lag);
    }
}
