//! [`RunLocks`]: the locks of `lock-or-retry`, shared by every run of the
//! process (part of the `jobs` capability's configuration).

use crate::store::{Store, now_ms};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// Locks taken by runs with `lock-or-retry`: kept in the database (shared
/// by every worker process); this remembers which runs of this process took
/// one, so that only those release at their end.
#[derive(Debug)]
pub struct RunLocks {
    store: Store,
    /// Tells this process's runs from other processes' runs.
    process: u64,
    holding: Mutex<HashSet<u64>>,
}

impl RunLocks {
    /// Locks in `store`.
    pub(crate) fn new(store: Store) -> Self {
        RunLocks {
            store,
            process: fastrand::u64(..),
            holding: Mutex::default(),
        }
    }

    fn holder(&self, run: u64) -> String {
        format!("{:016x}-{run}", self.process)
    }

    /// Take `key` for run `run` (of job `job` = (id, claim token)) for at most
    /// `ttl`; false if another run holds it.
    pub(crate) async fn try_lock(
        &self,
        key: &str,
        run: u64,
        job: Option<(i64, i64)>,
        ttl: Duration,
    ) -> crate::error::Result<bool> {
        self.holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run);
        let expires = now_ms().saturating_add(ttl.as_millis() as i64);
        self.store
            .try_run_lock(key, &self.holder(run), job, expires)
            .await
    }

    /// Release every lock of run `run` (in the background: called on drop).
    pub(crate) fn release(&self, run: u64) {
        let held = self
            .holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&run);
        if held && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, holder) = (self.store.clone(), self.holder(run));
            runtime.spawn(async move {
                if let Err(e) = store.release_run_locks(&holder).await {
                    tracing::warn!(
                        "could not release the locks of run {holder} (they expire): {e}"
                    );
                }
            });
        }
    }
}
