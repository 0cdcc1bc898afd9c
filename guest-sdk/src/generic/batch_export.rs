//! [`BatchExport`]: the batch job that sends a model's local records to the
//! remote in chunks, through the generic exporter.

use super::exporter::{Exporter, Outgoing};
use super::jobs::now_ms;
use super::records::LocalRecords;
use super::review::ValueCheck;
use crate::job::{JobDef, Param, duration_ms};
use crate::step::{Processed, Processor, Step, StepCall, Writer, Written};
use crate::{Context, Result};
use serde_json::{Value, json};
use std::sync::Arc;

/// A batch job that exports the local records of one model, `chunk_size`
/// a chunk (the host commits each chunk's links with its position, so a
/// job stopped or killed resumes after the last chunk sent).
///
/// Its parameters: `since` (a duration: only records changed locally
/// within it; all when absent) and `chunk_size`. Its one item step,
/// `export`, reads local records by id, refuses those [`refuse`] names a
/// reason for (counted as skipped, the reason shown to operators), leaves
/// out those unchanged since their last sync, maps the rest with the
/// exporter's first half ([`Exporter::prepare`]) and sends them with its
/// second ([`Exporter::send`]): a write with `If-Match` over a linked one,
/// an idempotent create otherwise. The remote refusing one record skips it
/// with its answer; an error worth retrying (the remote down, a 412) fails
/// the chunk, which is tried again.
///
/// [`refuse`]: BatchExport::refuse
///
/// ```
/// use ferry_sdk::generic::BatchExport;
/// use ferry_sdk::prelude::*;
///
/// let job = BatchExport::new("export-products", "product")
///     .refuse(|values| values["name"].as_str().is_none_or(str::is_empty).then(|| "`name` is empty".into()));
/// let _ = Connector::new().batch(job);
/// ```
pub struct BatchExport {
    name: String,
    model: String,
    description: Option<String>,
    chunk_size: u32,
    refuse: Option<ValueCheck>,
}

impl BatchExport {
    /// The job `name` exporting `model`, 100 records a chunk.
    pub fn new(name: &str, model: &str) -> Self {
        BatchExport {
            name: name.into(),
            model: model.into(),
            description: None,
            chunk_size: 100,
            refuse: None,
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

    /// Why the remote would refuse a record, from its local values (none:
    /// it would not): such a record is not sent, and the reason, naming
    /// the field, is the step's warning.
    pub fn refuse(
        mut self,
        check: impl Fn(&Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.refuse = Some(Arc::new(check));
        self
    }
}

impl From<BatchExport> for JobDef {
    fn from(job: BatchExport) -> JobDef {
        let model = job.model;
        let description = job.description.unwrap_or_else(|| {
            format!(
                "Export local {model} records: the changed ones are written (If-Match), the new \
                 ones created (idempotent)"
            )
        });
        JobDef::new(&job.name, &description)
            .param(Param::duration("since").describe(&format!(
                "Only {model} records changed locally within this window (e.g. `2d`); all when absent"
            )))
            .param(
                Param::integer("chunk_size")
                    .minimum(1.0)
                    .maximum(1000.0)
                    .describe(&format!("Records per chunk (default {})", job.chunk_size)),
            )
            .step(
                Step::items(
                    "export",
                    job.chunk_size,
                    LocalRecords::new(&model),
                    CheckForExport {
                        model: model.clone(),
                        refuse: job.refuse,
                    },
                    SendToRemote { model: model.clone() },
                )
                .describe(&format!(
                    "Read local {model} records by id, check and map them, send them"
                )),
            )
    }
}

/// The processor: refuse, leave out, or map through the exporter.
struct CheckForExport {
    model: String,
    refuse: Option<ValueCheck>,
}

impl Processor for CheckForExport {
    fn process(&self, ctx: &Context, step: &StepCall, item: Value) -> Result<Processed> {
        let id = item["id"].as_u64().unwrap_or_default();
        if let Some(reason) = self.refuse.as_ref().and_then(|r| r(&item["values"])) {
            return Ok(Processed::Invalid(format!("{} {id}: {reason}", self.model)));
        }
        // The window is measured from this chunk's processing: a long job's
        // later chunks see a window ending later, never a narrower one.
        if let Some(window) = duration_ms(step.param("since"))? {
            let changed = item["updated_at"].as_i64().unwrap_or(0);
            if changed < now_ms().saturating_sub(window as i64) {
                return Ok(Processed::Filtered);
            }
        }
        match Exporter::new(&self.model).prepare(ctx, id)? {
            Some(outgoing) => Ok(Processed::Keep(serde_json::to_value(outgoing)?)),
            None => Ok(Processed::Filtered),
        }
    }
}

/// The writer: send each kept record and commit its link as synced with
/// the chunk.
struct SendToRemote {
    model: String,
}

impl Writer for SendToRemote {
    fn write(
        &self,
        ctx: &Context,
        _step: &StepCall,
        items: Vec<Value>,
        out: &mut Written,
    ) -> Result<()> {
        let exporter = Exporter::new(&self.model);
        for item in items {
            let outgoing: Outgoing = serde_json::from_value(item)?;
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
}
