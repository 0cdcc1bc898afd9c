//! `ferry:connector/meta`: the key-value store of the backend instance
//! (local database or Redis, by the operator's `ferry store set`), reached
//! only under the key prefixes the manifest grants
//! (`[capabilities.meta] prefixes, write`).
//!
//! The store is opened once per run, at the first call (the instance's
//! setting read, the Redis password opened from the run's vault); the Redis
//! connections themselves are the process's, shared by every run. Writes
//! take effect at once (see the WIT): a Redis server has no part in the
//! queue's transaction, and a local write committed apart keeps the two
//! types alike.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::store_access::{Access, RunStore, StoreState};
use super::wit::{WitResult, final_error};
use crate::bindings::meta;
use crate::engine::config::EngineConfig;
use crate::store::Store;
use crate::stores::meta::{MetaStore, RedisConnections};
use crate::stores::{StoreError, StoreKind, StoreRow};
use std::sync::Arc;
use wasmtime::component::Linker;

/// The instance's `meta` store.
pub struct Meta;

/// The store of one run, opened at its first use.
pub struct MetaRun {
    connections: Arc<RedisConnections>,
    opened: tokio::sync::OnceCell<Arc<MetaStore>>,
}

impl RunStore for MetaRun {
    type Store = MetaStore;
    const KIND: StoreKind = StoreKind::Meta;

    fn opened(&self) -> &tokio::sync::OnceCell<Arc<MetaStore>> {
        &self.opened
    }

    async fn open(
        &self,
        run: &RunContext,
        row: StoreRow,
        password: Option<String>,
    ) -> Result<MetaStore, StoreError> {
        MetaStore::open(&run.store, &row, password.as_deref(), &self.connections).await
    }
}

/// What one instance may reach, and the run's store.
pub type MetaState = StoreState<MetaRun>;

impl Capability for Meta {
    type Config = Arc<RedisConnections>;
    type RunState = MetaRun;
    type State = MetaState;

    fn config(_engine: &EngineConfig, _store: &Store) -> Arc<RedisConnections> {
        Arc::default()
    }

    fn run_state(config: &Arc<RedisConnections>, _run: &RunContext) -> MetaRun {
        MetaRun {
            connections: config.clone(),
            opened: tokio::sync::OnceCell::new(),
        }
    }

    fn state(setup: &mut Setup<'_, Self>) -> MetaState {
        MetaState {
            grant: setup.manifest.and_then(|m| m.meta.clone()),
            run: setup.run.map(|(_, run)| run.clone()),
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        meta::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl meta::Host for View<'_, Meta> {
    async fn get(&mut self, key: String) -> WitResult<Option<Vec<u8>>> {
        self.with_store(key, Access::Read, async move |store, key, _| {
            Ok(store.get(&key).await?)
        })
        .await
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> WitResult<()> {
        self.with_store(key, Access::Write, async move |store, key, run| {
            let max = run.limits().max_payload_bytes.as_u64();
            if value.len() as u64 > max {
                return Err(final_error(format!(
                    "meta value of {} bytes at `{key}` is over max_payload_bytes ({max}): \
                     keep large data in `blobs`",
                    value.len()
                )));
            }
            Ok(store.set(&key, &value).await?)
        })
        .await
    }

    async fn delete(&mut self, key: String) -> WitResult<bool> {
        self.with_store(key, Access::Write, async move |store, key, _| {
            Ok(store.delete(&key).await?)
        })
        .await
    }

    async fn list_keys(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> WitResult<Vec<String>> {
        self.with_store(prefix, Access::List, async move |store, prefix, _| {
            Ok(store.list_keys(&prefix, after.as_deref(), limit).await?)
        })
        .await
    }
}
