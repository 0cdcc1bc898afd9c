//! The label sets of Ferry's metrics, and the small enums whose values
//! become labels (bounded: a label value per guest-chosen string would let a
//! guest grow the scrape without limit).

use prometheus_client::encoding::EncodeLabelSet;

/// `instance`, `job`: the jobs families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct JobLabels {
    pub(super) instance: String,
    pub(super) job: String,
}

impl JobLabels {
    pub(super) fn new(instance: &str, job: &str) -> Self {
        JobLabels {
            instance: instance.into(),
            job: job.into(),
        }
    }
}

/// `module`: instantiation time.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ModuleLabels {
    pub(super) module: String,
}

/// `instance`, `module`: guest memory.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct MemoryLabels {
    pub(super) instance: String,
    pub(super) module: String,
}

/// `host`, `status`, `refusal`: outbound requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OutboundLabels {
    pub(super) host: String,
    pub(super) status: String,
    pub(super) refusal: String,
}

/// `status`: webhook calls. No instance label: the URL names it, and a
/// caller could fill the scrape with names that exist nowhere.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct WebhookLabels {
    pub(super) status: String,
}

/// `instance`: snoozes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct InstanceLabels {
    pub(super) instance: String,
}

/// `state`, `channel`: queue depth.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct QueueLabels {
    pub(super) state: String,
    pub(super) channel: String,
}

/// How a try of a job ended, for the jobs counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done.
    Done,
    /// Failed for good.
    Failed,
    /// Failed, scheduled again.
    Retried,
}

/// Why an outbound request was refused before it was sent (the `refusal`
/// label; the full reason is in the transmission log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The module's manifest or the operator's policy does not allow it
    /// (host, scheme, port, method).
    Policy,
    /// The host resolves to an address Ferry never connects to (private,
    /// loopback, metadata…) outside the trusted networks.
    Address,
    /// The credential it asked for could not be presented.
    Credential,
    /// The run's time budget was spent.
    Budget,
}

impl Refusal {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Policy => "policy",
            Refusal::Address => "address",
            Refusal::Credential => "credential",
            Refusal::Budget => "budget",
        }
    }
}

/// Jobs in one state of one channel, read from the database when scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    /// Job state (`pending`, `started`, …).
    pub state: String,
    /// Channel (`root`, `root.shop`, …).
    pub channel: String,
    /// How many.
    pub jobs: i64,
}
