//! The triggers that run beside a worker pool, in `ferry serve` and `ferry
//! worker`: the cron scheduler ([`super::cron`], one node at a time by lease)
//! the broker sources ([`super::sources`]) and the outbox relay
//! ([`crate::relay`], one node per instance by lease). Both commands start them here,
//! so that they run the same way wherever they run.

use crate::Ferry;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Which background triggers a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Background {
    /// The cron scheduler.
    pub cron: bool,
    /// The broker sources.
    pub sources: bool,
    /// The outbox relay.
    pub relay: bool,
}

/// The background triggers running in this process.
pub struct Running {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

/// Start `which` on `ferry` for node `node`, until `shutdown`.
pub fn start(
    ferry: &Ferry,
    which: Background,
    node: &str,
    shutdown: &CancellationToken,
) -> Running {
    let mut tasks = Vec::new();
    if which.cron {
        tasks.push((
            "the cron scheduler",
            tokio::spawn(super::cron::run_scheduler(
                ferry.store().clone(),
                ferry.modules().clone(),
                shutdown.child_token(),
            )),
        ));
    }
    if which.sources {
        let config = super::sources::SourcesConfig {
            store: ferry.store().clone(),
            modules: ferry.modules().clone(),
            key_file: ferry.engine().config().secret_key_file.clone(),
            node: node.to_string(),
        };
        tasks.push((
            "the broker sources",
            tokio::spawn(super::sources::run(config, shutdown.child_token())),
        ));
    }
    if which.relay {
        tasks.push((
            "the outbox relay",
            tokio::spawn(crate::relay::run(
                ferry.store().clone(),
                node.to_string(),
                ferry.engine().config().secret_key_file.clone(),
                shutdown.child_token(),
            )),
        ));
    }
    Running { tasks }
}

impl Running {
    /// Wait for every task to end (after the shutdown token was cancelled);
    /// each gives its leases back first.
    pub async fn stopped(self) {
        for (what, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::error!("{what} ended abnormally: {e}");
            }
        }
    }
}
