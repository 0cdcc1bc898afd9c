//! The `batch-bench` connector: the same loop over local `item` records
//! `{n}` (read them by id, map each to `{double: 2n}`, write it into the
//! record), once as an item step the host drives chunk by chunk
//! (`double-steps`, the writes committing with each chunk) and once as a
//! plain job (`double-plain`, one `run-job` writing through the session, one
//! commit per write). `benches/steps` times both.

use ferry_sdk::generic::LocalRecords;
use ferry_sdk::prelude::*;
use serde_json::{Value, json};

const MODEL: &str = "item";

/// The mapping both jobs apply.
fn double(values: &Value) -> Value {
    json!({ "double": values["n"].as_i64().unwrap_or(0) * 2 })
}

fn map_item(_ctx: &Context, _step: &StepCall, item: Value) -> Result<Processed> {
    Ok(Processed::Keep(
        json!({ "id": item["id"], "values": double(&item["values"]) }),
    ))
}

fn write_items(
    _ctx: &Context,
    _step: &StepCall,
    items: Vec<Value>,
    out: &mut Written,
) -> Result<()> {
    for item in items {
        let id = item["id"]
            .as_u64()
            .ok_or_else(|| Error::fatal(format!("item without an id: {item}")))?;
        out.writes.write(MODEL, id, item["values"].clone(), None);
        out.count += 1;
    }
    Ok(())
}

/// The plain job: the same loop in one call, pages of `page` records.
fn double_plain(ctx: &Context, payload: Value) -> Result<Value> {
    let page = payload["page"].as_u64().unwrap_or(1000).clamp(1, 10_000) as u32;
    let mut offset = 0;
    let mut written = 0u64;
    loop {
        let records = ctx.search(MODEL, &[], Some(page), offset)?;
        for record in &records {
            ctx.write(MODEL, record.id, &double(&record.values))?;
            written += 1;
        }
        if records.len() < page as usize {
            break;
        }
        offset += page;
    }
    Ok(json!({ "written": written }))
}

/// The connector.
pub fn connector() -> Connector {
    Connector::new()
        .batch(
            JobDef::new("double-steps", "Double every item, as an item step")
                .param(Param::integer("chunk_size").minimum(1.0))
                .step(Step::items(
                    "double",
                    100,
                    LocalRecords::new(MODEL),
                    map_item,
                    write_items,
                )),
        )
        .job_with(
            JobDef::new("double-plain", "Double every item, as one plain job")
                .param(Param::integer("page").default(1000).minimum(1.0)),
            double_plain,
        )
}

ferry_sdk::export_connector!(connector);
