//! Steps of a batch job: a [`Tasklet`] is one call; an item step is a
//! [`Reader`], a [`Processor`] and a [`Writer`] that the host drives chunk by
//! chunk.
//!
//! The host, not the module, runs the loop of an item step: it asks the
//! reader for at most `chunk_size` items from the last committed position,
//! hands them to the processor (one answer per item: keep it mapped, filter
//! it, or refuse it as invalid), hands the kept ones to the writer, and then
//! commits in one transaction the writer's [`LocalWrites`], the position
//! after the chunk, the step's counts and its warnings. A step that is
//! stopped, killed or fails resumes from the last committed chunk, so:
//! - a reader must read from the position it is given, never from state of
//!   its own (the position is JSON: an id, a page, an offset, a cursor);
//! - a writer returns the local writes that belong to the chunk (linked
//!   creates, writes of imported values, links bound after an export) in its
//!   [`Written::writes`] instead of making them through the [`Context`], so
//!   that they commit with the chunk's position or not at all. What must
//!   commit before a remote call (a create intent) still goes through the
//!   context.
//!
//! ```
//! use ferry_sdk::prelude::*;
//! use ferry_sdk::job::{JobDef, Param};
//! use ferry_sdk::step::{Chunk, Processed, Step, StepCall, Written};
//! use serde_json::{json, Value};
//!
//! /// Local notes by id, from the last id read.
//! fn read_notes(ctx: &Context, _step: &StepCall, position: Option<Value>, size: u32) -> Result<Chunk> {
//!     let after = position.and_then(|p| p.as_u64()).unwrap_or(0);
//!     let notes = ctx.search("note", &[Filter::gt("id", after)], Some(size), 0)?;
//!     let items: Vec<Value> = notes.iter().map(|n| json!({ "id": n.id, "values": n.values })).collect();
//!     Ok(Chunk::after_last(items, size, |item| item["id"].clone()))
//! }
//!
//! /// Notes without a title are refused; the others are kept, mapped.
//! fn check(_ctx: &Context, _step: &StepCall, item: Value) -> Result<Processed> {
//!     match item["values"]["title"].as_str() {
//!         None | Some("") => Ok(Processed::Invalid("`title` is empty".into())),
//!         Some(title) => Ok(Processed::Keep(json!({ "id": item["id"], "title": title.to_uppercase() }))),
//!     }
//! }
//!
//! /// Store the mapped titles; the writes commit with the chunk.
//! fn store(_ctx: &Context, _step: &StepCall, items: Vec<Value>, out: &mut Written) -> Result<()> {
//!     for item in items {
//!         let id = item["id"].as_u64().unwrap_or_default();
//!         out.writes.write("note", id, json!({ "shout": item["title"] }), None);
//!         out.count += 1;
//!     }
//!     Ok(())
//! }
//!
//! fn report(ctx: &Context, step: &StepCall) -> Result<Value> {
//!     ctx.info_log(&format!("job {} done", step.job));
//!     Ok(json!({ "reported": true }))
//! }
//!
//! fn connector() -> Connector {
//!     Connector::new().batch(
//!         JobDef::new("shout-notes", "Upper-case every note title")
//!             .param(Param::integer("chunk_size").minimum(1.0))
//!             .step(Step::items("shout", 100, read_notes, check, store).describe("Write shouts"))
//!             .step(Step::tasklet("report", report)),
//!     )
//! }
//! # let _ = connector();
//! ```

use crate::{Context, Result};
use serde_json::Value;

/// Which step call this is: the job, the step, the job's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCall {
    /// The job the step belongs to.
    pub job_id: u64,
    /// The job's name, e.g. `export-products`.
    pub job: String,
    /// The step's name.
    pub step: String,
    /// The job's payload after the host filled in defaults: a JSON object of
    /// its parameters.
    pub params: Value,
    /// Which try of the job this is, from 1.
    pub attempt: u32,
    /// Index of this chunk in the step, from 0 (0 for a tasklet).
    pub chunk: u64,
}

impl StepCall {
    /// A parameter of the job (null when absent).
    pub fn param(&self, name: &str) -> &Value {
        self.params.get(name).unwrap_or(&Value::Null)
    }
}

/// What a reader read: at most the chunk size of items, and where the next
/// chunk starts (none when nothing follows).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chunk {
    /// The items, each a JSON value the processor receives.
    pub items: Vec<Value>,
    /// Where the next chunk starts; none when the reader has nothing after
    /// these items.
    pub next: Option<Value>,
}

