//! # ferry-sdk: write Ferry connectors in plain Rust
//!
//! A Ferry connector is a WebAssembly component (target `wasm32-wasip2`) that
//! implements units (mapper, adapter, binder, importer, exporter…), jobs and event
//! handlers for one backend (`shop@2.0`). The host runs it sandboxed; whatever it
//! does not implement falls back to its parent backend's module.
//!
//! A complete small connector, for a `notes` service that lists notes at
//! `GET {url}/notes?since=…` and returns one at `GET {url}/notes/{id}`:
//!
//! ```no_run
//! use ferry_sdk::prelude::*;
//! use ferry_sdk::{generic, http, mapper::{convert, Mapper, MapperUnit}};
//! use serde_json::{json, Value};
//!
//! // The adapter speaks the remote protocol.
//! fn adapter() -> impl Unit {
//!     unit::from_fn(&["search", "read"], |ctx, method, payload| {
//!         let base = ctx.require_param("url")?;
//!         match method {
//!             "search" => {
//!                 let notes = http::Request::get(&format!("{base}/notes?since={}", payload["since"].as_i64().unwrap_or(0)))
//!                     .send()?.error_for_status()?.json()?;
//!                 let ids: Vec<Value> = notes.as_array().into_iter().flatten().map(|n| n["id"].clone()).collect();
//!                 Ok(json!({ "ids": ids }))
//!             }
//!             _ => http::Request::get(&format!("{base}/notes/{}", payload["id"].as_str().unwrap_or_default()))
//!                 .send()?.error_for_status()?.json(),
//!         }
//!     })
//! }
//!
//! fn connector() -> Connector {
//!     let import = Mapper::new().direct("title", "name").direct_with("words", "size", convert::int);
//!     let export = Mapper::export().direct("name", "title");
//!     Connector::new()
//!         .unit(kind::ADAPTER, "note", adapter())
//!         .unit(kind::MAPPER, "note", MapperUnit::new(import, export))
//!         .unit(kind::BINDER, "note", generic::LinkBinder::new("note"))
//!         .unit(kind::IMPORTER, "note", generic::Importer::new("note"))
//!         .job("import-batch", "Enqueue one import per changed note", generic::import_batch)
//!         .job("import-record", "Import one note", generic::import_record)
//! }
//!
//! ferry_sdk::export_connector!(connector);
//! ```
//!
//! with its `connector.toml`:
//!
//! ```toml
//! [module]
//! name = "notes"
//! version = "1.0.0"
//!
//! [[backend]]
//! name = "notes"
//!
//! [params.url]
//! required = true
//!
//! [capabilities]
//! allowed_hosts = ["{{ params.url }}"]
//! ```
//!
//! Build and install it with `ferry build DIR` and `ferry install DIR`.
//! The `shop` and `shop-v2` connectors in `example-connectors/` are complete,
//! tested examples (with a v2 module that overrides only its adapter and one
//! mapper field).
//!
//! ## Typed parameters and batch jobs (contract 0.2)
//!
//! A job may declare its parameters ([`job::JobDef`], [`job::Param`]): the
//! host checks a payload against them before storing it and fills in the
//! defaults. A **batch job** is made of [`step::Step`]s the host runs in
//! order: a tasklet is one call, an item step a [`step::Reader`], a
//! [`step::Processor`] and a [`step::Writer`] the host drives chunk by
//! chunk, committing each chunk's local writes with its position, so that
//! a stopped or killed job resumes where it was:
//!
//! ```
//! use ferry_sdk::prelude::*;
//! use ferry_sdk::generic::LocalRecords;
//! use ferry_sdk::step::keep_all;
//! use serde_json::{json, Value};
//!
//! fn touch(_: &Context, _: &StepCall, items: Vec<Value>, out: &mut Written) -> Result<()> {
//!     for item in items {
//!         out.writes.write("note", item["id"].as_u64().unwrap_or(0), json!({ "seen": true }), None);
//!         out.count += 1;
//!     }
//!     Ok(())
//! }
//!
//! fn connector() -> Connector {
//!     Connector::new().batch(
//!         JobDef::new("touch-notes", "Mark every note as seen")
//!             .param(Param::integer("chunk_size").minimum(1.0))
//!             .step(Step::items("touch", 500, LocalRecords::new("note"), keep_all, touch)),
//!     )
//! }
//! # let _ = connector();
//! ```
//!
//! The usual two need no step of your own: [`generic::BatchImport`] lists
//! the remote through the adapter's `list` a chunk at a time and writes
//! local records in each chunk's transaction, moving the cursor with the
//! last; [`generic::BatchExport`] sends local records in chunks through the
//! generic exporter, refusing what the remote would refuse with a warning
//! naming the field. The shop connector's `export-products` and
//! `import-products` are those two; see the [`step`] module for the
//! contract of each part when you write your own.
//!
//! For a REST API whose records sit in plain collections,
//! [`rest::Collection`] is the whole adapter (paging, records pointer,
//! "changed since" filter, `Idempotency-Key`, `If-Match`), configured
//! instead of written; units of your own can be typed as well
//! ([`unit::typed`], called with [`Context::call_as`]).
//!
//! ## Two-way sync that survives crashes and conflicts
//!
//! The generic units ([`generic::Importer`], [`generic::Exporter`],
//! [`generic::import_batch`]) make a sync safe to run twice, which a queue
//! that delivers at least once needs. What they ask of an adapter (see the
//! [`generic`] module for the whole protocol):
//! - `search` `{since}` may answer a `cursor` (e.g. the newest `updated_at`
//!   listed); the batch keeps it in the committed cursor `import:{model}`
//!   ([`Context::cursors`]), so a batch that fails asks again for the same
//!   changes.
//! - `read` answers records with a version (`updated_at`, `etag` or
//!   `version`; else the SDK hashes the record): with the local revision, it
//!   is how a change of one side is told from a change of both, a conflict
//!   decided by the operator's policy ([`Context::conflicts`]).
//! - `create` gets an `idempotency_key`: send it as `Idempotency-Key` or keep
//!   it in an external reference field, and answer `find`
//!   `{idempotency_key}` → `{id}` / `{id: null}`, so that a create cut short
//!   before its bind is found and bound, not made twice.
//! - `write` gets `if_match`, the version read just before: send it as
//!   `If-Match` and answer 412 with a retryable error.
//! - `create`, `find` and `write` may answer the new `version` (else the SDK
//!   reads the record once more).
//! - importer and exporter `run` take `resolution` (`"remote"`, `"local"`):
//!   the jobs a person's conflict resolution enqueues.
//!
//! ## Memory
//!
//! Each call runs in a fresh instance that the host drops whole afterwards, so
//! the SDK does not free what a call returns (nothing is gained by taking a
//! 10 000-record answer apart node by node).

