//! The shop's batch jobs (contract 0.2), made of steps the host drives chunk
//! by chunk: `export-products` sends local products to the shop,
//! `import-products` brings the shop's products in.

use crate::V1Adapter;
use ferry_sdk::generic::{self, Exporter, LocalRecords, Outgoing};
use ferry_sdk::job::duration_ms;
use ferry_sdk::mapper::id_text;
use ferry_sdk::prelude::*;
use ferry_sdk::unit::kind;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const PRODUCT: &str = "product";

/// Now, ms since the epoch (the host's clock, which WASI grants every module).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Job `export-products`: every local product (or those changed within
/// `since`) to the shop, 100 a chunk.
pub(crate) fn export_products() -> JobDef {
    JobDef::new(
        "export-products",
        "Export local products to the shop: the changed ones are written (If-Match), \
         the new ones created (Idempotency-Key)",
    )
    .param(
        Param::duration("since").describe(
            "Only products changed locally within this window (e.g. `2d`); all when absent",
        ),
    )
    .param(
        Param::integer("chunk_size")
            .minimum(1.0)
            .maximum(1000.0)
            .describe("Products per chunk (default 100)"),
    )
    .step(
        Step::items(
            "export",
            100,
            LocalRecords::new(PRODUCT),
            check_for_export,
            send_to_shop,
        )
        .describe("Read local products by id, check and map them, send them to the shop"),
    )
}

/// Why the shop would refuse a product, naming the field.
fn refusal(values: &Value) -> Option<String> {
    match values["name"].as_str() {
        None | Some("") => return Some("`name` is empty: the shop requires one".into()),
        Some(_) => {}
    }
    match values["list_price"].as_f64() {
        Some(price) if price < 0.0 => Some(format!("`list_price` is negative ({price})")),
        _ => None,
    }
}

/// Processor: refuse what the shop would refuse, leave out what is outside
/// the job's window or unchanged since its last sync, map the rest with the
/// export mapper (through the generic exporter's first half).
fn check_for_export(ctx: &Context, step: &StepCall, item: Value) -> Result<Processed> {
    let id = item["id"].as_u64().unwrap_or_default();
    if let Some(reason) = refusal(&item["values"]) {
        return Ok(Processed::Invalid(format!("product {id}: {reason}")));
    }
    // The window is measured from this chunk's processing: a long job's
    // later chunks see a window ending later, never a narrower one.
    if let Some(window) = duration_ms(step.param("since"))? {
        let changed = item["updated_at"].as_i64().unwrap_or(0);
        if changed < now_ms().saturating_sub(window as i64) {
            return Ok(Processed::Filtered);
        }
    }
    match Exporter::new(PRODUCT).prepare(ctx, id)? {
        Some(outgoing) => Ok(Processed::Keep(serde_json::to_value(outgoing)?)),
        None => Ok(Processed::Filtered),
    }
}

/// Writer: send each kept product through the generic exporter's second
/// half (PUT with `If-Match` over a linked one; a create intent, then POST
/// with its key as `Idempotency-Key`) and commit the link as synced with the
/// chunk. The shop refusing one product skips it with its reason; an error
/// worth retrying (the shop down, a 412) fails the chunk, which is tried again.
fn send_to_shop(
    ctx: &Context,
    _step: &StepCall,
    items: Vec<Value>,
    out: &mut Written,
) -> Result<()> {
    let exporter = Exporter::new(PRODUCT);
    for item in items {
        let outgoing: Outgoing = serde_json::from_value(item.clone())?;
        let local_id = outgoing.local_id;
        match exporter.send(ctx, outgoing) {
            Ok(exported) => match exported.synced {
                Some(synced) => {
                    synced.add_to(&mut out.writes);
                    out.count += 1;
                }
                None => out.skip(
                    json!({ "id": local_id }),
                    format!("not sent: {}", exported.answer),
                ),
            },
            Err(err) if err.is_retryable() => return Err(err),
            Err(err) => out.skip(json!({ "id": local_id }), err.message),
        }
    }
    Ok(())
}

/// Job `import-products`: the shop's products changed since the cursor
/// `import:product` (all with `full`), page by page, then a report.
pub(crate) fn import_products() -> JobDef {
    JobDef::new(
        "import-products",
        "Import the shop's products changed since the last import, a page per chunk",
    )
    .param(
        Param::boolean("full")
            .default(false)
            .describe("Read every product, not only those changed since the last import"),
    )
    .param(
        Param::integer("chunk_size")
            .minimum(1.0)
            .maximum(500.0)
            .describe("Products per chunk (default 100; the shop pages by at most 500)"),
    )
    .step(
        Step::items("fetch", 100, read_shop, map_import, store_import)
            .describe("Page through the shop's products, map them, create or update local ones"),
    )
    .step(Step::tasklet("report", report).describe("Log where the import stands"))
}

