//! [`Conflicts`]: a record changed on both sides since its last sync.
//!
//! The generic importer and exporter detect conflicts from the link's
//! [`crate::links::SyncState`] and decide them by the operator's
//! [`ConflictPolicy`] for the model (`ferry conflicts policy`). With
//! [`ConflictPolicy::Manual`] nothing is written: a [`Conflict`] holding both
//! versions is stored for a person, who resolves it by taking one side; the
//! host then enqueues the job the conflict names for that side.

use crate::Result;
use crate::bindings::ferry::connector0_1_3::conflicts as wit_conflicts;
use serde_json::Value;

/// How a conflict of a model is decided (per backend instance and model,
/// `manual` when the operator set nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The external record is imported over the local one.
    RemoteWins,
    /// The local record is exported over the external one.
    LocalWins,
    /// The side changed last wins (by timestamps).
    NewestWins,
    /// Nothing is written: a conflict is stored for a person to resolve.
    Manual,
}

impl ConflictPolicy {
    /// The policy's name as operators write it: `remote-wins`, `local-wins`,
    /// `newest-wins`, `manual`.
    pub fn name(self) -> &'static str {
        match self {
            ConflictPolicy::RemoteWins => "remote-wins",
            ConflictPolicy::LocalWins => "local-wins",
            ConflictPolicy::NewestWins => "newest-wins",
            ConflictPolicy::Manual => "manual",
        }
    }

    fn from_wit(p: wit_conflicts::ConflictPolicy) -> Self {
        match p {
            wit_conflicts::ConflictPolicy::RemoteWins => ConflictPolicy::RemoteWins,
            wit_conflicts::ConflictPolicy::LocalWins => ConflictPolicy::LocalWins,
            wit_conflicts::ConflictPolicy::NewestWins => ConflictPolicy::NewestWins,
            wit_conflicts::ConflictPolicy::Manual => ConflictPolicy::Manual,
        }
    }
}

/// A job the host enqueues when a person resolves a conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRef {
    /// A job of the backend chain, e.g. `export-record`.
    pub name: String,
    /// Its payload.
    pub payload: Value,
}

impl JobRef {
    /// The job `name` with `payload`.
    pub fn new(name: &str, payload: Value) -> Self {
        JobRef {
            name: name.to_string(),
            payload,
        }
    }

    fn to_wit(&self) -> wit_conflicts::JobRef {
        wit_conflicts::JobRef {
            name: self.name.clone(),
            payload: crate::json::text(&self.payload),
        }
    }
}

/// Both versions of a record, changed since the last sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Model of the local record.
    pub model: String,
    /// The local record.
    pub local_id: u64,
    /// The external record.
    pub external_id: String,
    /// The local record's values (a JSON object).
    pub local: Value,
    /// The external record mapped to local fields (a JSON object), so that the
    /// host can show a field diff.
    pub remote: Value,
    /// What applies the local version (e.g. a forced export).
    pub take_local: JobRef,
    /// What applies the external version (e.g. a forced import).
    pub take_remote: JobRef,
}

/// The conflicts of the current backend instance; see [`crate::Context::conflicts`].
#[derive(Debug, Clone, Copy)]
pub struct Conflicts;

impl Conflicts {
    /// The policy for `model` in this backend instance (`Manual` when unset).
    pub fn policy(&self, model: &str) -> Result<ConflictPolicy> {
        Ok(ConflictPolicy::from_wit(wit_conflicts::policy(model)?))
    }

    /// Store a conflict for a person to resolve (`ferry conflicts list|show|
    /// resolve`); an open conflict of the same record is replaced. Returns its id.
    pub fn report(&self, conflict: &Conflict) -> Result<u64> {
        Ok(wit_conflicts::report(&wit_conflicts::Conflict {
            model: conflict.model.clone(),
            local_id: conflict.local_id,
            external_id: conflict.external_id.clone(),
            local: crate::json::text(&conflict.local),
            remote: crate::json::text(&conflict.remote),
            take_local: conflict.take_local.to_wit(),
            take_remote: conflict.take_remote.to_wit(),
        })?)
    }
}
