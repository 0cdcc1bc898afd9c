//! [`Adapter`]: the remote side of a model as a trait, instead of JSON
//! shapes agreed by convention. Register it with [`adapter`]; the generic
//! importer, exporter and batch jobs ([`crate::generic`]) call it through
//! the host, so a child module that overrides the adapter is used by the
//! parent's importer.
//!
//! ```ignore
//! struct Products;
//!
//! impl Adapter for Products {
//!     fn search(&self, ctx: &Context, since: Option<&Value>) -> Result<Search> {
//!         let ids = /* GET /products?updated_since=… */;
//!         Ok(Search { ids, cursor: None })
//!     }
//!     fn read(&self, ctx: &Context, id: &str) -> Result<Value> {
//!         http::Request::get(&format!("{}/products/{id}", base(ctx)?)).send()?.error_for_status()?.json()
//!     }
//! }
//!
//! Connector::new().unit(kind::ADAPTER, "product", adapter(Products))
//! ```

use crate::mapper::id_text;
use crate::unit::Unit;
use crate::{Context, Error, Result};
use serde_json::{Value, json};

/// What a search found: the ids changed since the cursor given, and where
/// the next search starts (none: the time the search started).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Ids of the records changed.
    pub ids: Vec<Value>,
    /// Where the next search starts (the newest change listed, say).
    pub cursor: Option<Value>,
}

/// One chunk of a listing: what [`Adapter::list`] answers a batch step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listed {
    /// The records read, each with its id.
    pub records: Vec<Remote>,
    /// Where the next chunk starts (an offset, a page, a cursor…); none
    /// when the listing ends here.
    pub next: Option<Value>,
    /// The newest change among these records (the field the remote filters
    /// "changed since" on), when the adapter can tell: where the next import
    /// starts once the whole listing is read.
    pub cursor: Option<Value>,
}

/// A record as the remote holds it, with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    /// Its id on the remote.
    pub id: Value,
    /// The record.
    pub record: Value,
}

/// A record the remote holds after a create, a find or a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Its id on the remote.
    pub id: Value,
    /// Its version there (`updated_at`, an etag…), when the answer says it;
    /// none costs the exporter one more `read`.
    pub version: Option<Value>,
}

/// The remote side of one model. `search` and `read` are needed to import;
/// `create` and `write` to export; `find` makes a create cut short before
/// its bind findable (see [`crate::generic`]); `delete` for deleters.
pub trait Adapter: Send + Sync {
    /// The records changed since `since` (the last search's cursor; none:
    /// all of them).
    fn search(&self, ctx: &Context, since: Option<&Value>) -> Result<Search>;

    /// The chunk of the records changed since `since` (none: all) that
    /// starts at `from` (none: the start), about `size` of them: what a
    /// batch import step reads, a chunk per call, from the position the
    /// last committed chunk ended at. Optional: needed by
    /// [`crate::generic::BatchImport`] only.
    fn list(
        &self,
        ctx: &Context,
        since: Option<&Value>,
        from: Option<&Value>,
        size: u32,
    ) -> Result<Listed> {
        let _ = (ctx, since, from, size);
        Err(missing("list"))
    }

    /// The record `id`, as the remote holds it.
    fn read(&self, ctx: &Context, id: &str) -> Result<Value>;

    /// Create a record of `values`. Send `idempotency_key` as
    /// `Idempotency-Key` (or keep it in an external reference field) so a
    /// retried create does not make a second record.
    fn create(&self, ctx: &Context, values: &Value, idempotency_key: &str) -> Result<Saved> {
        let _ = (ctx, values, idempotency_key);
        Err(missing("create"))
    }

    /// The record an earlier create made with `idempotency_key`, if any.
    fn find(&self, ctx: &Context, idempotency_key: &str, local_id: u64) -> Result<Option<Saved>> {
        let _ = (ctx, idempotency_key, local_id);
        Err(missing("find"))
    }

    /// Write `values` over record `id`, only over version `if_match` when
    /// given (send it as `If-Match`; a refusal is a retryable error). Answer
    /// the new version when the remote says it.
    fn write(
        &self,
        ctx: &Context,
        id: &str,
        values: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Value>> {
        let _ = (ctx, id, values, if_match);
        Err(missing("write"))
    }

    /// Delete record `id`.
    fn delete(&self, ctx: &Context, id: &str) -> Result<()> {
        let _ = (ctx, id);
        Err(missing("delete"))
    }
}

/// The methods of the adapter protocol (see [`crate::generic`]).
pub const METHODS: [&str; 7] = [
    "search", "list", "read", "create", "find", "write", "delete",
];

/// Not implemented: a not-found error, which the generic units read as
/// "this adapter cannot" (`find` then counts as "not there").
fn missing(method: &str) -> Error {
    Error::not_found(format!("the adapter does not implement `{method}`"))
}

/// The unit of an [`Adapter`], speaking the adapter protocol of
/// [`crate::generic`].
pub struct AdapterUnit<A>(A);

/// Register `adapter` as a unit: `.unit(kind::ADAPTER, "product", adapter(Products))`.
pub fn adapter<A: Adapter>(adapter: A) -> AdapterUnit<A> {
    AdapterUnit(adapter)
}

fn saved(saved: Saved) -> Value {
    json!({ "id": saved.id, "version": saved.version })
}

impl<A: Adapter> Unit for AdapterUnit<A> {
    fn methods(&self) -> Vec<String> {
        METHODS.map(String::from).to_vec()
    }

    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        let adapter = &self.0;
        let text = |key: &str| payload[key].as_str().map(str::to_string);
        match method {
            "search" => {
                let since = Some(&payload["since"]).filter(|v| !v.is_null());
                let found = adapter.search(ctx, since)?;
                Ok(json!({ "ids": found.ids, "cursor": found.cursor }))
            }
            "list" => {
                let given = |key: &str| Some(&payload[key]).filter(|v| !v.is_null());
                let size = payload["size"]
                    .as_u64()
                    .unwrap_or(100)
                    .min(u64::from(u32::MAX));
                let listed = adapter.list(ctx, given("since"), given("from"), size as u32)?;
                let records: Vec<Value> = listed
                    .records
                    .into_iter()
                    .map(|r| json!({ "id": r.id, "record": r.record }))
                    .collect();
                Ok(json!({ "records": records, "next": listed.next, "cursor": listed.cursor }))
            }
            "read" => adapter.read(ctx, &id_text(&payload["id"])),
            "create" => {
                let key = text("idempotency_key").unwrap_or_default();
                Ok(saved(adapter.create(ctx, &payload["values"], &key)?))
            }
            "find" => {
                let key = text("idempotency_key").unwrap_or_default();
                let local_id = payload["local_id"].as_u64().unwrap_or_default();
                Ok(match adapter.find(ctx, &key, local_id)? {
                    Some(found) => saved(found),
                    None => json!({ "id": null }),
                })
            }
            "write" => {
                let if_match = crate::generic::version_text(&payload["if_match"]);
                let version = adapter.write(
                    ctx,
                    &id_text(&payload["id"]),
                    &payload["values"],
                    if_match.as_deref(),
                )?;
                Ok(json!({ "version": version }))
            }
            "delete" => {
                adapter.delete(ctx, &id_text(&payload["id"]))?;
                Ok(json!({}))
            }
            other => Err(Error::not_found(format!(
                "the adapter has no method `{other}`"
            ))),
        }
    }
}
