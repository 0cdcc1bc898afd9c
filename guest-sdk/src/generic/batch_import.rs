//! [`BatchImport`]: the batch job that brings a model's remote records in,
//! a chunk per step call, through the adapter's `list`.

use super::jobs::import_cursor;
use super::review::ValueCheck;
use super::version::{newer, version_of};
use crate::job::{JobDef, Param};
use crate::mapper::id_text;
use crate::step::{Chunk, Processed, Processor, Reader, Step, StepCall, Writer, Written};
use crate::unit::kind;
use crate::{Context, Error, Job, Result};
use serde_json::{Value, json};
use std::sync::Arc;

/// A batch job that imports the remote records of one model changed since
/// the last import (all of them with `full`), then reports.
///
/// Its step `fetch` reads the adapter's `list` a chunk at a time, maps
/// each record with the model's mapper and writes it in the chunk's
/// transaction: a linked create for a record the instance does not know,
/// a write recorded as synced from the remote's version for one it does.
/// A record unchanged since its last sync is left out; one changed on both
/// sides is left to `import-record` (enqueued once, by its identity key),
/// which applies the conflict policy. Its tasklet `report` logs where the
/// import stands.
///
/// The cursor `import:{model}` ([`import_cursor`]) moves to the newest
/// change listed with the last chunk, which commits with it: a job that
/// fails before leaves the cursor where it was and, resumed, reads on from
/// its last committed chunk. Every chunk asks the same question (the
/// `since` of the first), so a record changed meanwhile is listed by the
/// next import.
///
/// ```
/// use ferry_sdk::generic::BatchImport;
/// use ferry_sdk::prelude::*;
///
/// let _ = Connector::new().batch(BatchImport::new("import-products", "product"));
/// ```
pub struct BatchImport {
    name: String,
    model: String,
    description: Option<String>,
    chunk_size: u32,
    version_field: Option<String>,
    review: Option<ValueCheck>,
}

impl BatchImport {
    /// The job `name` importing `model`, 100 records a chunk.
    pub fn new(name: &str, model: &str) -> Self {
        BatchImport {
            name: name.into(),
            model: model.into(),
            description: None,
            chunk_size: 100,
            version_field: None,
            review: None,
        }
    }

    /// What the job does, shown to operators (a default names the model).
    pub fn describe(mut self, text: &str) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Records per chunk when the job's `chunk_size` does not say.
    pub fn chunk_size(mut self, size: u32) -> Self {
        self.chunk_size = size.max(1);
        self
    }

    /// Take the remote version from this field (as
    /// [`super::Importer::version_field`]).
    pub fn version_field(mut self, field: &str) -> Self {
        self.version_field = Some(field.into());
        self
    }

