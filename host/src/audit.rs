//! The audit log: every time a secret's value is revealed to a guest (or a
//! guest is refused one), every change of a secret and of the API tokens,
//! every conflict resolved, conflict policy set and couple of external ids
//! removed by hand, with who did it.
//! Entries name secrets, never values. Shown by `ferry logs --audit`.
//!
//! An *actor* says who acted: [`CLI`] for the operator's command line,
//! [`api`]`(token)` for a caller of the admin API, [`job`]`(id)` for a queued
//! job's run, [`run`]`(user)` for a run outside the queue (a direct call, a
//! webhook). The functions that change secrets take the actor as a string, so
//! that each entry point says who it serves.

use crate::error::Result;
use crate::store::{AuditEntry, AuditFilter, Store, now_ms};

/// A secret's value was given to a guest (`secrets.reveal`).
pub const REVEAL: &str = "secret.reveal";
/// A guest asked for a secret its manifest does not list in `reveal`.
pub const REVEAL_DENIED: &str = "secret.reveal-denied";
/// A guest asked for a listed secret that could not be given (not set, or the
/// master key does not open it).
pub const REVEAL_FAILED: &str = "secret.reveal-failed";
/// A secret was set or replaced.
pub const SET: &str = "secret.set";
/// A secret was removed.
pub const REMOVE: &str = "secret.remove";
/// An API token was made (its role in the detail).
pub const TOKEN_CREATE: &str = "token.create";
/// An API token was revoked.
pub const TOKEN_REVOKE: &str = "token.revoke";

/// A conflict policy was set (the model is the subject, the policy the detail).
pub use crate::store::POLICY_ACTION as CONFLICT_POLICY;
/// A conflict was resolved (the side taken and the job enqueued in the detail).
pub use crate::store::RESOLVE_ACTION as CONFLICT_RESOLVE;
/// A couple of external ids was removed by an operator.
pub use crate::store::UNPAIR_ACTION as PAIR_REMOVE;

/// The operator's command line.
pub const CLI: &str = "cli";

/// A caller of the admin API, by the name of its token.
pub fn api(token: &str) -> String {
    format!("api:{token}")
}

/// The run of queued job `id`.
pub fn job(id: i64) -> String {
    format!("job:{id}")
}

/// A run outside the queue, for `user` (e.g. `ferry`, `webhook:HOOK`).
pub fn run(user: &str) -> String {
    format!("run:{user}")
}

/// An entry of `action` by `actor` on secret `subject` of `instance`, now.
pub fn entry(actor: &str, action: &str, instance: &str, subject: &str) -> AuditEntry {
    AuditEntry {
        at: now_ms(),
        actor: actor.to_string(),
        action: action.to_string(),
        instance: instance.to_string(),
        subject: subject.to_string(),
        ..Default::default()
    }
}

/// Write `entry` to the audit log.
pub async fn record(store: &Store, entry: &AuditEntry) -> Result<i64> {
    store.record_audit(entry).await
}

/// Entries matching `filter`, newest first.
pub async fn list(store: &Store, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    store.audit_log(filter).await
}
