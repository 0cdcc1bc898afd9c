//! [`LocalRecords`]: the reader of an item step over local records, by id.

use crate::step::{Chunk, Reader, StepCall};
use crate::{Context, Filter, Result};
use serde_json::{Value, json};

/// A [`Reader`] of the local records of a model, in id order, from the
/// position after the last one read: items `{id, values, updated_at}`.
///
/// The position is `{after}`, the last id read: each chunk searches
/// `id > after` (the record's own column), so records deleted or created
/// while the step runs never shift what comes next; records created while
/// it runs have larger ids and are read at the end.
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

    /// Only the records matching `filter` (on field values, or `id`,
    /// `created_at`, `updated_at`) too.
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
        let after = position
            .as_ref()
            .and_then(|p| p["after"].as_u64())
            .unwrap_or(0);
        let mut filters = self.filters.clone();
        filters.push(Filter::gt("id", after));
        let records = ctx.search(&self.model, &filters, Some(size), 0)?;
        let full = records.len() >= size as usize;
        let last = records.last().map(|r| r.id);
        let items = records
            .into_iter()
            .map(|r| json!({ "id": r.id, "values": r.values, "updated_at": r.updated_at }))
            .collect();
        // A full chunk may have more after it; a short one is the end.
        let next = match (full, last) {
            (true, Some(last)) => Some(json!({ "after": last })),
            _ => None,
        };
        Ok(Chunk::new(items, next))
    }
}
