//! Deciding a conflict (a record changed on both sides since its last sync)
//! by the operator's policy, shared by the generic importer and exporter so
//! that both decide the same way, whichever runs first.

use super::version::updated_at_ms;
use crate::conflicts::{Conflict, ConflictPolicy, JobRef};
use crate::unit::kind;
use crate::{Context, Job, Result};
use serde_json::{Value, json};

/// Which version of the record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The local record's.
    Local,
    /// The external record's.
    Remote,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Local => "local",
            Side::Remote => "remote",
        }
    }
}

/// What a policy says about one conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// This side wins; the text says why (for the log).
    Apply(Side, String),
    /// A person decides; the text says why.
    Manual(String),
}

/// The decision of `policy`, given the remote record's `updated_at` (ms,
/// when it has a numeric one) and the local record's last change.
///
/// `newest-wins` gives a tie to the remote, in the importer and the exporter
/// alike, so that the two never undo each other; a remote without a numeric
/// time cannot be compared and goes to a person rather than being guessed.
pub(crate) fn decide(
    policy: ConflictPolicy,
    remote_updated_ms: Option<i64>,
    local_updated_at: i64,
) -> Decision {
    match policy {
        ConflictPolicy::RemoteWins => Decision::Apply(Side::Remote, "policy remote-wins".into()),
        ConflictPolicy::LocalWins => Decision::Apply(Side::Local, "policy local-wins".into()),
        ConflictPolicy::Manual => Decision::Manual("policy manual".into()),
        ConflictPolicy::NewestWins => match remote_updated_ms {
            Some(remote) if remote >= local_updated_at => Decision::Apply(
                Side::Remote,
                format!(
                    "policy newest-wins: remote changed at {remote}, local at {local_updated_at}"
                ),
            ),
            Some(remote) => Decision::Apply(
                Side::Local,
                format!(
                    "policy newest-wins: local changed at {local_updated_at}, remote at {remote}"
                ),
            ),
            None => Decision::Manual(
                "policy newest-wins, but the remote record has no numeric `updated_at` to compare"
                    .into(),
            ),
        },
    }
}

/// The job that applies the local version: a forced export.
pub(crate) fn take_local(model: &str, local_id: u64) -> JobRef {
    JobRef::new(
        "export-record",
        json!({ "model": model, "record_id": local_id, "resolution": "local" }),
    )
}

/// The job that applies the external version: a forced import.
pub(crate) fn take_remote(model: &str, external_id: &str) -> JobRef {
    JobRef::new(
        "import-record",
        json!({ "model": model, "external_id": external_id, "resolution": "remote" }),
    )
}

/// Enqueue a forced job, with the identity key the other jobs of that record
/// use, so that a record is not queued twice.
pub(crate) fn enqueue(ctx: &Context, job: &JobRef, identity_key: String) -> Result<u64> {
    ctx.enqueue(
        Job::new(&job.name, &job.payload)
            .identity_key(identity_key)
            .description(format!("{} (conflict decided by policy)", job.name)),
    )
}

/// A record found changed on both sides.
pub(crate) struct Clash<'a> {
    pub(crate) model: &'a str,
    pub(crate) local_id: u64,
    pub(crate) external_id: &'a str,
    /// The local record's values.
    pub(crate) local: &'a Value,
    /// When the local record last changed (ms).
    pub(crate) local_updated_at: i64,
    /// The external record as the adapter read it.
    pub(crate) remote: &'a Value,
}

/// How a clash ended.
pub(crate) enum Settled {
    /// This side wins, by `policy`.
    Apply(Side, ConflictPolicy),
    /// Stored for a person as conflict `id`; nothing is written.
    Reported(u64),
}

/// Decide a clash by the model's policy, logging the decision (nothing is
/// overwritten silently); a manual one is reported with both versions.
pub(crate) fn settle(ctx: &Context, clash: &Clash) -> Result<Settled> {
    let policy = ctx.conflicts().policy(clash.model)?;
    let what = format!(
        "{} {} (external {}) changed on both sides since the last sync",
        clash.model, clash.local_id, clash.external_id
    );
    match decide(policy, updated_at_ms(clash.remote), clash.local_updated_at) {
        Decision::Apply(side, why) => {
            ctx.warn_log(&format!("{what}: the {} version wins ({why})", side.name()));
            Ok(Settled::Apply(side, policy))
        }
        Decision::Manual(why) => {
            let remote = ctx.call(
                kind::MAPPER,
                clash.model,
                "to_local",
                &json!({ "record": clash.remote, "for_create": false }),
            )?;
            let id = ctx.conflicts().report(&Conflict {
                model: clash.model.to_string(),
                local_id: clash.local_id,
                external_id: clash.external_id.to_string(),
                local: clash.local.clone(),
                remote,
                take_local: take_local(clash.model, clash.local_id),
                take_remote: take_remote(clash.model, clash.external_id),
            })?;
            ctx.warn_log(&format!(
                "{what}: nothing written, kept as conflict {id} for a person ({why}; \
                 `ferry conflicts show {id}`)"
            ));
            Ok(Settled::Reported(id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(d: Decision) -> Option<Side> {
        match d {
            Decision::Apply(side, _) => Some(side),
            Decision::Manual(_) => None,
        }
    }

    #[test]
    fn fixed_policies_pick_their_side() {
        assert_eq!(
            side(decide(ConflictPolicy::RemoteWins, None, 5)),
            Some(Side::Remote)
        );
        assert_eq!(
            side(decide(ConflictPolicy::LocalWins, Some(9), 5)),
            Some(Side::Local)
        );
        assert_eq!(side(decide(ConflictPolicy::Manual, Some(9), 5)), None);
    }

    #[test]
    fn newest_wins_compares_times_and_gives_ties_to_the_remote() {
        assert_eq!(
            side(decide(ConflictPolicy::NewestWins, Some(10), 5)),
            Some(Side::Remote)
        );
        assert_eq!(
            side(decide(ConflictPolicy::NewestWins, Some(5), 10)),
            Some(Side::Local)
        );
        assert_eq!(
            side(decide(ConflictPolicy::NewestWins, Some(7), 7)),
            Some(Side::Remote)
        );
        match decide(ConflictPolicy::NewestWins, None, 7) {
            Decision::Manual(why) => assert!(why.contains("no numeric `updated_at`"), "{why}"),
            other => panic!("a remote without a time cannot be compared: {other:?}"),
        }
    }

    #[test]
    fn the_resolution_jobs_force_their_side() {
        let local = take_local("product", 4);
        assert_eq!(local.name, "export-record");
        assert_eq!(
            local.payload,
            json!({ "model": "product", "record_id": 4, "resolution": "local" })
        );
        let remote = take_remote("product", "17");
        assert_eq!(remote.name, "import-record");
        assert_eq!(
            remote.payload,
            json!({ "model": "product", "external_id": "17", "resolution": "remote" })
        );
    }
}
