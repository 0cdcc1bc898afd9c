//! Generic units and jobs: the Odoo-connector importer, exporter and binder,
//! written once over the standard unit protocol so that a connector only writes
//! its adapter and mappers.
//!
//! The protocol between units (all JSON):
//! - adapter `search` `{since?}` → `{ids}`; `read` `{id}` → record;
//!   `create` `{values}` → `{id}`; `write` `{id, values}` → anything.
//! - mapper: see [`crate::mapper::MapperUnit`].
//! - binder `to_local` `{external_id}` → `{local_id}`; `to_external` `{local_id}`
//!   → `{external_id}`; `bind` `{local_id, external_id, data?}` → link.
//! - importer `run` `{external_id}` → `{local_id, created}`;
//!   exporter `run` `{local_id, fields?}` → `{external_id, created}`.
//!
//! Every step goes through the host (`Context::call`), so a child module that
//! overrides one unit (say the adapter of `shop@2.0`) is used by the parent's
//! importer.

use crate::mapper::id_text;
use crate::unit::{Unit, kind};
use crate::{Binder, Context, Error, Job, Result};
use serde_json::{Value, json};

fn str_field<'v>(payload: &'v Value, key: &str) -> Result<&'v str> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::fatal(format!("payload has no text field `{key}`")))
}

fn id_field(payload: &Value, key: &str) -> Result<String> {
    match payload.get(key) {
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(id_text(v)),
        _ => Err(Error::fatal(format!("payload has no id field `{key}`"))),
    }
}

fn local_id_field(payload: &Value, key: &str) -> Result<u64> {
    payload
        .get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::fatal(format!("payload has no local id `{key}`")))
}

/// Importers and exporters answer one method, `run`.
fn only_run(unit: &str, method: &str) -> Result<()> {
    match method {
        "run" => Ok(()),
        other => Err(Error::not_found(format!(
            "{unit} has no method `{other}` (it has: run)"
        ))),
    }
}

/// The `binder` unit of a model, over the host's links.
pub struct LinkBinder {
    model: String,
}

impl LinkBinder {
    /// The binder of `model`.
    pub fn new(model: &str) -> Self {
        LinkBinder {
            model: model.to_string(),
        }
    }
}

impl Unit for LinkBinder {
    fn methods(&self) -> Vec<String> {
        vec!["to_local".into(), "to_external".into(), "bind".into()]
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        let binder = Binder::new(ctx, &self.model);
        match method {
            "to_local" => {
                Ok(json!({ "local_id": binder.to_local(&id_field(&payload, "external_id")?)? }))
            }
            "to_external" => Ok(
                json!({ "external_id": binder.to_external(local_id_field(&payload, "local_id")?)? }),
            ),
            "bind" => {
                let link = binder.bind(
                    local_id_field(&payload, "local_id")?,
                    &id_field(&payload, "external_id")?,
                    payload.get("data"),
                )?;
                Ok(link.to_json())
            }
            other => Err(Error::not_found(format!("binder has no method `{other}`"))),
        }
    }
}

/// The `importer` unit of a model: read through the adapter, map, write locally
/// with `no-export`, bind.
pub struct Importer {
    model: String,
}

impl Importer {
    /// The importer of `model`.
    pub fn new(model: &str) -> Self {
        Importer {
            model: model.to_string(),
        }
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
        // Two jobs importing one record at once (its own import and another
        // record's dependency) would both create it.
        ctx.lock_or_retry(&format!("import:{model}:{external_id}"))?;
        let record = ctx.call(kind::ADAPTER, model, "read", &json!({ "id": external_id }))?;
        let bound = ctx.call(
            kind::BINDER,
            model,
            "to_local",
            &json!({ "external_id": external_id }),
        )?;
        let existing = bound["local_id"].as_u64();
        let values = ctx.call(
            kind::MAPPER,
            model,
            "to_local",
            &json!({ "record": record, "for_create": existing.is_none() }),
        )?;
        // Written with no-export: what comes from the remote must not go back to it.
        let writer = ctx.no_export();
        let local_id = match existing {
            Some(id) => {
                writer.write(model, id, &values)?;
                ctx.call(
                    kind::BINDER,
                    model,
                    "bind",
                    &json!({ "local_id": id, "external_id": external_id }),
                )?;
                id
            }
            // Record and link in one transaction: a crash between the two would
            // make the next try create the record again.
            None => writer.create_linked(model, &values, &external_id)?,
        };
        Ok(json!({ "local_id": local_id, "created": existing.is_none() }))
    }
}