fn products() -> V1Adapter {
    V1Adapter {
        collection: "products",
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Reader: the shop's list of products changed after `since`, from `offset`.
///
/// The position `{since, offset, newest}` keeps the `since` of the first
/// chunk, so that every chunk pages through the same question, and the
/// newest `updated_at` read so far. After the last page the cursor
/// `import:product` is set to it; a cursor set in a step commits with its
/// chunk (here the last), so a job that fails before leaves it where it was
/// and, resumed, reads on from its position. The shop pages by number; the
/// page size is chosen so that `offset` falls on a page boundary.
fn read_shop(ctx: &Context, step: &StepCall, position: Option<Value>, size: u32) -> Result<Chunk> {
    let cursor = generic::import_cursor(PRODUCT);
    let position = match position {
        Some(p) => p,
        None => {
            let since = if step.param("full").as_bool() == Some(true) {
                Value::Null
            } else {
                ctx.cursors().get::<Value>(&cursor)?.unwrap_or(Value::Null)
            };
            json!({ "since": since, "offset": 0, "newest": since })
        }
    };
    let since = position["since"].as_i64();
    let offset = position["offset"].as_u64().unwrap_or(0);
    let mut newest = position["newest"].as_i64();
    let size = u64::from(size.min(500));
    let per_page = gcd(offset, size);
    let mut page = offset / per_page + 1;
    let mut items = Vec::new();
    let mut total = 0;
    while (items.len() as u64) < size {
        let body = products().list_page(ctx, since, page, per_page)?;
        total = body["total"].as_u64().unwrap_or(0);
        let listed = body["items"]
            .as_array()
            .ok_or_else(|| Error::fatal("the shop's product list has no `items`"))?;
        for item in listed {
            newest = newest.max(item["updated_at"].as_i64());
            items.push(item.clone());
        }
        if listed.is_empty() || page >= body["pages"].as_u64().unwrap_or(0) {
            break;
        }
        page += 1;
    }
    items.truncate(size as usize);
    let read_to = offset + items.len() as u64;
    if read_to < total && !items.is_empty() {
        return Ok(Chunk::new(
            items,
            Some(json!({ "since": since, "offset": read_to, "newest": newest })),
        ));
    }
    if let Some(newest) = newest {
        ctx.cursors().set(&cursor, &newest)?;
    }
    Ok(Chunk::new(items, None))
}

/// Processor: the import mapper. A product unchanged since its last sync is
/// left out; one changed on both sides is left to `import-record`, which
/// applies the conflict policy (enqueued once, by its identity key).
fn map_import(ctx: &Context, _step: &StepCall, item: Value) -> Result<Processed> {
    let external_id = id_text(&item["id"]);
    let version = generic::version_of(&item, None);
    let local_id = ctx
        .links()
        .to_local(PRODUCT, &external_id)?
        .map(|l| l.local_id);
    if let Some(local_id) = local_id
        && let Some(state) = ctx.links().sync_state_of(PRODUCT, local_id)?
    {
        if state.remote_version.as_deref() == Some(version.as_str()) {
            return Ok(Processed::Filtered);
        }
        if state.local_changed() && state.remote_changed(&version) {
            let job = Job::new(
                "import-record",
                &json!({ "model": PRODUCT, "external_id": external_id }),
            )
            .identity_key(format!("import:{PRODUCT}:{external_id}"))
            .description(format!(
                "Import product {external_id} (changed on both sides)"
            ));
            let job = ctx.enqueue(job)?;
            return Ok(Processed::Invalid(format!(
                "product {external_id} changed on both sides since the last sync: job {job} \
                 imports it by the conflict policy"
            )));
        }
    }
    let values = ctx.call(
        kind::MAPPER,
        PRODUCT,
        "to_local",
        &json!({ "record": item, "for_create": local_id.is_none() }),
    )?;
    Ok(Processed::Keep(json!({
        "external_id": external_id, "version": version, "local_id": local_id, "values": values,
    })))
}

/// Writer: a linked create for a product the instance does not know, a
/// write recorded as synced from the shop's version for one it does; both
/// commit with the chunk. A product the shop sells for nothing is flagged.
fn store_import(
    _ctx: &Context,
    _step: &StepCall,
    items: Vec<Value>,
    out: &mut Written,
) -> Result<()> {
    for item in items {
        let external_id = id_text(&item["external_id"]);
        let version = item["version"].as_str().map(str::to_string);
        let values = item["values"].clone();
        let free = values["list_price"].as_f64() == Some(0.0);
        match item["local_id"].as_u64() {
            None => out
                .writes
                .create_linked(PRODUCT, values, &external_id, version),
            Some(id) => {
                out.writes
                    .write(PRODUCT, id, values, Some((external_id, version)));
                if free {
                    out.writes.checkpoint(
                        PRODUCT,
                        id,
                        "imported with a price of 0: check it before it is sold",
                    );
                }
            }
        }
        out.count += 1;
    }
    Ok(())
}

/// Tasklet: say where the import stands (the cursor moved with the fetch
/// step's last chunk, see [`read_shop`]).
fn report(ctx: &Context, step: &StepCall) -> Result<Value> {
    let cursor = generic::import_cursor(PRODUCT);
    let committed = ctx.cursors().get::<Value>(&cursor)?;
    let linked = ctx.links().search(PRODUCT, None, None, 0)?.len();
    ctx.info_log(&format!(
        "import-products (job {}) done: {linked} products linked to the shop; cursor `{cursor}` \
         is now {}",
        step.job_id,
        committed
            .as_ref()
            .map(Value::to_string)
            .unwrap_or("unset".into()),
    ));
    Ok(json!({ "linked": linked, "cursor": committed }))
}