impl Chunk {
    /// A chunk of `items` followed by `next`.
    pub fn new(items: Vec<Value>, next: Option<Value>) -> Self {
        Chunk { items, next }
    }

    /// The chunk of a reader whose position is "the last item read" (an id,
    /// a key): a full chunk (`size` items) continues after its last item,
    /// `position_of(last)`; a shorter one is the end.
    pub fn after_last(items: Vec<Value>, size: u32, position_of: impl Fn(&Value) -> Value) -> Self {
        let next = if items.len() >= size as usize {
            items.last().map(position_of)
        } else {
            None
        };
        Chunk { items, next }
    }
}

/// What the processor made of one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// Write this (the item mapped for the writer).
    Keep(Value),
    /// Not for this step: counted as filtered, no warning.
    Filtered,
    /// Invalid: counted as skipped, with this reason (name the field) as
    /// a warning operators see.
    Invalid(String),
}

/// An item that was not written, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemWarning {
    /// The item, or enough of it to find it (its id).
    pub item: Value,
    /// Why it was not written.
    pub reason: String,
}

/// A local write the host commits with the chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalWrite {
    /// Create a local record bound to an external one.
    CreateLinked {
        /// Model of the record.
        model: String,
        /// Field values, a JSON object.
        values: Value,
        /// The external record's id for this backend instance.
        external_id: String,
        /// The external record's version at the read, if it gives one.
        remote_version: Option<String>,
    },
    /// Merge values into a local record.
    Write {
        /// Model of the record.
        model: String,
        /// Its id.
        id: u64,
        /// Field values to merge, a JSON object.
        values: Value,
        /// The external record the values came from, and its version: the
        /// link is recorded as synced at them and at the revision this write
        /// makes.
        synced_from: Option<(String, Option<String>)>,
    },
    /// Record a link as synced (an export the remote accepted).
    BindSynced {
        /// Model of the local record.
        model: String,
        /// The local record.
        local_id: u64,
        /// The external record.
        external_id: String,
        /// Its version after the export.
        remote_version: Option<String>,
        /// The local revision whose values were sent (read before them).
        synced_revision: u64,
        /// Connector data kept with the link.
        data: Option<Value>,
    },
    /// Flag a record for a person to review.
    Checkpoint {
        /// Model of the record.
        model: String,
        /// Its id.
        id: u64,
        /// What to review.
        message: String,
    },
}

/// The local writes of a chunk, in order: the buffer a [`Writer`] fills.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalWrites(pub(crate) Vec<LocalWrite>);

impl LocalWrites {
    /// Create `model` record `values` bound to `external_id` (at
    /// `remote_version`, the external record's version when read).
    pub fn create_linked(
        &mut self,
        model: &str,
        values: Value,
        external_id: &str,
        remote_version: Option<String>,
    ) {
        self.0.push(LocalWrite::CreateLinked {
            model: model.to_string(),
            values,
            external_id: external_id.to_string(),
            remote_version,
        });
    }
    /// Merge `values` into `model` record `id`; `synced_from` names the
    /// external record (id, version) they came from.
    pub fn write(
        &mut self,
        model: &str,
        id: u64,
        values: Value,
        synced_from: Option<(String, Option<String>)>,
    ) {
        self.0.push(LocalWrite::Write {
            model: model.to_string(),
            id,
            values,
            synced_from,
        });
    }
    /// Record `local_id` as synced with `external_id`: the remote at
    /// `remote_version`, the local record at `synced_revision` (the revision
    /// read before the values sent).
    pub fn bind_synced(
        &mut self,
        model: &str,
        local_id: u64,
        external_id: &str,
        remote_version: Option<String>,
        synced_revision: u64,
    ) {
        self.0.push(LocalWrite::BindSynced {
            model: model.to_string(),
            local_id,
            external_id: external_id.to_string(),
            remote_version,
            synced_revision,
            data: None,
        });
    }
    /// Flag `model` record `id` for review with `message`.
    pub fn checkpoint(&mut self, model: &str, id: u64, message: &str) {
        self.0.push(LocalWrite::Checkpoint {
            model: model.to_string(),
            id,
            message: message.to_string(),
        });
    }
    /// Add a write built elsewhere.
    pub fn push(&mut self, write: LocalWrite) {
        self.0.push(write);
    }
    /// The writes so far, in order.
    pub fn as_slice(&self) -> &[LocalWrite] {
        &self.0
    }
}

/// What a writer did with a chunk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Written {
    /// Items written (sent, stored).
    pub count: u32,
    /// Items refused by the writer or the remote: skipped, with warnings.
    pub skipped: Vec<ItemWarning>,
    /// Local writes to commit with the chunk, in order.
    pub writes: LocalWrites,
}

