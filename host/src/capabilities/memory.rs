//! [`MemoryLimit`]: the memory and table caps of one instance, within the
//! memory budget of its run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::ResourceLimiter;

/// Memory cap of one run: the linear memories of every instance of the run
/// (the job's and its nested unit calls') count against one budget. Also caps
/// the instance's tables, and remembers which limit stopped a guest so that
/// its failure can say so.
pub(crate) struct MemoryLimit {
    pub(crate) max: usize,
    /// Elements one table may hold.
    pub(crate) max_table_elements: usize,
    /// Fuel the instance was given, when counted.
    pub(crate) fuel: Option<u64>,
    /// Set when a table could not grow.
    pub(crate) table_exceeded: bool,
    /// Bytes of the whole run, shared by its instances.
    run_used: Arc<AtomicUsize>,
    /// Bytes of this instance (given back when it is dropped).
    used: usize,
    pub(crate) exceeded: bool,
}

impl MemoryLimit {
    /// A limit of `max` bytes shared through `run_used`.
    pub(crate) fn new(max: usize, run_used: Arc<AtomicUsize>) -> Self {
        MemoryLimit {
            max,
            max_table_elements: 100_000,
            fuel: None,
            table_exceeded: false,
            run_used,
            used: 0,
            exceeded: false,
        }
    }
}

impl MemoryLimit {
    /// Linear memory this instance holds, in bytes (its peak: wasm memory
    /// never shrinks).
    pub(crate) fn used(&self) -> usize {
        self.used
    }
}

impl Drop for MemoryLimit {
    fn drop(&mut self) {
        self.run_used.fetch_sub(self.used, Ordering::Relaxed);
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let delta = desired.saturating_sub(current);
        let before = self.run_used.fetch_add(delta, Ordering::Relaxed);
        if before.saturating_add(delta) > self.max {
            self.run_used.fetch_sub(delta, Ordering::Relaxed);
            self.exceeded = true;
            return Ok(false);
        }
        self.used += delta;
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_table_elements {
            self.table_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }
}
