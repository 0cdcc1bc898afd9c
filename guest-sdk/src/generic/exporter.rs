//! The generic exporter: read locally, map, create or write through the
//! adapter, and record both sides as synced; a create is made safe to retry
//! by a create intent, a write by the versions of both sides.

use super::conflict::{self, Clash, Settled, Side};
use super::payload::{forced, id_field, local_id_field, only_run};
use super::version::{named_version, version_of, version_text};
use crate::unit::kind;
use crate::{Context, Error, ErrorKind, Result, Unit};
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

    /// The remote version after a create or write: the adapter's `version`
    /// when it gave one, else the record read again (one more call, but the
    /// version recorded must be the one the importer will compare with).
    /// Bind `local_id` to `external_id` as synced at `revision`, with the
    /// remote version the adapter's `answer` gives (or a fresh read).
    fn bind_synced(
        &self,
        ctx: &Context,
        local_id: u64,
        external_id: &str,
        answer: &Value,
        revision: u64,
    ) -> Result<()> {
        let version = self.version_after(ctx, answer, external_id)?;
        ctx.links().bind_synced(
            &self.model,
            local_id,
            external_id,
            Some(&version),
            revision,
            None,
        )?;
        Ok(())
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
    fn create(&self, ctx: &Context, local_id: u64) -> Result<Value> {
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
            self.bind_synced(ctx, record.id, &external_id, &answer, intent.revision)?;
            ctx.info_log(&format!(
                "{model} {}: an earlier try created it as {external_id} (found by key {}); \
                     bound instead of created again",
                record.id, intent.key
            ));
            return Ok(json!({ "external_id": external_id, "created": false, "reconciled": true }));
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
        self.bind_synced(ctx, record.id, &external_id, &answer, intent.revision)?;
        Ok(json!({ "external_id": external_id, "created": true }))
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
    ) -> Result<Value> {
        let model = &self.model;
        let Some(sync) = ctx.links().sync_state_of(model, local_id)? else {
            return Err(Error::retryable(format!(
                "{model} {local_id}: its link to {external_id} was removed meanwhile"
            )));
        };
        // The revision bound as synced is the one read before the values, so
        // that a change made meanwhile is never marked as sent.
        let sent_revision = sync.revision;
        let record = ctx.read(model, local_id)?;
        let record = &record;
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
            return Ok(json!({ "external_id": external_id, "created": false, "skipped": true }));
        }
        let remote = ctx.call(kind::ADAPTER, model, "read", &json!({ "id": external_id }))?;
        let field = self.version_field.as_deref();
        let version = version_of(&remote, field);
        let if_match = named_version(&remote, field);
        let mut fields = fields;
        let mut decided = None;
        if let Some(state) = &state
            && state.remote_changed(&version)
        {
            let clash = Clash {
                model,
                local_id: record.id,
                external_id: &external_id,
                local: &record.values,
                local_updated_at: state.local_updated_at,
                remote: &remote,
            };
            match conflict::settle(ctx, &clash)? {
                Settled::Apply(Side::Local, policy) => {
                    // The local version wins as a whole, not only the fields
                    // that changed locally.
                    fields = None;
                    decided = Some(policy);
                }
                Settled::Apply(Side::Remote, policy) => {
                    let job = conflict::take_remote(model, &external_id);
                    let id = conflict::enqueue(ctx, &job, format!("import:{model}:{external_id}"))?;
                    ctx.info_log(&format!(
                        "{model} {}: not exported; the import of {external_id} is job {id}",
                        record.id
                    ));
                    return Ok(json!({
                        "external_id": external_id, "created": false, "skipped": true,
                        "conflict": policy.name(), "import_job": id,
                    }));
                }
                Settled::Reported(id) => {
                    return Ok(json!({
                        "external_id": external_id, "created": false, "skipped": true,
                        "conflict": "manual", "id": id,
                    }));
                }
            }
        }
        let data = ctx.call(
            kind::MAPPER,
            model,
            "to_external",
            &json!({ "values": record.values, "fields": fields, "for_create": false }),
        )?;
        let answer = ctx.call(
            kind::ADAPTER,
            model,
            "write",
            &json!({ "id": external_id, "values": data, "if_match": if_match }),
        )?;
        self.bind_synced(ctx, record.id, &external_id, &answer, sent_revision)?;
        let mut out = json!({ "external_id": external_id, "created": false });
        if let Some(policy) = decided {
            out["conflict"] = json!(policy.name());
        }
        Ok(out)
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
        match bound["external_id"].as_str() {
            Some(id) => {
                let fields = if forced {
                    None
                } else {
                    payload.get("fields").cloned()
                };
                self.update(ctx, local_id, id.to_string(), fields, forced)
            }
            None => self.create(ctx, local_id),
        }
    }
}
