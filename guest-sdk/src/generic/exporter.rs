//! The generic exporter: read locally, map, create or write through the
//! adapter, and record both sides as synced; a create is made safe to retry
//! by a create intent, a write by the versions of both sides.

use super::conflict::{self, Clash, Settled, Side};
use super::payload::{forced, id_field, local_id_field, only_run};
use super::version::{named_version, version_of, version_text};
use crate::conflicts::ConflictPolicy;
use crate::step::LocalWrites;
use crate::unit::kind;
use crate::{Context, Error, ErrorKind, Record, Result, SyncState, Unit};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `exporter` unit of a model: read locally, map, create or write
/// through the adapter, bind with the versions of both sides.
///
/// `run` `{local_id, fields?, resolution?}` → `{external_id, created}`, plus:
/// - for a record without a link: a create intent is committed first, and
///   its key goes to the adapter's `create` as `idempotency_key`. When a try
///   was cut short after the remote create, the next one finds the intent
///   (`resumed`), asks the adapter to `find` the record by that key and binds
///   it (`reconciled: true`) instead of creating a second one;
/// - for a linked record that did not change since the last sync:
///   `skipped: true` and no call to the remote (so a re-run is a no-op);
/// - for a record changed on both sides: the model's conflict policy decides
///   (`conflict` names it): `remote-wins` enqueues the import and writes
///   nothing, `local-wins` writes every exported field, `newest-wins` picks by
///   time, `manual` stores a conflict (its `id` in the answer);
/// - `resolution: "local"` (a person's or a policy's decision) writes without
///   asking.
///
/// Writes carry `if_match` (the version the remote record carried when just
/// read; null when it carries none, since a hash means nothing to it), so that an
/// adapter whose remote supports it refuses a write over a change made in
/// between; the next try then sees that change.
pub struct Exporter {
    model: String,
    version_field: Option<String>,
}

impl Exporter {
    /// The exporter of `model`.
    pub fn new(model: &str) -> Self {
        Exporter {
            model: model.to_string(),
            version_field: None,
        }
    }

    /// Take the remote version from this field of the record instead of
    /// `updated_at`/`etag`/`version` (use the importer's field).
    pub fn version_field(mut self, field: &str) -> Self {
        self.version_field = Some(field.to_string());
        self
    }

    /// The link to record as synced after a create or write: `local_id` to
    /// `external_id`, at `revision` (the local revision read before the
    /// values sent) and at the remote version the adapter's `answer` gives,
    /// else the record read again (one more call, but the version recorded
    /// must be the one the importer will compare with).
    fn synced(
        &self,
        ctx: &Context,
        local_id: u64,
        external_id: &str,
        answer: &Value,
        revision: u64,
    ) -> Result<SyncedExport> {
        Ok(SyncedExport {
            model: self.model.clone(),
            local_id,
            external_id: external_id.to_string(),
            remote_version: self.version_after(ctx, answer, external_id)?,
            revision,
        })
    }

    fn version_after(&self, ctx: &Context, answer: &Value, external_id: &str) -> Result<String> {
        if let Some(version) = answer.get("version").and_then(version_text) {
            return Ok(version);
        }
        let record = ctx.call(
            kind::ADAPTER,
            &self.model,
            "read",
            &json!({ "id": external_id }),
        )?;
        Ok(version_of(&record, self.version_field.as_deref()))
    }

