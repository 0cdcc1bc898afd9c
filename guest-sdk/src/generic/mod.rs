//! Generic units and jobs: the Odoo-connector importer, exporter and binder,
//! and batch import and export jobs ([`BatchImport`], [`BatchExport`]),
//! written once over the standard unit protocol so that a connector only writes
//! its adapter and mappers.
//!
//! ## The protocol between units (all JSON)
//!
//! - adapter:
//!   - `search` `{since?}` → `{ids, cursor?}`: the records changed since
//!     `since` (the previous `cursor`, or null for all); `cursor` is where the
//!     next search starts (e.g. the newest `updated_at` listed). Without it,
//!     the batch keeps the time the search started.
//!   - `list` `{since?, from?, size}` → `{records: [{id, record}], next?,
//!     cursor?}`: the chunk of that listing starting at position `from` (none:
//!     the start), about `size` records, and where the next chunk starts
//!     (none: the end); `cursor` is the newest change among them. What
//!     [`BatchImport`] reads; [`crate::rest::Collection`] answers it.
//!   - `read` `{id}` → the record. Its version is its `updated_at`, else
//!     `etag`, else `version` (see [`remote_version`]; a unit may name another
//!     field), else a hash of the record.
//!   - `create` `{values, idempotency_key}` → `{id, version?}`. Send the key
//!     as `Idempotency-Key`, or store it in the remote's external reference
//!     field, so that `find` can tell a create that was already made.
//!   - `find` `{idempotency_key, local_id}` → `{id, version?}`, or `{id: null}`
//!     when the remote holds no record made with that key. Optional: an
//!     adapter without it counts as "not found" (then only a remote that
//!     honours `Idempotency-Key` keeps a retried create from duplicating).
//!   - `write` `{id, values, if_match}` → `{version?}`. `if_match` is the
//!     version the record carried when read just before (null when it
//!     carries none): send it as `If-Match` where the remote
//!     supports it, and answer a refusal (HTTP 412) with a retryable error, so
//!     that the next try sees the change and checks for a conflict.
//!   - a `version` left out of an answer costs one more `read`.
//! - mapper: see [`crate::mapper::MapperUnit`].
//! - binder `to_local` `{external_id}` → `{local_id}`; `to_external` `{local_id}`
//!   → `{external_id}`; `bind` `{local_id, external_id, data?}` → link.
//! - importer `run` `{external_id, resolution?}` → `{local_id, created,
//!   skipped?, conflict?}`; exporter `run` `{local_id, fields?, resolution?}`
//!   → `{external_id, created, skipped?, reconciled?, conflict?}`. A
//!   `resolution` (`"remote"` for the importer, `"local"` for the exporter)
//!   is a decision already made, by a person resolving a conflict or by a
//!   policy: that side is written without a conflict check.
//!
//! ## Versions and conflicts
//!
//! The importer and exporter record, at every sync, the remote version and
//! the local revision ([`crate::Links::bind_synced`]). Next time, a side
//! whose version moved has changed; a record changed on both sides is a
//! conflict, decided by the operator's policy for the model
//! ([`crate::ConflictPolicy`]), and every decision is logged: nothing is
//! overwritten silently. See [`Importer`] and [`Exporter`].
//!
//! Every step goes through the host (`Context::call`), so a child module that
//! overrides one unit (say the adapter of `shop@2.0`) is used by the parent's
//! importer.

mod batch_export;
mod batch_import;
mod binder;
mod conflict;
mod exporter;
mod importer;
mod jobs;
mod payload;
mod records;
mod review;
mod version;

pub use batch_export::BatchExport;
pub use batch_import::BatchImport;
pub use binder::LinkBinder;
pub use exporter::{Exported, Exporter, Outgoing, SyncedExport};
pub use importer::Importer;
pub use jobs::{export_record, import_batch, import_cursor, import_record};
pub use records::LocalRecords;
pub use version::{named_version, newer, remote_version, updated_at_ms, version_of, version_text};
