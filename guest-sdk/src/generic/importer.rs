//! The generic importer: read through the adapter, map, write locally with
//! `no-export`, and record both sides as synced.

use super::conflict::{self, Clash, Settled, Side};
use super::payload::{forced, id_field, only_run};
use super::review::ValueCheck;
use super::version::version_of;
use crate::unit::{Unit, kind};
use crate::{Context, Result};
use serde_json::{Value, json};

/// The `importer` unit of a model: read through the adapter, map, write
/// locally with `no-export`, bind with the versions of both sides.
///
/// `run` `{external_id, resolution?}` → `{local_id, created}`, plus
/// `skipped: true` when nothing was written and `conflict` (the policy's
/// name) when both sides had changed:
/// - a record whose remote version is the one of the last sync is skipped;
/// - a record changed on both sides since the last sync is decided by the
///   model's conflict policy: `remote-wins` imports, `local-wins` skips and
///   enqueues the export of the local version, `newest-wins` picks by time,
///   `manual` stores a conflict (the answer then names it as `id`);
/// - `resolution: "remote"` (a person's or a policy's decision) imports
///   without asking.
pub struct Importer {
    model: String,
    version_field: Option<String>,
    review: Option<ValueCheck>,
}

impl Importer {
    /// The importer of `model`.
    pub fn new(model: &str) -> Self {
        Importer {
            model: model.to_string(),
            version_field: None,
            review: None,
        }
    }

    /// Flag a record this importer wrote for a person to review (a
    /// checkpoint) when `check`, given the values written, names a reason:
    /// `.review(|v| (v["list_price"] == 0.0).then(|| "sold for nothing".into()))`.
    pub fn review(
        mut self,
        check: impl Fn(&Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.review = Some(std::sync::Arc::new(check));
        self
    }

    /// Checkpoint `local_id` when the review has something to say of `values`.
    fn review_written(&self, ctx: &Context, local_id: u64, values: &Value) -> Result<()> {
        match self.review.as_ref().and_then(|check| check(values)) {
            Some(message) => ctx.checkpoint(&self.model, local_id, &message),
            None => Ok(()),
        }
    }

    /// Take the remote version from this field of the record (e.g. `rev`)
    /// instead of `updated_at`/`etag`/`version`; see
    /// [`remote_version`](super::remote_version).
    pub fn version_field(mut self, field: &str) -> Self {
        self.version_field = Some(field.to_string());
        self
    }
}

impl Unit for Importer {
    fn methods(&self) -> Vec<String> {
        vec!["run".into()]
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        only_run("importer", method)?;
        let model = &self.model;
        let external_id = id_field(&payload, "external_id")?;
        let forced = forced(&payload, "importer", "remote")?;
        // Two jobs importing one record at once (its own import and another
        // record's dependency) would both create it.
        ctx.lock_or_retry(&format!("import:{model}:{external_id}"))?;
        let record = ctx.call(kind::ADAPTER, model, "read", &json!({ "id": external_id }))?;
        let version = version_of(&record, self.version_field.as_deref());
        let bound = ctx.call(
            kind::BINDER,
            model,
            "to_local",
            &json!({ "external_id": external_id }),
        )?;
        // Written with no-export: what comes from the remote must not go back to it.
        let writer = ctx.no_export();
        let Some(local_id) = bound["local_id"].as_u64() else {
            let values = ctx.call(
                kind::MAPPER,
                model,
                "to_local",
                &json!({ "record": record, "for_create": true }),
            )?;
            // Record and link in one transaction: a crash between the two would
            // make the next try create the record again. The versions follow.
            let local_id = writer.create_linked(model, &values, &external_id)?;
            // A new record is at revision 1: what was just written.
            ctx.links()
                .bind_synced(model, local_id, &external_id, Some(&version), 1, None)?;
            self.review_written(ctx, local_id, &values)?;
            return Ok(json!({ "local_id": local_id, "created": true }));
        };

        let mut decided = None;
        // The revision before this import's write, read before the values it
        // is compared with (see below).
        let Some(before) = ctx.links().sync_state_of(model, local_id)? else {
            return Err(crate::Error::retryable(format!(
                "{model} {local_id}: its link to {external_id} was removed meanwhile"
            )));
        };
        if forced {
            ctx.info_log(&format!(
                "{model} {local_id}: importing {external_id} over the local version (resolution: remote)"
            ));
        } else {
            let state = &before;
            if state.remote_version.as_deref() == Some(version.as_str()) {
                ctx.log(
                    crate::context::LogLevel::Debug,
                    &format!(
                        "{model} {external_id}: unchanged since the last sync (version {version})"
                    ),
                );
                return Ok(json!({ "local_id": local_id, "created": false, "skipped": true }));
            }
            if state.local_changed() && state.remote_changed(&version) {
                let local = ctx.read(model, local_id)?;
                let clash = Clash {
                    model,
                    local_id,
                    external_id: &external_id,
                    local: &local.values,
                    local_updated_at: state.local_updated_at,
                    remote: &record,
                };
                match conflict::settle(ctx, &clash)? {
                    Settled::Apply(Side::Remote, policy) => decided = Some(policy),
                    Settled::Apply(Side::Local, policy) => {
                        let job = conflict::take_local(model, local_id);
                        let id =
                            conflict::enqueue(ctx, &job, format!("export:{model}:{local_id}"))?;
                        ctx.info_log(&format!(
                            "{model} {local_id}: not imported; its export is job {id}"
                        ));
                        return Ok(json!({
                            "local_id": local_id, "created": false, "skipped": true,
                            "conflict": policy.name(), "export_job": id,
                        }));
                    }
                    Settled::Reported(id) => {
                        return Ok(json!({
                            "local_id": local_id, "created": false, "skipped": true,
                            "conflict": "manual", "id": id,
                        }));
                    }
                }
            }
        }
        let values = ctx.call(
            kind::MAPPER,
            model,
            "to_local",
            &json!({ "record": record, "for_create": false }),
        )?;
        // The revision this import leaves synced: the one before it if it
        // writes nothing new, else the next one. A local change made
        // meanwhile makes the write land one revision later, so the link
        // claims less than the record holds and that change still goes out;
        // it never claims more.
        let current = ctx.read(model, local_id)?;
        let changes = values
            .as_object()
            .is_some_and(|v| v.iter().any(|(k, v)| current.values.get(k) != Some(v)));
        let synced = if changes {
            writer.write(model, local_id, &values)?;
            self.review_written(ctx, local_id, &values)?;
            before.revision + 1
        } else {
            before.revision
        };
        ctx.links()
            .bind_synced(model, local_id, &external_id, Some(&version), synced, None)?;
        let mut out = json!({ "local_id": local_id, "created": false });
        if let Some(policy) = decided {
            out["conflict"] = json!(policy.name());
        }
        Ok(out)
    }
}