    /// Flag an updated record for a person to review when `check` names a
    /// reason, from the values imported (as [`super::Importer::review`]).
    pub fn review(
        mut self,
        check: impl Fn(&Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.review = Some(Arc::new(check));
        self
    }
}

impl From<BatchImport> for JobDef {
    fn from(job: BatchImport) -> JobDef {
        let model = job.model;
        let description = job.description.unwrap_or_else(|| {
            format!(
                "Import the remote {model} records changed since the last import, a chunk at a time"
            )
        });
        JobDef::new(&job.name, &description)
            .param(Param::boolean("full").default(false).describe(&format!(
                "Read every {model} record, not only those changed since the last import"
            )))
            .param(
                Param::integer("chunk_size")
                    .minimum(1.0)
                    .maximum(1000.0)
                    .describe(&format!(
                        "Records per chunk (default {}; at most a page of the remote's largest)",
                        job.chunk_size
                    )),
            )
            .step(
                Step::items(
                    "fetch",
                    job.chunk_size,
                    RemoteRecords {
                        model: model.clone(),
                    },
                    MapImport {
                        model: model.clone(),
                        version_field: job.version_field,
                    },
                    StoreImport {
                        model: model.clone(),
                        review: job.review,
                    },
                )
                .describe(&format!(
                    "List the remote {model} records, map them, create or update local ones"
                )),
            )
            .step(Step::tasklet("report", Report { model }).describe("Log where the import stands"))
    }
}

/// The reader: the adapter's `list`, from the position `{since, from,
/// newest}` (the question of the first chunk, where the next chunk starts,
/// the newest change read so far).
struct RemoteRecords {
    model: String,
}

impl Reader for RemoteRecords {
    fn read(
        &self,
        ctx: &Context,
        step: &StepCall,
        position: Option<Value>,
        size: u32,
    ) -> Result<Chunk> {
        let cursor = import_cursor(&self.model);
        let position = match position {
            Some(position) => position,
            None => {
                let since = if step.param("full").as_bool() == Some(true) {
                    Value::Null
                } else {
                    ctx.cursors().get::<Value>(&cursor)?.unwrap_or(Value::Null)
                };
                json!({ "since": since, "from": null, "newest": since })
            }
        };
        let listed = ctx.call(
            kind::ADAPTER,
            &self.model,
            "list",
            &json!({ "since": position["since"], "from": position["from"], "size": size }),
        )?;
        let records = listed["records"].as_array().cloned().ok_or_else(|| {
            Error::fatal(format!(
                "the {} adapter's `list` answered no `records`",
                self.model
            ))
        })?;
        let newest = match (&position["newest"], &listed["cursor"]) {
            (Value::Null, cursor) | (cursor, Value::Null) => cursor.clone(),
            (a, b) => newer(a.clone(), b.clone()),
        };
        match &listed["next"] {
            next if !next.is_null() && *next == position["from"] => Err(Error::fatal(format!(
                "the {} adapter's `list` answered the position it was asked from ({next}) as the \
                 next one: the import would read the same chunk forever; check its paging",
                self.model
            ))),
            next if !next.is_null() => Ok(Chunk::new(
                records,
                Some(json!({ "since": position["since"], "from": next, "newest": newest })),
            )),
            _ => {
                // The last chunk: the cursor commits with it.
                if !newest.is_null() {
                    ctx.cursors().set(&cursor, &newest)?;
                }
                Ok(Chunk::new(records, None))
            }
        }
    }
}

/// The processor: the import mapper, for what changed on the remote only.
struct MapImport {
    model: String,
    version_field: Option<String>,
}

impl Processor for MapImport {
    fn process(&self, ctx: &Context, _step: &StepCall, item: Value) -> Result<Processed> {
        let model = &self.model;
        let external_id = id_text(&item["id"]);
        let record = &item["record"];
        let version = version_of(record, self.version_field.as_deref());
        let local_id = ctx
            .links()
            .to_local(model, &external_id)?
            .map(|l| l.local_id);
        if let Some(local_id) = local_id
            && let Some(state) = ctx.links().sync_state_of(model, local_id)?
        {
            if state.remote_version.as_deref() == Some(version.as_str()) {
                return Ok(Processed::Filtered);
            }
            if state.local_changed() && state.remote_changed(&version) {
                let job = Job::new(
                    "import-record",
                    &json!({ "model": model, "external_id": external_id }),
                )
                .identity_key(format!("import:{model}:{external_id}"))
                .description(format!(
                    "Import {model} {external_id} (changed on both sides)"
                ));
                let job = ctx.enqueue(job)?;
                return Ok(Processed::Invalid(format!(
                    "{model} {external_id} changed on both sides since the last sync: job {job} \
                     imports it by the conflict policy"
                )));
            }
        }
        let values = ctx.call(
            kind::MAPPER,
            model,
            "to_local",
            &json!({ "record": record, "for_create": local_id.is_none() }),
        )?;
        Ok(Processed::Keep(json!({
            "external_id": external_id, "version": version, "local_id": local_id, "values": values,
        })))
    }
}

/// The writer: linked creates and synced writes, committed with the chunk.
struct StoreImport {
    model: String,
    review: Option<ValueCheck>,
}

impl Writer for StoreImport {
    fn write(
        &self,
        _ctx: &Context,
        _step: &StepCall,
        items: Vec<Value>,
        out: &mut Written,
    ) -> Result<()> {
        let model = &self.model;
        for item in items {
            let external_id = id_text(&item["external_id"]);
            let version = item["version"].as_str().map(str::to_string);
            let values = item["values"].clone();
            let review = self.review.as_ref().and_then(|check| check(&values));
            match item["local_id"].as_u64() {
                None => out
                    .writes
                    .create_linked(model, values, &external_id, version),
                Some(id) => {
                    out.writes
                        .write(model, id, values, Some((external_id, version)));
                    // A record created in the chunk has no id until the
                    // chunk commits: only updates can be flagged here.
                    if let Some(message) = review {
                        out.writes.checkpoint(model, id, &message);
                    }
                }
            }
            out.count += 1;
        }
        Ok(())
    }
}

/// The tasklet: log where the import stands (the cursor moved with the
/// fetch step's last chunk).
struct Report {
    model: String,
}

impl crate::step::Tasklet for Report {
    fn run(&self, ctx: &Context, step: &StepCall) -> Result<Value> {
        let cursor = import_cursor(&self.model);
        let committed = ctx.cursors().get::<Value>(&cursor)?;
        let linked = ctx.links().search(&self.model, None, None, 0)?.len();
        ctx.info_log(&format!(
            "{} (job {}) done: {linked} {} records linked to the remote; cursor `{cursor}` is now {}",
            step.job,
            step.job_id,
            self.model,
            committed.as_ref().map(Value::to_string).unwrap_or("unset".into()),
        ));
        Ok(json!({ "linked": linked, "cursor": committed }))
    }
}