    /// Export a record that has no link: reconcile with a create an earlier
    /// try made, or create.
    ///
    /// The values sent are read (and mapped) after the create intent is
    /// committed, whatever was read before: the intent's revision is the one
    /// bound as synced, and values older than it would mark a change made in
    /// between as sent.
    fn create(&self, ctx: &Context, local_id: u64) -> Result<Exported> {
        let model = &self.model;
        let intent = ctx.links().begin_create(model, local_id)?;
        // Read after the intent: the values sent are at least as new as
        // `intent.revision`, the revision bound as synced (never newer, which
        // would mark a change made meanwhile as sent).
        let record = ctx.read(model, local_id)?;
        // An earlier try that did not bind may have created the record.
        if intent.resumed
            && let Found::Yes(external_id, answer) = find(ctx, model, &intent.key, record.id)?
        {
            let synced = self.synced(ctx, record.id, &external_id, &answer, intent.revision)?;
            ctx.info_log(&format!(
                "{model} {}: an earlier try created it as {external_id} (found by key {}); \
                     bound instead of created again",
                record.id, intent.key
            ));
            return Ok(Exported::sent(
                json!({ "external_id": external_id, "created": false, "reconciled": true }),
                synced,
            ));
        }
        let data = ctx.call(
            kind::MAPPER,
            model,
            "to_external",
            &json!({ "values": record.values, "fields": null, "for_create": true }),
        )?;
        let answer = ctx.call(
            kind::ADAPTER,
            model,
            "create",
            &json!({ "values": data, "idempotency_key": intent.key }),
        )?;
        let external_id = id_field(&answer, "id")?;
        let synced = self.synced(ctx, record.id, &external_id, &answer, intent.revision)?;
        Ok(Exported::sent(
            json!({ "external_id": external_id, "created": true }),
            synced,
        ))
    }

    /// Export a linked record: skip it when unchanged, decide a conflict,
    /// write.
    fn update(
        &self,
        ctx: &Context,
        local_id: u64,
        external_id: String,
        fields: Option<Value>,
        forced: bool,
    ) -> Result<Exported> {
        let model = &self.model;
        let sync = self.sync_state(ctx, local_id, &external_id)?;
        // The revision bound as synced is the one read before the values, so
        // that a change made meanwhile is never marked as sent.
        let sent_revision = sync.revision;
        let record = ctx.read(model, local_id)?;
        let state = if forced {
            ctx.info_log(&format!(
                "{model} {}: exporting over {external_id} (resolution: local)",
                record.id
            ));
            None
        } else {
            Some(sync)
        };
        if let Some(state) = &state
            && state.synced_revision == Some(state.revision)
        {
            ctx.log(
                crate::context::LogLevel::Debug,
                &format!("{model} {}: unchanged since the last sync", record.id),
            );
            return Ok(Exported::unsent(
                json!({ "external_id": external_id, "created": false, "skipped": true }),
            ));
        }
        let (if_match, decided) =
            match self.check_remote(ctx, &record, &external_id, state.as_ref())? {
                Remote::Write { if_match, decided } => (if_match, decided),
                Remote::Stop(answer) => return Ok(Exported::unsent(answer)),
            };
        // The local version wins as a whole after a conflict, not only the
        // fields that changed locally.
        let fields = if decided.is_some() { None } else { fields };
        let data = ctx.call(
            kind::MAPPER,
            model,
            "to_external",
            &json!({ "values": record.values, "fields": fields, "for_create": false }),
        )?;
        self.write_remote(
            ctx,
            local_id,
            &external_id,
            &data,
            if_match,
            sent_revision,
            decided,
        )
    }

    fn sync_state(&self, ctx: &Context, local_id: u64, external_id: &str) -> Result<SyncState> {
        ctx.links()
            .sync_state_of(&self.model, local_id)?
            .ok_or_else(|| {
                Error::retryable(format!(
                    "{} {local_id}: its link to {external_id} was removed meanwhile",
                    self.model
                ))
            })
    }

    /// Read the remote record before a write: its version for `If-Match`,
    /// and, when it changed since the last sync (`state`; none when the
    /// local side is forced), the conflict policy's decision.
    fn check_remote(
        &self,
        ctx: &Context,
        record: &Record,
        external_id: &str,
        state: Option<&SyncState>,
    ) -> Result<Remote> {
        let model = &self.model;
        let remote = ctx.call(kind::ADAPTER, model, "read", &json!({ "id": external_id }))?;
        let field = self.version_field.as_deref();
        let version = version_of(&remote, field);
        let if_match = named_version(&remote, field);
        let mut decided = None;
        if let Some(state) = state
            && state.remote_changed(&version)
        {
            let clash = Clash {
                model,
                local_id: record.id,
                external_id,
                local: &record.values,
                local_updated_at: state.local_updated_at,
                remote: &remote,
            };
            match conflict::settle(ctx, &clash)? {
                Settled::Apply(Side::Local, policy) => decided = Some(policy),
                Settled::Apply(Side::Remote, policy) => {
                    let job = conflict::take_remote(model, external_id);
                    let id = conflict::enqueue(ctx, &job, format!("import:{model}:{external_id}"))?;
                    ctx.info_log(&format!(
                        "{model} {}: not exported; the import of {external_id} is job {id}",
                        record.id
                    ));
                    return Ok(Remote::Stop(json!({
                        "external_id": external_id, "created": false, "skipped": true,
                        "conflict": policy.name(), "import_job": id,
                    })));
                }
                Settled::Reported(id) => {
                    return Ok(Remote::Stop(json!({
                        "external_id": external_id, "created": false, "skipped": true,
                        "conflict": "manual", "id": id,
                    })));
                }
            }
        }
        Ok(Remote::Write { if_match, decided })
    }

