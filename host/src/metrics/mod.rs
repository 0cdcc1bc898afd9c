//! The metrics of one installation, in the Prometheus text format.
//!
//! Every metric Ferry exposes is named here, with its labels and what it
//! counts (`docs/observability.md` lists them for operators). A [`Metrics`]
//! value owns its own registry: it belongs to a [`crate::Ferry`] (its
//! [`crate::store::Store`]), not to the process, so that two installations
//! opened in one process never mix their counts.
//!
//! Counters and histograms count what *this process* did: a `ferry serve`
//! exposes the jobs its own worker pool ran, a `ferry worker` (with
//! `--metrics-addr`) its own. Sum them across processes in the scraper. Queue
//! depth is the exception: it is read from the database at scrape time, so it
//! is the same whichever process is scraped.

mod labels;
mod sources;

pub use labels::{JobOutcome, QueueDepth, Refusal};
pub use sources::SourceMetrics;

use labels::WebhookLabels;
use labels::{InstanceLabels, JobLabels, MemoryLabels, ModuleLabels, OutboundLabels, QueueLabels};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

/// The `Content-Type` of [`Metrics::render`]'s text (Prometheus text 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A histogram family whose histograms share one set of buckets.
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, 1 ms to ~9 min (doubling): job runs, queue waits.
fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// Seconds, 0.1 ms to ~3 s (doubling): instantiation is short.
fn short_seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Bytes, 64 KiB to 4 GiB (doubling): a guest's linear memory.
fn bytes_buckets() -> Histogram {
    Histogram::new(exponential_buckets(65_536.0, 2.0, 17))
}

