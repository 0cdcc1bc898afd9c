//! How a [`Connector`] answers `describe`, `run-job` and the four step
//! exports, in SDK types; and the conversions between those and the WIT
//! types, kept apart so that the dispatch runs (and is tested) natively.

use super::{Connector, JobEntry};
use crate::bindings::exports::ferry::connector0_2_0::guest as wit;
use crate::job::{Param, ParamType};
use crate::step::{
    Chunk, LocalWrite, Processed, Processor, Reader, Step, StepCall, StepRun, Writer, Written,
};
use crate::{Context, Error, Result};
use serde_json::Value;

/// The three parts of an item step.
struct ItemParts<'c> {
    reader: &'c dyn Reader,
    processor: &'c dyn Processor,
    writer: &'c dyn Writer,
}

impl Connector {
    fn find_job(&self, name: &str) -> Result<&JobEntry> {
        self.jobs
            .iter()
            .find(|j| j.def.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.jobs.iter().map(|j| j.def.name.as_str()).collect();
                Error::not_found(format!(
                    "this module has no job `{name}` (it has: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ))
            })
    }

    fn find_step(&self, call: &StepCall) -> Result<&Step> {
        let job = self.find_job(&call.job)?;
        job.def
            .steps
            .iter()
            .find(|s| s.name == call.step)
            .ok_or_else(|| {
                let known: Vec<&str> = job.def.steps.iter().map(|s| s.name.as_str()).collect();
                Error::not_found(format!(
                    "job `{}` has no step `{}` (it has: {})",
                    call.job,
                    call.step,
                    if known.is_empty() {
                        "none: it is a plain job".into()
                    } else {
                        known.join(", ")
                    }
                ))
            })
    }

    fn item_step(&self, call: &StepCall) -> Result<ItemParts<'_>> {
        let step = self.find_step(call)?;
        match &step.run {
            StepRun::Items {
                reader,
                processor,
                writer,
                ..
            } => Ok(ItemParts {
                reader: &**reader,
                processor: &**processor,
                writer: &**writer,
            }),
            StepRun::Tasklet(_) => Err(Error::fatal(format!(
                "step `{}` of job `{}` is a tasklet, not an item step: it has no reader, \
                 processor or writer",
                call.step, call.job
            ))),
        }
    }

