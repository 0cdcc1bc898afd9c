//! The metrics of broker sources (`ferry source`): messages taken by
//! outcome, whether each source is connected, and its lag at the broker.
//! The label is the source's name `INSTANCE/LISTENER`, which only an
//! operator creates (bounded).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `source`: the source families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SourceLabels {
    source: String,
}

/// `source`, `outcome`: messages taken.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct MessageLabels {
    source: String,
    outcome: &'static str,
}

/// The families of the sources, registered once per registry
/// ([`super::Metrics::sources`]).
#[derive(Default)]
pub struct SourceMetrics {
    messages: Family<MessageLabels, Counter>,
    connected: Family<SourceLabels, Gauge>,
    lag: Family<SourceLabels, Gauge>,
}

impl SourceMetrics {
    /// Register the families in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = SourceMetrics::default();
        registry.register(
            "source_messages",
            "Broker messages this process took from a source, by outcome: job (stored as a job), \
             duplicate (a redelivery, nothing stored), dead (to dead letters)",
            metrics.messages.clone(),
        );
        registry.register(
            "source_connected",
            "1 while this process consumes the source, 0 while it is paused, on standby or \
             reconnecting",
            metrics.connected.clone(),
        );
        registry.register(
            "source_lag",
            "Messages waiting at the broker for the source, as the broker last told",
            metrics.lag.clone(),
        );
        metrics
    }
}

impl SourceMetrics {
    /// A batch of source `source`'s messages was stored: `jobs` new jobs,
    /// `duplicates` redeliveries, `dead` dead letters.
    pub fn messages(&self, source: &str, jobs: usize, duplicates: usize, dead: usize) {
        for (outcome, n) in [("job", jobs), ("duplicate", duplicates), ("dead", dead)] {
            if n > 0 {
                self.messages
                    .get_or_create(&MessageLabels {
                        source: source.into(),
                        outcome,
                    })
                    .inc_by(n as u64);
            }
        }
    }

    /// Source `source` is consumed by this process (or no longer).
    pub fn connected(&self, source: &str, connected: bool) {
        self.connected
            .get_or_create(&SourceLabels {
                source: source.into(),
            })
            .set(i64::from(connected));
    }

    /// Source `source` has `lag` messages waiting at its broker.
    pub fn lag(&self, source: &str, lag: i64) {
        self.lag
            .get_or_create(&SourceLabels {
                source: source.into(),
            })
            .set(lag);
    }
}