    /// Send mapped `data` over `external_id` (`if_match`: the version just
    /// read) and make the link to record as synced at `revision`.
    #[allow(clippy::too_many_arguments)] // one call site each: a struct would only rename them
    fn write_remote(
        &self,
        ctx: &Context,
        local_id: u64,
        external_id: &str,
        data: &Value,
        if_match: Option<String>,
        revision: u64,
        decided: Option<ConflictPolicy>,
    ) -> Result<Exported> {
        let answer = ctx.call(
            kind::ADAPTER,
            &self.model,
            "write",
            &json!({ "id": external_id, "values": data, "if_match": if_match }),
        )?;
        let synced = self.synced(ctx, local_id, external_id, &answer, revision)?;
        let mut out = json!({ "external_id": external_id, "created": false });
        if let Some(policy) = decided {
            out["conflict"] = json!(policy.name());
        }
        Ok(Exported::sent(out, synced))
    }

    /// The first half of an export, for a batch step's processor: what the
    /// record would send, or none when it is linked and unchanged since its
    /// last sync (nothing to send).
    ///
    /// A linked record's revision is read before its values (so that the
    /// revision bound after the write is never newer than what was sent); a
    /// record without a link is mapped for a create, which
    /// [`Exporter::send`] maps again after its create intent.
    pub fn prepare(&self, ctx: &Context, local_id: u64) -> Result<Option<Outgoing>> {
        let model = &self.model;
        let state = ctx.links().sync_state_of(model, local_id)?;
        if let Some(state) = &state
            && state.synced_revision == Some(state.revision)
        {
            return Ok(None);
        }
        let record = ctx.read(model, local_id)?;
        let data = ctx.call(
            kind::MAPPER,
            model,
            "to_external",
            &json!({ "values": record.values, "fields": null, "for_create": state.is_none() }),
        )?;
        Ok(Some(Outgoing {
            local_id,
            external_id: state.as_ref().map(|s| s.link.external_id.clone()),
            revision: state.as_ref().map(|s| s.revision),
            data,
        }))
    }

    /// The second half, for a batch step's writer: send what
    /// [`Exporter::prepare`] made, as `run` would (a create with its intent
    /// and idempotency key, or a write with `If-Match` after the conflict
    /// check), but return the link to record as synced instead of recording
    /// it, so that it commits with the chunk.
    pub fn send(&self, ctx: &Context, out: Outgoing) -> Result<Exported> {
        let (Some(external_id), Some(revision)) = (out.external_id, out.revision) else {
            return self.create(ctx, out.local_id);
        };
        let state = self.sync_state(ctx, out.local_id, &external_id)?;
        let record = ctx.read(&self.model, out.local_id)?;
        match self.check_remote(ctx, &record, &external_id, Some(&state))? {
            Remote::Write { if_match, decided } => self.write_remote(
                ctx,
                out.local_id,
                &external_id,
                &out.data,
                if_match,
                revision,
                decided,
            ),
            Remote::Stop(answer) => Ok(Exported::unsent(answer)),
        }
    }
}

/// What the remote check before a write says.
enum Remote {
    /// Write, with this `If-Match`; a conflict decided for the local side
    /// names the policy.
    Write {
        if_match: Option<String>,
        decided: Option<ConflictPolicy>,
    },
    /// Do not write: the answer of the export (a conflict for the remote
    /// side or for a person).
    Stop(Value),
}

