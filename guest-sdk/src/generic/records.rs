//! [`LocalRecords`]: the reader of an item step over local records, by id.

use crate::step::{Chunk, Reader, StepCall};
use crate::{Context, Filter, Result};
use serde_json::{Value, json};

/// A [`Reader`] of the local records of a model, in id order, from the
/// position after the last one read: items `{id, values, updated_at}`.
///
/// The position is `{after, offset}`: the last id read and how many records
/// the search had passed. The host's search filters on field values, not on
/// the record id, so the reader pages by offset over the search (ordered by
/// id) and drops what it already read: it starts each chunk up to one chunk
/// early, which makes up for as many records deleted before the position
/// while the step runs (more deletions than that skip records). Records
/// created while it runs have larger ids and are read at the end.
pub struct LocalRecords {
    model: String,
    filters: Vec<Filter>,
}

impl LocalRecords {
    /// Every record of `model`.
    pub fn new(model: &str) -> Self {
        LocalRecords {
            model: model.to_string(),
            filters: Vec::new(),
        }
    }

    /// Only the records matching `filter` (on field values) too.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }
}

impl Reader for LocalRecords {
    fn read(
        &self,
        ctx: &Context,
        _step: &StepCall,
        position: Option<Value>,
        size: u32,
    ) -> Result<Chunk> {
        let position = position.unwrap_or(Value::Null);
        let after = position["after"].as_u64().unwrap_or(0);
        let offset = position["offset"]
            .as_u64()
            .map(|o| u32::try_from(o).unwrap_or(u32::MAX))
            .unwrap_or(0);
        let margin = size.min(offset);
        let start = offset - margin;
        let records = ctx.search(&self.model, &self.filters, Some(size + margin), start)?;
        let full = records.len() >= (size + margin) as usize;
        let mut items = Vec::new();
        let mut passed = start;
        let mut last = after;
        for (i, record) in records.iter().enumerate() {
            if items.len() >= size as usize {
                break;
            }
            if record.id <= after {
                continue;
            }
            items.push(json!({
                "id": record.id, "values": record.values, "updated_at": record.updated_at,
            }));
            passed = start + i as u32 + 1;
            last = record.id;
        }
        let more = items.len() >= size as usize || (full && !items.is_empty());
        let next = more.then(|| json!({ "after": last, "offset": passed }));
        Ok(Chunk::new(items, next))
    }
}
