//! How a worker runs ([`WorkerConfig`]) and what it did ([`WorkerStats`]).

use super::channels::Channels;
use super::run::Ended;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once by this worker.
    pub concurrency: usize,
    /// Most jobs held at once: running, and claimed waiting `enqueued` for
    /// a free slot; at least `concurrency`. Below it the worker claims
    /// ahead what its slots run in about two claims' round trips, measured
    /// as it goes: a slot's worth or two for slow jobs, hundreds for many
    /// short ones.
    pub batch: usize,
    /// Channel capacities, counted across all workers of the database.
    pub channels: Channels,
    /// Stop when no job is running and none is runnable now (instead of
    /// waiting for more); see `idle_horizon` and `wait_leases`.
    pub until_idle: bool,
    /// With `until_idle`: jobs due within this long (retries, etas, snoozes
    /// that end) are waited for. Default: none.
    pub idle_horizon: Duration,
    /// With `until_idle`: also wait while jobs are held by other workers
    /// (running, or held by a dead worker's lease until it expires and they
    /// are rescued and run here).
    pub wait_leases: bool,
    /// Longest wait between looks at the queue when nothing wakes the worker.
    pub poll_interval: Duration,
    /// First retry delay of the default backoff; doubles with each try.
    pub retry_base: Duration,
    /// How long a claim holds a job without being renewed; the worker renews
    /// it every third of that. A dead worker's jobs run again after it.
    pub lease: Duration,
    /// At shutdown: how long running jobs may take to finish before they are
    /// given back.
    pub grace: Duration,
    /// Cancel to shut the worker down (e.g. on SIGTERM).
    pub shutdown: CancellationToken,
    /// Name the worker's claims carry (default: host, process id and a random tag).
    pub name: Option<String>,
    /// Forget finished jobs (with their logs and steps), transmissions and
    /// sent outbox messages older than this, now and then while running
    /// (none: keep everything). Default: 30 days.
    pub retention: Option<Duration>,
}

/// The most jobs a worker holds at once by default (see
/// [`WorkerConfig::batch`]).
pub const DEFAULT_BATCH: usize = 1024;

/// How long workers keep finished jobs by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 4,
            batch: DEFAULT_BATCH,
            channels: Channels::default(),
            until_idle: false,
            idle_horizon: Duration::ZERO,
            wait_leases: false,
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            shutdown: CancellationToken::new(),
            name: None,
            retention: Some(DEFAULT_RETENTION),
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs that finished done.
    pub done: u64,
    /// Jobs that failed for good.
    pub failed: u64,
    /// Tries that failed and were scheduled again.
    pub retried: u64,
    /// Jobs given back at shutdown.
    pub released: u64,
}

impl WorkerStats {
    pub(super) fn count(&mut self, ended: &Ended) {
        match ended {
            Ended::Done => self.done += 1,
            Ended::Retried(_) => self.retried += 1,
            Ended::Failed => self.failed += 1,
        }
    }
}

/// The name of this node: `given`, or `HOST-PID-XXXX`. Workers, leases and
/// source statuses name the process with it.
pub fn node_name(given: Option<&str>) -> String {
    given.map(str::to_string).unwrap_or_else(default_name)
}

pub(super) fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}
