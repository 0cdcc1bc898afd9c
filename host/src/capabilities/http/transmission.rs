//! The transmission log: one row per outbound request, sent or refused,
//! written once its outcome is known (by [`body`](super::body) when the
//! response body ends).

use crate::metrics::Refusal;
use crate::secrets::Vault;
use crate::store::{Store, Transmission, now_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use wasmtime_wasi_http::WasiBody;

/// Who sent a request, for the transmission log.
#[derive(Debug)]
pub(super) struct RunInfo {
    pub(super) store: Store,
    pub(super) instance: String,
    pub(super) job_id: Option<i64>,
    pub(super) module: String,
    /// Set when a remote answers 429 or 503: only then may the run's
    /// `Retry-After` snooze the instance (see [`crate::queue::retry`]).
    pub(super) asked_to_wait: Arc<AtomicBool>,
}

/// Redact a URL for the log: no user info, query values replaced by `***`.
pub(super) fn redacted(uri: &http::Uri) -> String {
    let mut out = format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("?"),
        uri.host().unwrap_or_default()
    );
    if let Some(port) = uri.port_u16() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}=***"),
                None => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// The transmission log row of one request, written once its outcome is known.
pub(super) struct Logger {
    run: Arc<RunInfo>,
    /// The host asked for (the `host` label of the outbound metric).
    host: String,
    vault: Arc<Vault>,
    pub(super) row: Transmission,
    started: Instant,
    pub(super) sent: Arc<AtomicU64>,
}

impl Logger {
    pub(super) fn new(
        run: &Arc<RunInfo>,
        vault: &Arc<Vault>,
        request: &http::Request<WasiBody>,
    ) -> Self {
        Logger {
            run: run.clone(),
            host: request.uri().host().unwrap_or_default().to_string(),
            vault: vault.clone(),
            row: Transmission {
                at: now_ms(),
                instance: run.instance.clone(),
                job_id: run.job_id,
                module: run.module.clone(),
                method: request.method().to_string(),
                url: redacted(request.uri()),
                ..Default::default()
            },
            started: Instant::now(),
            sent: Arc::default(),
        }
    }

    /// Write the row with what the request ended with, and count it.
    pub(super) fn finish(
        mut self,
        received: u64,
        refused: Option<(Refusal, String)>,
        error: Option<String>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let status = self.row.status.and_then(|s| u16::try_from(s).ok());
        self.run.store.metrics().outbound(
            &self.host,
            status,
            refused.as_ref().map(|(kind, _)| *kind),
        );
        let refused = refused.map(|(_, reason)| reason);
        let row = &mut self.row;
        row.bytes_sent = self.sent.load(Ordering::Relaxed) as i64;
        row.bytes_received = received as i64;
        row.duration_ms = self.started.elapsed().as_millis() as i64;
        row.url = self.vault.redact(&row.url);
        row.refused = refused.map(|r| self.vault.redact(&r));
        row.error = error.map(|e| self.vault.redact(&e));
        async move {
            if let Err(e) = self.run.store.record_transmission(&self.row).await {
                tracing::warn!(url = %self.row.url, "could not log a transmission: {e}");
            }
        }
    }
}
