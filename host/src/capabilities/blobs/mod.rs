//! `ferry:connector/blobs`: object data of the backend instance (a directory
//! the operator granted with `ferry store set INSTANCE blobs --type disk
//! --dir DIR`, or a bucket with `--type s3`), reached only under the key prefixes the manifest grants
//! (`[capabilities.blobs] prefixes, write`). No store is set by default:
//! until the operator grants one, every call says how.
//!
//! Keys are checked before they reach the store (no `..`, no absolute path:
//! [`ferry_manifest::stores`]), and the disk store resolves every path again
//! inside its directory ([`crate::stores::blobs`]).

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::store_access::{Access, RunStore, StoreState};
use super::wit::WitResult;
use crate::bindings::blobs::{self, BlobInfo};
use crate::engine::config::EngineConfig;
use crate::store::Store;
use crate::stores::blobs::BlobStore;
use crate::stores::blobs::s3::S3Clients;
use crate::stores::{StoreError, StoreKind, StoreRow};
use std::sync::Arc;
use wasmtime::component::Linker;

/// The instance's `blobs` store.
pub struct Blobs;

/// The store of one run, opened at its first use.
pub struct BlobsRun {
    clients: Arc<S3Clients>,
    opened: tokio::sync::OnceCell<Arc<BlobStore>>,
}

impl RunStore for BlobsRun {
    type Store = BlobStore;
    const KIND: StoreKind = StoreKind::Blobs;

    fn opened(&self) -> &tokio::sync::OnceCell<Arc<BlobStore>> {
        &self.opened
    }

    async fn open(
        &self,
        _run: &RunContext,
        row: StoreRow,
        secret: Option<String>,
    ) -> Result<BlobStore, StoreError> {
        BlobStore::open(&row, secret.as_deref(), &self.clients).await
    }
}

/// What one instance may reach, and the run's store.
pub type BlobsState = StoreState<BlobsRun>;

impl Capability for Blobs {
    type Config = Arc<S3Clients>;
    type RunState = BlobsRun;
    type State = BlobsState;

    fn config(_engine: &EngineConfig, _store: &Store) -> Arc<S3Clients> {
        Arc::default()
    }

    fn run_state(config: &Arc<S3Clients>, _run: &RunContext) -> BlobsRun {
        BlobsRun {
            clients: config.clone(),
            opened: tokio::sync::OnceCell::new(),
        }
    }

    fn state(setup: &mut Setup<'_, Self>) -> BlobsState {
        BlobsState {
            grant: setup.manifest.and_then(|m| m.blobs.clone()),
            run: setup.run.map(|(_, run)| run.clone()),
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        blobs::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl blobs::Host for View<'_, Blobs> {
    async fn get(&mut self, key: String) -> WitResult<Option<Vec<u8>>> {
        self.with_store(key, Access::Read, async move |store, key, _| {
            Ok(store.get(&key).await?)
        })
        .await
    }

    async fn put(&mut self, key: String, data: Vec<u8>) -> WitResult<()> {
        self.with_store(key, Access::Write, async move |store, key, _| {
            Ok(store.put(&key, &data).await?)
        })
        .await
    }

    async fn delete(&mut self, key: String) -> WitResult<bool> {
        self.with_store(key, Access::Write, async move |store, key, _| {
            Ok(store.delete(&key).await?)
        })
        .await
    }

    async fn list_blobs(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> WitResult<Vec<BlobInfo>> {
        self.with_store(prefix, Access::List, async move |store, prefix, _| {
            let listed = store.list(&prefix, after.as_deref(), limit).await?;
            Ok(listed
                .into_iter()
                .map(|b| BlobInfo {
                    key: b.key,
                    size: b.size,
                })
                .collect())
        })
        .await
    }
}
