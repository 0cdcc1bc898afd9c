//! The job queue's workers.
//!
//! A worker claims ready jobs in batches (best priority first, within channel
//! capacities), as many ahead as its slots run while a claim is answered
//! ([prefetch]), holds them under a lease it renews while they run, runs each
//! through its [`Executor`] (the host's runtime: the queue itself knows
//! nothing of modules), and hands the outcome to a [recorder] that writes outcomes in
//! batches. Jobs whose worker died are rescued when their lease expires. On
//! shutdown a worker stops claiming, gives back what it has not started, lets
//! running jobs finish within a grace period and gives back the rest. While
//! it runs, it forgets finished jobs older than its retention.
//!
//! [recorder]: recorder
//! [prefetch]: prefetch

mod channels;
mod config;
mod executor;
pub mod policy;
mod prefetch;
mod recorder;
mod retention;
pub mod retry;
mod run;
mod worker;

pub use channels::Channels;
pub use config::{DEFAULT_BATCH, DEFAULT_RETENTION, WorkerConfig, WorkerStats, node_name};
pub use executor::{Execution, Executor, TryFailure};
pub use retention::PRUNE_INTERVAL;
pub use retry::backoff;
pub use worker::run_worker;
