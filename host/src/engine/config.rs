//! [`EngineConfig`]: the engine's limits and places, and the capabilities'
//! settings. A module of its own, apart from the engine, so that the
//! capabilities read their settings without depending on the engine that
//! links them.

use crate::capabilities::http::limits::OutboundLimits;
use std::path::PathBuf;
use std::time::Duration;

/// Limits and places of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// Linear memory one instance may use, in bytes.
    pub memory_limit: usize,
    /// Time one job (or one direct call) may take, host calls included.
    pub time_budget: Duration,
    /// How deep units may call units.
    pub max_unit_depth: u32,
    /// Instances the pool holds at once (all runs and nested unit calls).
    pub max_instances: u32,
    /// Elements one table of an instance may grow to.
    pub max_table_elements: usize,
    /// Fuel (roughly, Wasm instructions) one instance may burn; none means no
    /// count (the time budget still applies).
    pub fuel: Option<u64>,
    /// Outbound HTTP caps per invocation, and networks the operator trusts.
    pub outbound: OutboundLimits,
    /// Bounds of guests' record queries, and the connections they share.
    pub guest_queries: crate::store::GuestQueryLimits,
    /// Where the work directories of backend instances are (one folder per
    /// instance); none means that no module gets one.
    pub work_root: Option<PathBuf>,
    /// The master key file of the instances' secrets (used when
    /// `FERRY_MASTER_KEY` is not set); none means no secret can be opened.
    pub secret_key_file: Option<PathBuf>,
    /// Bounds on what guests produce (results, errors, jobs, events…).
    pub limits: crate::limits::Limits,
    /// The cassette a scenario's outbound HTTP is recorded on or replayed
    /// from (`ferry test`, `ferry install --canary`); none in production.
    pub tape: Option<std::sync::Arc<crate::cassette::Tape>>,
}

impl EngineConfig {
    /// Defaults: 64 MiB, 60 s, depth 8, 256 instances, tables of 100,000
    /// elements, no fuel count, [`OutboundLimits::default`](OutboundLimits),
    /// [`GuestQueryLimits::DEFAULT`](crate::store::GuestQueryLimits::DEFAULT);
    /// cache in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            cache_dir: cache_dir.into(),
            memory_limit: 64 << 20,
            time_budget: Duration::from_secs(60),
            max_unit_depth: 8,
            max_instances: 256,
            max_table_elements: 100_000,
            fuel: None,
            outbound: Default::default(),
            guest_queries: Default::default(),
            work_root: None,
            secret_key_file: None,
            limits: Default::default(),
            tape: None,
        }
    }
}