/// A record mapped for export by [`Exporter::prepare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The local record.
    pub local_id: u64,
    /// Its external twin; none when it has none yet (a create).
    pub external_id: Option<String>,
    /// The local revision read before the values (linked records).
    pub revision: Option<u64>,
    /// The values mapped for the remote.
    pub data: Value,
}

/// A link to record as synced after an export the remote accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedExport {
    /// Model of the local record.
    pub model: String,
    /// The local record.
    pub local_id: u64,
    /// The external record.
    pub external_id: String,
    /// Its version after the export.
    pub remote_version: String,
    /// The local revision whose values were sent.
    pub revision: u64,
}

impl SyncedExport {
    /// Record it now, through the context.
    pub fn commit(&self, ctx: &Context) -> Result<()> {
        ctx.links().bind_synced(
            &self.model,
            self.local_id,
            &self.external_id,
            Some(&self.remote_version),
            self.revision,
            None,
        )?;
        Ok(())
    }

    /// Add it to a chunk's local writes, to commit with the chunk.
    pub fn add_to(&self, writes: &mut LocalWrites) {
        writes.bind_synced(
            &self.model,
            self.local_id,
            &self.external_id,
            Some(self.remote_version.clone()),
            self.revision,
        );
    }
}

/// What an export did.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The answer of the exporter's `run`: `{external_id, created, skipped?,
    /// reconciled?, conflict?}`.
    pub answer: Value,
    /// The link to record as synced; none when nothing was sent.
    pub synced: Option<SyncedExport>,
}

impl Exported {
    fn sent(answer: Value, synced: SyncedExport) -> Self {
        Exported {
            answer,
            synced: Some(synced),
        }
    }
    fn unsent(answer: Value) -> Self {
        Exported {
            answer,
            synced: None,
        }
    }
}

/// What `find` says about the record an earlier try may have created.
enum Found {
    /// The remote holds it: its id, and the adapter's answer (`version`).
    Yes(String, Value),
    /// The remote holds no record made with the key (or the adapter cannot
    /// tell): create.
    No,
}

/// Ask the adapter for the record an earlier try created with `key`:
/// `find` `{idempotency_key, local_id}` → `{id, version?}` or `{id: null}`.
/// An adapter without `find` answers not-found, which counts as "not there"
/// (with a warning: only a remote that honours the idempotency key then
/// keeps the create from making a second record).
fn find(ctx: &Context, model: &str, key: &str, local_id: u64) -> Result<Found> {
    let answer = match ctx.call(
        kind::ADAPTER,
        model,
        "find",
        &json!({ "idempotency_key": key, "local_id": local_id }),
    ) {
        Ok(answer) => answer,
        Err(err) if err.kind == ErrorKind::NotFound => {
            ctx.warn_log(&format!(
                "{model} {local_id}: an earlier try did not finish, and the adapter cannot look \
                 for its record ({}); creating again with the same idempotency key {key}",
                err.message
            ));
            return Ok(Found::No);
        }
        Err(err) => return Err(err),
    };
    match answer.get("id") {
        None | Some(Value::Null) => {
            ctx.info_log(&format!(
                "{model} {local_id}: an earlier try did not finish; the remote has no record \
                 with key {key}: creating it"
            ));
            Ok(Found::No)
        }
        Some(_) => Ok(Found::Yes(id_field(&answer, "id")?, answer)),
    }
}

impl Unit for Exporter {
    fn methods(&self) -> Vec<String> {
        vec!["run".into()]
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        only_run("exporter", method)?;
        let model = &self.model;
        let local_id = local_id_field(&payload, "local_id")?;
        let forced = forced(&payload, "exporter", "local")?;
        let bound = ctx.call(
            kind::BINDER,
            model,
            "to_external",
            &json!({ "local_id": local_id }),
        )?;
        let exported = match bound["external_id"].as_str() {
            Some(id) => {
                let fields = if forced {
                    None
                } else {
                    payload.get("fields").cloned()
                };
                self.update(ctx, local_id, id.to_string(), fields, forced)?
            }
            None => self.create(ctx, local_id)?,
        };
        if let Some(synced) = &exported.synced {
            synced.commit(ctx)?;
        }
        Ok(exported.answer)
    }
}
