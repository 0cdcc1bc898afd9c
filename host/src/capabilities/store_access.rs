//! What the `meta` and `blobs` capabilities share: the manifest's grant
//! checked for a key, and store errors as WIT errors.

use super::capability::{Capability, View};
use super::context::RunContext;
use super::wit::{WitResult, denied, final_error};
use crate::bindings::types;
use crate::stores::{StoreError, StoreRow, configured};
use ferry_manifest::stores::{check_key, check_prefix};
use ferry_manifest::{StoreGrant, StoreKind};
use std::sync::Arc;

/// What a guest does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Get one key.
    Read,
    /// List keys under a prefix.
    List,
    /// Set or delete one key.
    Write,
}

/// Whether `module` may do `access` on `key` of store `kind`, or why not:
/// a malformed key is `final`, a key (or a write) the manifest does not grant
/// is `denied`, naming the manifest key to change.
pub(crate) fn check_access(
    grant: Option<&StoreGrant>,
    kind: StoreKind,
    module: &str,
    key: &str,
    access: Access,
) -> Result<(), types::Error> {
    let store = kind.name();
    match access {
        Access::List => check_prefix(kind, key),
        Access::Read | Access::Write => check_key(kind, key),
    }
    .map_err(|e| final_error(format!("{store} key {key:?}: {e}")))?;
    let Some(grant) = grant else {
        return Err(denied(format!(
            "module `{module}` may not use the `{store}` store: add `[capabilities.{store}]` with \
             the key prefixes it reaches (`prefixes = [\"…/\"]`, and `write = true` to write) to \
             its connector.toml"
        )));
    };
    if !grant.covers(key) {
        return Err(denied(format!(
            "module `{module}` may not reach `{store}` key {key:?}: its \
             `[capabilities.{store}] prefixes` are {:?}",
            grant.prefixes
        )));
    }
    if access == Access::Write && !grant.write {
        return Err(denied(format!(
            "module `{module}` may only read the `{store}` store: add `write = true` under \
             `[capabilities.{store}]` in its connector.toml"
        )));
    }
    Ok(())
}

/// Where the run's instance keeps store `kind`, and the secret its settings
/// name, opened from the run's vault (so it is redacted from what the run
/// leaves behind); refused, saying how to set one, when there is none.
pub(crate) async fn store_of(
    run: &RunContext,
    kind: StoreKind,
) -> Result<(StoreRow, Option<String>), StoreError> {
    let instance = &run.instance.name;
    let store = kind.name();
    let row = configured(&run.store, instance, kind)
        .await?
        .ok_or_else(|| {
            StoreError::Refused(format!(
                "backend instance `{instance}` has no {store} store: an operator grants one \
                 with `ferry store set {instance} {store} --type disk --dir DIR` (or `--type s3`)"
            ))
        })?;
    let secret = match &row.settings.password_secret {
        Some(name) => Some(run.vault.value(name).await.map_err(StoreError::Refused)?),
        None => None,
    };
    Ok((row, secret))
}

/// The store of one run of a store capability, opened at its first use.
pub(crate) trait RunStore: Send + Sync + 'static {
    /// The opened store.
    type Store: Send + Sync + 'static;
    /// Which store it is.
    const KIND: StoreKind;

    /// Where the opened store is kept for the run.
    fn opened(&self) -> &tokio::sync::OnceCell<Arc<Self::Store>>;

    /// Open the store `row` says, with `secret` (from the run's vault).
    fn open(
        &self,
        run: &RunContext,
        row: StoreRow,
        secret: Option<String>,
    ) -> impl Future<Output = Result<Self::Store, StoreError>> + Send;

    /// The run's store, opened once; an error is not kept, so a later call
    /// tries again.
    fn store(
        &self,
        run: &RunContext,
    ) -> impl Future<Output = Result<Arc<Self::Store>, types::Error>> + Send {
        async move {
            let store = self
                .opened()
                .get_or_try_init(|| async {
                    let (row, secret) = store_of(run, Self::KIND).await?;
                    Ok::<_, StoreError>(Arc::new(self.open(run, row, secret).await?))
                })
                .await?;
            Ok(store.clone())
        }
    }
}

/// What one instance of a store capability holds: the manifest's grant and
/// the run's store.
pub struct StoreState<R> {
    pub(crate) grant: Option<StoreGrant>,
    pub(crate) run: Option<Arc<R>>,
}

impl<C, R> View<'_, C>
where
    C: Capability<State = StoreState<R>>,
    R: RunStore,
{
    /// Check the grant for `key`, then hand `body` the run's store, the key
    /// and the run.
    pub(crate) fn with_store<T, F>(
        &self,
        key: String,
        access: Access,
        body: F,
    ) -> impl Future<Output = WitResult<T>> + use<T, F, C, R>
    where
        F: AsyncFnOnce(Arc<R::Store>, String, Arc<RunContext>) -> Result<T, types::Error>,
    {
        let allowed = check_access(
            self.state.grant.as_ref(),
            R::KIND,
            self.module(),
            &key,
            access,
        );
        let opened = self.state.run.clone();
        self.with_run(async move |run| {
            allowed?;
            let opened = opened.ok_or_else(|| final_error("no run"))?;
            let store = opened.store(&run).await?;
            body(store, key, run).await
        })
    }
}

impl From<StoreError> for types::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(message) => types::Error {
                kind: types::ErrorKind::Retryable,
                message,
                retry_after_ms: None,
            },
            StoreError::Refused(message) => final_error(message),
            StoreError::Host(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Access, check_access};
    use crate::bindings::types::ErrorKind;
    use ferry_manifest::{StoreGrant, StoreKind};

    #[test]
    fn grants_decide_prefixes_and_writes() {
        let grant = StoreGrant {
            prefixes: vec!["orders/".into()],
            write: false,
        };
        let check = |key, access| check_access(Some(&grant), StoreKind::Blobs, "m", key, access);
        assert!(check("orders/1", Access::Read).is_ok());
        assert!(check("orders/", Access::List).is_ok());
        assert_eq!(
            check("users/1", Access::Read).unwrap_err().kind,
            ErrorKind::Denied
        );
        assert_eq!(check("", Access::List).unwrap_err().kind, ErrorKind::Denied);
        let write = check("orders/1", Access::Write).unwrap_err();
        assert!(write.message.contains("write = true"), "{}", write.message);
        let escape = check("orders/../../etc/passwd", Access::Read).unwrap_err();
        assert_eq!(escape.kind, ErrorKind::Final);
        let none = check_access(None, StoreKind::Meta, "m", "k", Access::Read).unwrap_err();
        assert!(
            none.message.contains("[capabilities.meta]"),
            "{}",
            none.message
        );
    }
}
