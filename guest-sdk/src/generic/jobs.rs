//! The generic jobs: a batch that enqueues one import per changed record
//! (reading from a committed cursor), and the jobs that run one import or
//! one export.

use super::payload::{id_field, local_id_field, str_field};
use crate::mapper::id_text;
use crate::unit::kind;
use crate::{Context, Error, Job, Result};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The cursor of a model's batch import: `import:{model}`.
pub fn import_cursor(model: &str) -> String {
    format!("import:{model}")
}

/// Job `import-batch` `{model, since?}`: ask the adapter which records changed
/// and enqueue one `import-record` job per id (identity key
/// `import:{model}:{id}`, so that a record is never queued twice). No big
/// batches.
///
/// Where it starts: the payload's `since` when given (a one-off re-read, e.g.
/// `since: 0` for everything; it leaves the cursor as it was), else the
/// committed cursor `import:{model}` (see [`import_cursor`]), else from the
/// beginning. The adapter's `search` `{since}` answers `{ids, cursor?}`;
/// once every id is enqueued the cursor moves to the adapter's `cursor`, or,
/// when it gave none, to the time the search started (the host's clock, ms).
/// A batch stopped by an operator leaves the cursor where it was.
///
/// Why this misses nothing and imports nothing twice: the cursor is set
/// only after the last import job is enqueued (each durable from then on),
/// and it commits in the same transaction as the batch's `done`. A batch that
/// fails or dies leaves the cursor as it was, so the next batch asks the same
/// question again; a job it had already enqueued is found again by its
/// identity key while pending, and once done its record is skipped by the
/// importer's version check. A record that changes after the search has a
/// later `updated_at` than the cursor (the newest record listed, or the
/// search's start), so the next batch lists it. The start-time fallback
/// trusts the remote's clock to agree with the host's: an adapter that can
/// should return `cursor` itself, as the shop's does.
pub fn import_batch(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let cursor_name = import_cursor(model);
    let given = payload.get("since").filter(|s| !s.is_null()).cloned();
    let since = match &given {
        Some(since) => since.clone(),
        None => ctx
            .cursors()
            .get::<Value>(&cursor_name)?
            .unwrap_or(Value::Null),
    };
    let started = now_ms();
    let found = ctx.call(kind::ADAPTER, model, "search", &json!({ "since": since }))?;
    let ids = found["ids"]
        .as_array()
        .ok_or_else(|| Error::fatal("adapter `search` returned no `ids` list"))?;
    let total = ids.len() as u64;
    let mut enqueued = 0u64;
    for (done, id) in ids.iter().enumerate() {
        if ctx.stop_requested() {
            ctx.warn_log(&format!(
                "stopped by an operator after {done} of {total}; cursor `{cursor_name}` stays at {since}"
            ));
            return Ok(json!({ "enqueued": enqueued, "stopped": true }));
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
    if given.is_some() {
        ctx.info_log(&format!(
            "enqueued {enqueued} {model} imports changed since {since} (given; cursor `{cursor_name}` unchanged)"
        ));
        return Ok(json!({ "enqueued": enqueued }));
    }
    let cursor = match found.get("cursor") {
        Some(c) if !c.is_null() => c.clone(),
        _ => json!(started),
    };
    ctx.cursors().set(&cursor_name, &cursor)?;
    ctx.info_log(&format!(
        "enqueued {enqueued} {model} imports changed since {since}; cursor `{cursor_name}` moves to {cursor}"
    ));
    Ok(json!({ "enqueued": enqueued }))
}

/// Now, ms since the epoch, from the host's wall clock (WASI's, which the
/// host grants every module).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Job `import-record` `{model, external_id, resolution?}`: run the model's
/// importer (`resolution: "remote"` imports over a local change).
pub fn import_record(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let external_id = id_field(&payload, "external_id")?;
    let mut run = json!({ "external_id": external_id });
    if let Some(resolution) = payload.get("resolution") {
        run["resolution"] = resolution.clone();
    }
    ctx.call(kind::IMPORTER, model, "run", &run)
}

/// Job `export-record`, fed by a `record.updated`/`record.created` event
/// `{model, record_id, changed_fields}`, or enqueued to resolve a conflict
/// `{model, record_id, resolution: "local"}`: run the model's exporter.
pub fn export_record(ctx: &Context, payload: Value) -> Result<Value> {
    let model = str_field(&payload, "model")?;
    let local_id = local_id_field(&payload, "record_id")?;
    let fields = payload
        .get("changed_fields")
        .cloned()
        .unwrap_or(Value::Null);
    let mut run = json!({ "local_id": local_id, "fields": fields });
    if let Some(resolution) = payload.get("resolution") {
        run["resolution"] = resolution.clone();
    }
    ctx.call(kind::EXPORTER, model, "run", &run)
}