#![warn(missing_docs)]

pub mod adapter;
pub mod bindings;
pub mod blobs;
pub mod conflicts;
pub mod connector;
pub mod context;
pub mod cursors;
pub mod error;
pub mod generic;
pub mod http;
pub mod job;
mod json;
pub mod links;
pub mod mapper;
pub mod messaging;
pub mod meta;
pub mod rest;
pub mod step;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod unit;
pub mod webhook;

/// The contract this SDK builds components against: its `guest` export,
/// whose world imports the `ferry:connector` interfaces of [`IMPORTS`]. A
/// Ferry host runs a component of any contract it links (see its
/// `wit/README.md`).
pub const CONTRACT: &str = "ferry:connector@0.2.0";
/// The version of the interfaces the SDK's components import.
pub const IMPORTS: &str = "0.1.3";

pub use adapter::{Adapter, Listed, Remote, Saved, Search, adapter};
pub use conflicts::{Conflict, ConflictPolicy, Conflicts, JobRef};
pub use connector::{Connector, Event};
pub use context::{Context, Filter, Job, NO_EXPORT, Record};
pub use cursors::Cursors;
pub use error::{Error, ErrorKind, Result};
pub use job::{JobDef, Param, ParamType};
pub use links::{Binder, CreateIntent, Link, Links, Pair, SyncState};
pub use step::{Chunk, LocalWrites, Processed, Step, StepCall, Written};
pub use unit::Unit;

/// The names most connectors use.
pub mod prelude {
    pub use crate::step::{Chunk, Processed, Step, StepCall, Written};
    pub use crate::unit::{self, Unit, kind};
    pub use crate::webhook;
    pub use crate::{Adapter, Listed, Remote, Saved, Search, adapter};
    pub use crate::{Connector, Context, Error, Event, Filter, Job, NO_EXPORT, Record, Result};
    pub use crate::{JobDef, Param};
}

#[cfg(test)]
mod contract_tests {
    #[test]
    fn the_contract_constants_are_the_wit_files() {
        let imports = include_str!("../wit/since_v0.1.0/types.wit");
        assert!(imports.contains(&format!("package ferry:connector@{};", super::IMPORTS)));
        let contract = include_str!("../wit/since_v0.2.0/connector.wit");
        assert!(contract.contains(&format!("package {};", super::CONTRACT)));
    }
}