/// The metrics of one installation. Cheap to clone (one shared registry).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    enqueued: Family<JobLabels, Counter>,
    started: Family<JobLabels, Counter>,
    done: Family<JobLabels, Counter>,
    failed: Family<JobLabels, Counter>,
    retried: Family<JobLabels, Counter>,
    duration: Histograms<JobLabels>,
    queue_wait: Histograms<JobLabels>,
    instantiation: Histograms<ModuleLabels>,
    memory_peak: Histograms<MemoryLabels>,
    outbound: Family<OutboundLabels, Counter>,
    webhooks: Family<WebhookLabels, Counter>,
    snoozes: Family<InstanceLabels, Counter>,
    rescues: Counter,
    sources: sources::SourceMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry with every metric of Ferry registered (at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ferry");
        let enqueued = Family::<JobLabels, Counter>::default();
        let started = Family::<JobLabels, Counter>::default();
        let done = Family::<JobLabels, Counter>::default();
        let failed = Family::<JobLabels, Counter>::default();
        let retried = Family::<JobLabels, Counter>::default();
        let duration: Histograms<JobLabels> = Family::new_with_constructor(seconds_buckets);
        let queue_wait: Histograms<JobLabels> = Family::new_with_constructor(seconds_buckets);
        let instantiation: Histograms<ModuleLabels> =
            Family::new_with_constructor(short_seconds_buckets);
        let memory_peak: Histograms<MemoryLabels> = Family::new_with_constructor(bytes_buckets);
        let outbound = Family::<OutboundLabels, Counter>::default();
        let webhooks = Family::<WebhookLabels, Counter>::default();
        let snoozes = Family::<InstanceLabels, Counter>::default();
        let rescues = Counter::default();
        registry.register(
            "jobs_enqueued",
            "Jobs stored by this process (a merge into a pending job, or an identity key that \
             matched one, stores none)",
            enqueued.clone(),
        );
        registry.register(
            "jobs_started",
            "Job tries started by this process's workers",
            started.clone(),
        );
        registry.register(
            "jobs_done",
            "Jobs that ended done in this process",
            done.clone(),
        );
        registry.register(
            "jobs_failed",
            "Jobs that failed for good in this process (no try left, or a final error)",
            failed.clone(),
        );
        registry.register(
            "jobs_retried",
            "Job tries that failed in this process and were scheduled again (snoozes included)",
            retried.clone(),
        );
        registry.register_with_unit(
            "job_duration",
            "How long one try of a job ran, from its start to its outcome",
            Unit::Seconds,
            duration.clone(),
        );
        registry.register_with_unit(
            "job_queue_wait",
            "How long a job waited to start: its start minus the later of its creation and its eta",
            Unit::Seconds,
            queue_wait.clone(),
        );
        registry.register_with_unit(
            "instantiation",
            "Time to instantiate a module's component for one call (each job and unit call gets a \
             fresh instance)",
            Unit::Seconds,
            instantiation.clone(),
        );
        registry.register_with_unit(
            "guest_memory_peak",
            "Largest linear memory one guest instance reached (wasm memory never shrinks: its \
             size at the end of the call)",
            Unit::Bytes,
            memory_peak.clone(),
        );
        registry.register(
            "outbound_requests",
            "Outbound HTTP requests of guests, by host, response status (empty when none came) \
             and refusal reason (empty when sent)",
            outbound.clone(),
        );
        registry.register(
            "webhook_calls",
            "Webhook calls answered by this process, by HTTP status (refusals included)",
            webhooks.clone(),
        );
        registry.register(
            "snoozes",
            "Times a remote asked every job of an instance to wait (429/503 with Retry-After)",
            snoozes.clone(),
        );
        registry.register(
            "lease_rescues",
            "Jobs whose worker stopped (lease expired) put back in the queue by this process",
            rescues.clone(),
        );
        let sources = sources::SourceMetrics::register(&mut registry);
        Metrics {
            inner: Arc::new(Inner {
                registry,
                enqueued,
                started,
                done,
                failed,
                retried,
                duration,
                queue_wait,
                instantiation,
                memory_peak,
                outbound,
                webhooks,
                snoozes,
                rescues,
                sources,
            }),
        }
    }

    /// A job of `instance` named `job` was stored.
    pub fn job_enqueued(&self, instance: &str, job: &str) {
        self.inner
            .enqueued
            .get_or_create(&JobLabels::new(instance, job))
            .inc();
    }

    /// A try of a job started after waiting `wait` in the queue.
    pub fn job_started(&self, instance: &str, job: &str, wait: Duration) {
        let labels = JobLabels::new(instance, job);
        self.inner.started.get_or_create(&labels).inc();
        self.inner
            .queue_wait
            .get_or_create(&labels)
            .observe(wait.as_secs_f64());
    }

    /// A try of a job ended with `outcome` after running `ran`.
    pub fn job_ended(&self, instance: &str, job: &str, outcome: JobOutcome, ran: Duration) {
        let labels = JobLabels::new(instance, job);
        let family = match outcome {
            JobOutcome::Done => &self.inner.done,
            JobOutcome::Failed => &self.inner.failed,
            JobOutcome::Retried => &self.inner.retried,
        };
        family.get_or_create(&labels).inc();
        self.inner
            .duration
            .get_or_create(&labels)
            .observe(ran.as_secs_f64());
    }

    /// An instance of `module` took `took` to instantiate.
    pub fn instantiated(&self, module: &str, took: Duration) {
        self.inner
            .instantiation
            .get_or_create(&ModuleLabels {
                module: module.into(),
            })
            .observe(took.as_secs_f64());
    }

    /// A guest instance of `module` serving `instance` ended with `bytes` of
    /// linear memory.
    pub fn guest_memory(&self, instance: &str, module: &str, bytes: usize) {
        self.inner
            .memory_peak
            .get_or_create(&MemoryLabels {
                instance: instance.into(),
                module: module.into(),
            })
            .observe(bytes as f64);
    }

    /// An outbound request to `host` ended: answered with `status`, refused
    /// for `refusal`, or failed (neither).
    pub fn outbound(&self, host: &str, status: Option<u16>, refusal: Option<Refusal>) {
        self.inner
            .outbound
            .get_or_create(&OutboundLabels {
                host: host.into(),
                status: status.map(|s| s.to_string()).unwrap_or_default(),
                refusal: refusal.map(|r| r.as_str()).unwrap_or_default().into(),
            })
            .inc();
    }

    /// A webhook call was answered with `status` (refusals included).
    pub fn webhook(&self, status: u16) {
        self.inner
            .webhooks
            .get_or_create(&WebhookLabels {
                status: status.to_string(),
            })
            .inc();
    }

    /// A remote asked every job of `instance` to wait.
    pub fn snoozed(&self, instance: &str) {
        self.inner
            .snoozes
            .get_or_create(&InstanceLabels {
                instance: instance.into(),
            })
            .inc();
    }

    /// The broker sources' metrics.
    pub fn sources(&self) -> &SourceMetrics {
        &self.inner.sources
    }

    /// `jobs` jobs whose lease expired were put back in the queue.
    pub fn rescued(&self, jobs: u64) {
        self.inner.rescues.inc_by(jobs);
    }

    /// The Prometheus text of every metric, with the queue depth read at
    /// scrape time (`depth`, from [`crate::store::Store::queue_depth`]).
    pub fn render(&self, depth: &[QueueDepth]) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail; an encoder error would be a bug
        // in a label, and leaves what was written.
        if let Err(e) = prometheus_text::encode(&mut text, &self.inner.registry) {
            tracing::error!("could not encode the metrics: {e}");
        }
        let mut scraped = Registry::with_prefix("ferry");
        let jobs = Family::<QueueLabels, Gauge>::default();
        scraped.register(
            "queue_jobs",
            "Jobs in the database by state and channel, read when scraped (the same from every \
             process)",
            jobs.clone(),
        );
        for row in depth {
            jobs.get_or_create(&QueueLabels {
                state: row.state.clone(),
                channel: row.channel.clone(),
            })
            .set(row.jobs);
        }
        if let Err(e) = prometheus_text::encode(&mut text, &scraped) {
            tracing::error!("could not encode the queue depth: {e}");
        }
        text
    }
}

#[cfg(test)]
mod tests;