/// The `exporter` unit of a model: read locally, map, create or write through
/// the adapter, bind.
pub struct Exporter {
    model: String,
}

impl Exporter {
    /// The exporter of `model`.
    pub fn new(model: &str) -> Self {
        Exporter {
            model: model.to_string(),
        }
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
        let record = ctx.read(model, local_id)?;
        let bound = ctx.call(
            kind::BINDER,
            model,
            "to_external",
            &json!({ "local_id": local_id }),
        )?;
        let external_id = bound["external_id"].as_str().map(str::to_string);
        let fields = if external_id.is_some() {
            payload.get("fields").cloned()
        } else {
            None
        };
        let data = ctx.call(
            kind::MAPPER,
            model,
            "to_external",
            &json!({ "values": record.values, "fields": fields, "for_create": external_id.is_none() }),
        )?;
        let (external_id, created) = match external_id {
            Some(id) => {
                ctx.call(
                    kind::ADAPTER,
                    model,
                    "write",
                    &json!({ "id": id, "values": data }),
                )?;
                (id, false)
            }
            None => {
                let out = ctx.call(kind::ADAPTER, model, "create", &json!({ "values": data }))?;
                (id_field(&out, "id")?, true)
            }
        };
        ctx.call(
            kind::BINDER,
            model,
            "bind",
            &json!({ "local_id": local_id, "external_id": external_id }),
        )?;
        Ok(json!({ "external_id": external_id, "created": created }))
    }
}

/// Job `import-batch` `{model, since?}`: ask the adapter which records changed and
/// enqueue one `import-record` job per id (identity key `import:{model}:{id}`, so
/// that a record is never queued twice). No big batches.
pub fn import_batch(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let since = payload.get("since").cloned().unwrap_or(Value::Null);
    let found = ctx.call(kind::ADAPTER, model, "search", &json!({ "since": since }))?;
    let ids = found["ids"]
        .as_array()
        .ok_or_else(|| Error::fatal("adapter `search` returned no `ids` list"))?;
    let total = ids.len() as u64;
    let mut enqueued = 0u64;
    for (done, id) in ids.iter().enumerate() {
        if ctx.stop_requested() {
            ctx.warn_log(&format!("stopped by an operator after {done} of {total}"));
            break;
        }
        let id = id_text(id);
        let job = Job::new(
            "import-record",
            &json!({ "model": model, "external_id": id }),
        )
        .identity_key(format!("import:{model}:{id}"))
        .description(format!("Import {model} {id}"));
        ctx.enqueue(job)?;
        enqueued += 1;
        ctx.progress(total, done as u64 + 1);
    }
    ctx.info_log(&format!("enqueued {enqueued} {model} imports"));
    Ok(json!({ "enqueued": enqueued }))
}

/// Job `import-record` `{model, external_id}`: run the model's importer.
pub fn import_record(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let external_id = id_field(&payload, "external_id")?;
    ctx.call(
        kind::IMPORTER,
        model,
        "run",
        &json!({ "external_id": external_id }),
    )
}

/// Job `export-record`, fed by a `record.updated`/`record.created` event
/// `{model, record_id, changed_fields}`: run the model's exporter.
pub fn export_record(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let local_id = local_id_field(&payload, "record_id")?;
    let fields = payload
        .get("changed_fields")
        .cloned()
        .unwrap_or(Value::Null);
    ctx.call(
        kind::EXPORTER,
        model,
        "run",
        &json!({ "local_id": local_id, "fields": fields }),
    )
}