    /// Run plain job `name` with `payload` (what `run-job` does). A batch
    /// job is refused: the host runs its steps.
    pub fn run_job(&self, ctx: &Context, name: &str, payload: Value) -> Result<Value> {
        let job = self.find_job(name)?;
        match &job.run {
            Some(run) => run(ctx, payload),
            None => Err(Error::fatal(format!(
                "job `{name}` is made of steps ({}): the host runs them, not `run-job` \
                 (a host older than contract 0.2 cannot run it)",
                job.def
                    .steps
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Run a tasklet step (what `run-tasklet` does).
    pub fn run_tasklet(&self, ctx: &Context, call: &StepCall) -> Result<Value> {
        match &self.find_step(call)?.run {
            StepRun::Tasklet(tasklet) => tasklet.run(ctx, call),
            StepRun::Items { .. } => Err(Error::fatal(format!(
                "step `{}` of job `{}` is an item step, not a tasklet: the host reads, \
                 processes and writes it chunk by chunk",
                call.step, call.job
            ))),
        }
    }

    /// Read a chunk of an item step (what `read-chunk` does): at most `size`
    /// items (the reader's answer is cut to it).
    pub fn read_chunk(
        &self,
        ctx: &Context,
        call: &StepCall,
        position: Option<Value>,
        size: u32,
    ) -> Result<Chunk> {
        let reader = self.item_step(call)?.reader;
        let mut chunk = reader.read(ctx, call, position, size.max(1))?;
        if chunk.items.len() > size.max(1) as usize {
            return Err(Error::fatal(format!(
                "the reader of step `{}` of job `{}` read {} items for a chunk of {size}",
                call.step,
                call.job,
                chunk.items.len()
            )));
        }
        chunk.next = chunk.next.filter(|n| !n.is_null());
        Ok(chunk)
    }

    /// Process the items of a chunk (what `process-chunk` does): one answer
    /// per item, in order.
    pub fn process_chunk(
        &self,
        ctx: &Context,
        call: &StepCall,
        items: Vec<Value>,
    ) -> Result<Vec<Processed>> {
        let processor = self.item_step(call)?.processor;
        items
            .into_iter()
            .map(|item| processor.process(ctx, call, item))
            .collect()
    }

    /// Write the kept items of a chunk (what `write-chunk` does).
    pub fn write_chunk(
        &self,
        ctx: &Context,
        call: &StepCall,
        items: Vec<Value>,
    ) -> Result<Written> {
        let writer = self.item_step(call)?.writer;
        let mut out = Written::default();
        writer.write(ctx, call, items, &mut out)?;
        Ok(out)
    }

    /// What `describe` answers: units, jobs with their parameters and steps,
    /// events, the SDK's version.
    pub fn describe(&self) -> wit::Description {
        wit::Description {
            units: self
                .units
                .iter()
                .map(|u| wit::UnitDecl {
                    kind: u.kind.clone(),
                    model: u.model.clone(),
                    methods: u.unit.methods(),
                })
                .collect(),
            jobs: self
                .jobs
                .iter()
                .map(|j| wit::JobDecl {
                    name: j.def.name.clone(),
                    description: j.def.description.clone(),
                    params: j.def.params.iter().map(param_to_wit).collect(),
                    steps: j.def.steps.iter().map(step_to_wit).collect(),
                })
                .collect(),
            events: self.events.clone(),
            sdk_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

fn param_to_wit(p: &Param) -> wit::ParamDecl {
    wit::ParamDecl {
        name: p.name.clone(),
        type_: match p.ty {
            ParamType::String => wit::ParamType::String,
            ParamType::Integer => wit::ParamType::Integer,
            ParamType::Number => wit::ParamType::Number,
            ParamType::Boolean => wit::ParamType::Boolean,
            ParamType::Enumeration => wit::ParamType::Enumeration,
            ParamType::List => wit::ParamType::List,
            ParamType::Date => wit::ParamType::Date,
            ParamType::Duration => wit::ParamType::Duration,
            ParamType::Url => wit::ParamType::Url,
        },
        required: p.required,
        default: p.default.as_ref().map(Value::to_string),
        minimum: p.minimum,
        maximum: p.maximum,
        pattern: p.pattern.clone(),
        one_of: p.one_of.iter().map(Value::to_string).collect(),
        description: p.description.clone(),
    }
}

fn step_to_wit(s: &Step) -> wit::StepDecl {
    let (kind, chunk_size) = match &s.run {
        StepRun::Tasklet(_) => (wit::StepKind::Tasklet, 1),
        StepRun::Items { chunk_size, .. } => (wit::StepKind::Items, *chunk_size),
    };
    wit::StepDecl {
        name: s.name.clone(),
        kind,
        chunk_size,
        description: s.description.clone(),
    }
}

/// The step call the host describes.
pub(super) fn step_call(step: wit::StepContext) -> Result<StepCall> {
    let params = serde_json::from_str(&step.params).map_err(|e| {
        Error::fatal(format!(
            "the params of job `{}` are not JSON: {e}",
            step.job
        ))
    })?;
    Ok(StepCall {
        job_id: step.job_id,
        job: step.job,
        step: step.step,
        params,
        attempt: step.attempt,
        chunk: step.chunk,
    })
}

/// Items as the host passes them (JSON texts).
pub(super) fn items_from_wit(items: Vec<String>) -> Result<Vec<Value>> {
    items
        .iter()
        .map(|i| serde_json::from_str(i).map_err(Error::from))
        .collect()
}

pub(super) fn chunk_to_wit(chunk: Chunk) -> wit::Chunk {
    wit::Chunk {
        items: chunk.items.iter().map(Value::to_string).collect(),
        next: chunk.next.as_ref().map(Value::to_string),
    }
}

pub(super) fn processed_to_wit(p: Processed) -> wit::Processed {
    match p {
        Processed::Keep(v) => wit::Processed::Keep(crate::json::text(&v)),
        Processed::Filtered => wit::Processed::Filtered,
        Processed::Invalid(reason) => wit::Processed::Invalid(reason),
    }
}

pub(super) fn written_to_wit(w: Written) -> wit::Written {
    wit::Written {
        count: w.count,
        skipped: w
            .skipped
            .into_iter()
            .map(|s| wit::ItemWarning {
                item: crate::json::text(&s.item),
                reason: s.reason,
            })
            .collect(),
        writes: w.writes.0.into_iter().map(write_to_wit).collect(),
    }
}

fn write_to_wit(w: LocalWrite) -> wit::LocalWrite {
    match w {
        LocalWrite::CreateLinked {
            model,
            values,
            external_id,
            remote_version,
        } => wit::LocalWrite::CreateLinked(wit::LinkedCreate {
            model,
            values: crate::json::text(&values),
            external_id,
            remote_version,
        }),
        LocalWrite::Write {
            model,
            id,
            values,
            synced_from,
        } => wit::LocalWrite::Write(wit::RecordWrite {
            model,
            id,
            values: crate::json::text(&values),
            synced_from,
        }),
        LocalWrite::BindSynced {
            model,
            local_id,
            external_id,
            remote_version,
            synced_revision,
            data,
        } => wit::LocalWrite::BindSynced(wit::SyncedBind {
            model,
            local_id,
            external_id,
            remote_version,
            synced_revision,
            data: data.as_ref().map(Value::to_string),
        }),
        LocalWrite::Checkpoint { model, id, message } => {
            wit::LocalWrite::Checkpoint((model, id, message))
        }
    }
}
