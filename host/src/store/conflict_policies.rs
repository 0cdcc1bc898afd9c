//! How a conflict of a model is decided, set by the operator per backend
//! instance and model and asked by connectors (`conflicts.policy`): `manual`
//! unless set.

use super::{AuditEntry, Store, now_ms};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The audit action of a policy change.
pub const POLICY_ACTION: &str = "conflict.policy";

/// How a connector decides a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    /// The external record is imported over the local one.
    RemoteWins,
    /// The local record is exported over the external one.
    LocalWins,
    /// The side changed last wins.
    NewestWins,
    /// Nothing is written: the conflict is stored for a person to resolve.
    #[default]
    Manual,
}

impl ConflictPolicy {
    /// Every policy, in the order they are listed to operators.
    pub const ALL: [ConflictPolicy; 4] = [
        ConflictPolicy::RemoteWins,
        ConflictPolicy::LocalWins,
        ConflictPolicy::NewestWins,
        ConflictPolicy::Manual,
    ];

    /// Its name, as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::RemoteWins => "remote-wins",
            ConflictPolicy::LocalWins => "local-wins",
            ConflictPolicy::NewestWins => "newest-wins",
            ConflictPolicy::Manual => "manual",
        }
    }

    /// The policy named `name`; an unknown name is an error listing the valid ones.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                Error::Invalid(format!(
                    "conflict policy {name:?} is not one of {}",
                    valid.join(", ")
                ))
            })
    }
}

/// A policy set for a model of a backend instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    /// Backend instance.
    pub instance: String,
    /// Model.
    pub model: String,
    /// The policy.
    pub policy: ConflictPolicy,
}

impl Store {
    /// Set the conflict policy of `model` in `instance` for `by` (an audit
    /// actor), audited in the same transaction. The instance must exist.
    pub async fn set_conflict_policy(
        &self,
        instance: &str,
        model: &str,
        policy: ConflictPolicy,
        by: &str,
    ) -> Result<()> {
        if !crate::manifest::valid_name(model) {
            return Err(Error::Invalid(format!(
                "model {model:?} is not a model name (letters, digits, `.`, `-` and `_`, 64 at most)"
            )));
        }
        self.instance(instance).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO conflict_policies (instance, model, policy) VALUES ($1, $2, $3) \
             ON CONFLICT (instance, model) DO UPDATE SET policy = excluded.policy",
        )
        .bind(instance)
        .bind(model)
        .bind(policy.as_str())
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            at: now_ms(),
            actor: by.to_string(),
            action: POLICY_ACTION.to_string(),
            instance: instance.to_string(),
            subject: model.to_string(),
            detail: Some(policy.as_str().to_string()),
            ..Default::default()
        };
        super::audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The conflict policy of `model` in `instance` ([`ConflictPolicy::Manual`] unless set).
    pub async fn conflict_policy(&self, instance: &str, model: &str) -> Result<ConflictPolicy> {
        let name: Option<String> = sqlx::query_scalar(
            "SELECT policy FROM conflict_policies WHERE instance = $1 AND model = $2",
        )
        .bind(instance)
        .bind(model)
        .fetch_optional(self.pool())
        .await?;
        name.map_or(Ok(ConflictPolicy::default()), |n| ConflictPolicy::parse(&n))
    }

    /// The policies set for the models of `instance`, by model.
    pub async fn conflict_policies(&self, instance: &str) -> Result<Vec<PolicyRow>> {
        let rows = sqlx::query(
            "SELECT instance, model, policy FROM conflict_policies WHERE instance = $1 ORDER BY model",
        )
        .bind(instance)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let policy: String = row.try_get("policy")?;
                Ok(PolicyRow {
                    instance: row.try_get("instance")?,
                    model: row.try_get("model")?,
                    policy: ConflictPolicy::parse(&policy)?,
                })
            })
            .collect()
    }
}
