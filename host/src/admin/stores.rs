//! The `meta` and `blobs` stores of instances through [`Admin`]: the CLI
//! (`ferry store …`) and the admin API (`/api/stores`) share these; the work
//! is [`crate::stores`]'s.

use super::Admin;
use super::types::Done;
use crate::error::Result;
use crate::stores::{self, StoreRow, StoreSpec};

impl Admin {
    /// Where instances' stores are (of `instance`, or every instance's),
    /// defaults included.
    pub async fn stores(&self, instance: Option<&str>) -> Result<Vec<StoreRow>> {
        match self {
            Admin::Local(ferry) => stores::list(ferry.store(), instance).await,
            Admin::Remote(r) => match instance {
                Some(i) => r.get(&["api", "stores", i]).await,
                None => r.get(&["api", "stores"]).await,
            },
        }
    }

    /// Set where a store of an instance is, for `actor`.
    pub async fn set_store(&self, spec: &StoreSpec, actor: &str) -> Result<StoreRow> {
        match self {
            Admin::Local(ferry) => stores::set(ferry.store(), spec, actor).await,
            Admin::Remote(r) => r.post(&["api", "stores"], spec).await,
        }
    }

    /// Remove what is set for `store` of `instance` (back to its default),
    /// for `actor`.
    pub async fn remove_store(&self, instance: &str, store: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => {
                stores::remove(ferry.store(), instance, store, actor).await?;
                Ok(Done { done: true })
            }
            Admin::Remote(r) => r.delete(&["api", "stores", instance, store]).await,
        }
    }
}