impl Written {
    /// Count `item` as skipped, with `reason`.
    pub fn skip(&mut self, item: Value, reason: impl Into<String>) {
        self.skipped.push(ItemWarning {
            item,
            reason: reason.into(),
        });
    }
}

/// Reads the chunk of an item step that starts at a position.
pub trait Reader: Send + Sync {
    /// At most `size` items from `position` (none: the step's start), and
    /// where the next chunk starts.
    fn read(
        &self,
        ctx: &Context,
        step: &StepCall,
        position: Option<Value>,
        size: u32,
    ) -> Result<Chunk>;
}

impl<F> Reader for F
where
    F: Fn(&Context, &StepCall, Option<Value>, u32) -> Result<Chunk> + Send + Sync,
{
    fn read(
        &self,
        ctx: &Context,
        step: &StepCall,
        position: Option<Value>,
        size: u32,
    ) -> Result<Chunk> {
        self(ctx, step, position, size)
    }
}

/// Decides, item by item, what an item step writes.
pub trait Processor: Send + Sync {
    /// Keep `item` (mapped), filter it or refuse it. An error fails the
    /// whole chunk (use [`Processed::Invalid`] to refuse one item).
    fn process(&self, ctx: &Context, step: &StepCall, item: Value) -> Result<Processed>;
}

impl<F> Processor for F
where
    F: Fn(&Context, &StepCall, Value) -> Result<Processed> + Send + Sync,
{
    fn process(&self, ctx: &Context, step: &StepCall, item: Value) -> Result<Processed> {
        self(ctx, step, item)
    }
}

/// The processor that keeps every item as it is.
pub fn keep_all(_ctx: &Context, _step: &StepCall, item: Value) -> Result<Processed> {
    Ok(Processed::Keep(item))
}

/// Writes the kept items of a chunk.
pub trait Writer: Send + Sync {
    /// Write `items` (remote calls happen here), counting them in `out`,
    /// listing those refused in `out.skipped` and the local writes to commit
    /// with the chunk in `out.writes`. An error fails the chunk: nothing of
    /// it commits, and the step resumes from the chunk's start.
    fn write(
        &self,
        ctx: &Context,
        step: &StepCall,
        items: Vec<Value>,
        out: &mut Written,
    ) -> Result<()>;
}

impl<F> Writer for F
where
    F: Fn(&Context, &StepCall, Vec<Value>, &mut Written) -> Result<()> + Send + Sync,
{
    fn write(
        &self,
        ctx: &Context,
        step: &StepCall,
        items: Vec<Value>,
        out: &mut Written,
    ) -> Result<()> {
        self(ctx, step, items, out)
    }
}

/// A step that is one call.
pub trait Tasklet: Send + Sync {
    /// Run it; the result is stored with the step.
    fn run(&self, ctx: &Context, step: &StepCall) -> Result<Value>;
}

impl<F> Tasklet for F
where
    F: Fn(&Context, &StepCall) -> Result<Value> + Send + Sync,
{
    fn run(&self, ctx: &Context, step: &StepCall) -> Result<Value> {
        self(ctx, step)
    }
}

/// How a step runs.
pub(crate) enum StepRun {
    Tasklet(Box<dyn Tasklet>),
    Items {
        chunk_size: u32,
        reader: Box<dyn Reader>,
        processor: Box<dyn Processor>,
        writer: Box<dyn Writer>,
    },
}

/// One step of a batch job; see the [module docs](self).
pub struct Step {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) run: StepRun,
}

impl Step {
    /// An item step: `reader` → `processor` → `writer`, `chunk_size` items
    /// per chunk (at least 1; a job's `chunk_size` parameter overrides it).
    pub fn items(
        name: &str,
        chunk_size: u32,
        reader: impl Reader + 'static,
        processor: impl Processor + 'static,
        writer: impl Writer + 'static,
    ) -> Self {
        Step {
            name: name.to_string(),
            description: String::new(),
            run: StepRun::Items {
                chunk_size: chunk_size.max(1),
                reader: Box::new(reader),
                processor: Box::new(processor),
                writer: Box::new(writer),
            },
        }
    }

    /// A tasklet step: one call of `run`.
    pub fn tasklet(name: &str, run: impl Tasklet + 'static) -> Self {
        Step {
            name: name.to_string(),
            description: String::new(),
            run: StepRun::Tasklet(Box::new(run)),
        }
    }

    /// What it does, shown to operators.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
