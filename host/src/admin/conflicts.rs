//! Conflicts and conflict policies, through [`Admin`]: the CLI (`ferry
//! conflicts …`), the admin API and the CLI in remote mode share these.

use super::Admin;
use super::local::MAX_LIST;
use super::types::{ConflictInfo, PolicyRequest};
use crate::error::Result;
use crate::store::{ConflictFilter, ConflictPolicy, PolicyRow, Resolved, Take};

impl Admin {
    /// Conflicts matching `filter`, newest first (at most 1 000).
    pub async fn conflicts(&self, filter: &ConflictFilter) -> Result<Vec<ConflictInfo>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_LIST);
                ferry.store().conflicts(&filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "conflicts"], filter).await,
        }
    }

    /// One conflict, with both versions and the diff.
    pub async fn conflict(&self, id: i64) -> Result<ConflictInfo> {
        match self {
            Admin::Local(ferry) => ferry.store().conflict(id).await,
            Admin::Remote(r) => r.get(&["api", "conflicts", &id.to_string()]).await,
        }
    }

    /// Resolve an open conflict for `actor` (a server records its caller
    /// instead): the job of the side taken is enqueued (see
    /// [`crate::store::Store::resolve_conflict`]).
    pub async fn resolve_conflict(&self, id: i64, take: &Take, actor: &str) -> Result<Resolved> {
        match self {
            Admin::Local(ferry) => ferry.store().resolve_conflict(id, take, actor).await,
            Admin::Remote(r) => {
                r.post(&["api", "conflicts", &id.to_string(), "resolve"], take)
                    .await
            }
        }
    }

    /// The conflict policies set for the models of `instance`.
    pub async fn conflict_policies(&self, instance: &str) -> Result<Vec<PolicyRow>> {
        match self {
            Admin::Local(ferry) => {
                ferry.store().instance(instance).await?;
                ferry.store().conflict_policies(instance).await
            }
            Admin::Remote(r) => {
                r.get(&["api", "instances", instance, "conflict-policies"])
                    .await
            }
        }
    }

    /// The conflict policy in force for `model` of `instance` (`manual` unless set).
    pub async fn conflict_policy(&self, instance: &str, model: &str) -> Result<PolicyRow> {
        match self {
            Admin::Local(ferry) => {
                ferry.store().instance(instance).await?;
                Ok(PolicyRow {
                    instance: instance.to_string(),
                    model: model.to_string(),
                    policy: ferry.store().conflict_policy(instance, model).await?,
                })
            }
            Admin::Remote(r) => {
                r.get(&["api", "instances", instance, "conflict-policies", model])
                    .await
            }
        }
    }

    /// Set the conflict policy of `model` of `instance`, for `actor` (audited).
    pub async fn set_conflict_policy(
        &self,
        instance: &str,
        model: &str,
        policy: ConflictPolicy,
        actor: &str,
    ) -> Result<PolicyRow> {
        match self {
            Admin::Local(ferry) => {
                ferry
                    .store()
                    .set_conflict_policy(instance, model, policy, actor)
                    .await?;
                Ok(PolicyRow {
                    instance: instance.to_string(),
                    model: model.to_string(),
                    policy,
                })
            }
            Admin::Remote(r) => {
                r.put(
                    &["api", "instances", instance, "conflict-policies", model],
                    &PolicyRequest { policy },
                )
                .await
            }
        }
    }
}
