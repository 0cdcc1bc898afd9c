//! The narrow door between the queue and whatever runs a job: the queue
//! claims, leases, records and decides what follows a failure; an
//! [`Executor`] only runs one claimed job and says how it went. The host's
//! runtime implements it (module versions, scopes, the guest call), so the
//! queue knows nothing of wasm, registries or [`crate::Ferry`].

use crate::error::FailureKind;
use crate::store::{CursorWrite, JobRow, LogLine, OutboxWrite};
use futures_util::future::BoxFuture;
use std::time::Duration;

/// Why a try of a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryFailure {
    /// How it failed.
    pub kind: FailureKind,
    /// What happened, already bounded by the executor's limits.
    pub message: String,
    /// For retryable failures: the delay the remote (or the guest) asked for.
    pub retry_after_ms: Option<u64>,
}

impl TryFailure {
    /// Whether another try may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == FailureKind::Retryable
    }
}

/// How one try of a job went, as its executor saw it.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The result (JSON text), or why there is none.
    pub outcome: Result<String, TryFailure>,
    /// Module (and its content hash) that answered the job, if it got that far.
    pub module: Option<(String, String)>,
    /// Log lines of the run, in order.
    pub logs: Vec<LogLine>,
    /// The run only met another run's `lock-or-retry` lock.
    pub lock_contended: bool,
    /// Set when a remote asked every job of the instance to wait (429/503 with
    /// `Retry-After`): the longest that wait may be.
    pub snooze_cap: Option<Duration>,
    /// Cursors the run set: committed with the job's `done` state if the
    /// try succeeded (and its lease still holds), dropped otherwise.
    pub cursors: Vec<CursorWrite>,
    /// Messages the run published: written to the outbox with the job's
    /// `done` state, dropped otherwise (like `cursors`).
    pub messages: Vec<OutboxWrite>,
}

impl Execution {
    /// A try that failed before anything ran.
    pub fn failed(failure: TryFailure) -> Self {
        Execution {
            outcome: Err(failure),
            module: None,
            logs: Vec::new(),
            lock_contended: false,
            snooze_cap: None,
            cursors: Vec::new(),
            messages: Vec::new(),
        }
    }
}

/// Runs claimed jobs for a worker. Shared by the worker's tasks.
pub trait Executor: Send + Sync + 'static {
    /// Run `job` (claimed: its attempt and lease token are set) to its end.
    fn execute<'a>(&'a self, job: &'a JobRow) -> BoxFuture<'a, Execution>;

    /// Called on the worker's maintenance tick: pick up what changed since
    /// (modules installed by other processes, instance parameters).
    fn maintain(&self) -> BoxFuture<'_, ()>;
}
