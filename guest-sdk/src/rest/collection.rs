//! [`Collection`]: the [`Adapter`] of a usual REST collection, configured
//! instead of written.

use super::{Page, Paging, Rest};
use crate::adapter::{Adapter, Listed, Remote, Saved, Search};
use crate::generic::{named_version, newer, version_text};
use crate::{Context, Error, Result};
use serde_json::Value;
use std::sync::Arc;

type ApiFn = dyn Fn(&Context) -> Result<Rest> + Send + Sync;

/// The adapter of a REST collection: `GET {path}` lists (paged, filtered
/// by a "changed since" parameter), `GET {path}/{id}` reads, `POST {path}`
/// creates (with the exporter's idempotency key in a header), `PUT
/// {path}/{id}` writes (with `If-Match` over the version read; a 412 is a
/// retryable error, so the next try sees the change and checks for a
/// conflict), `DELETE {path}/{id}` deletes.
///
/// ```
/// use ferry_sdk::prelude::*;
/// use ferry_sdk::rest::{Collection, Paging, Rest};
///
/// fn products() -> Collection {
///     Collection::new("api/v1/products", |ctx| {
///         Ok(Rest::from_param(ctx, "url")?.header("x-api-key", &ctx.param("api_key").unwrap_or_default()))
///     })
///     .paging(Paging::page_number("page").per_page("per_page", 200).last_page_at("/pages"))
///     .records("/items")
///     .changed_since("updated_since", "updated_at")
///     .idempotency_header("idempotency-key")
///     .if_match()
/// }
/// let _ = Connector::new().unit(kind::ADAPTER, "product", adapter(products()));
/// ```
#[derive(Clone)]
pub struct Collection {
    api: Arc<ApiFn>,
    path: String,
    paging: Paging,
    records: String,
    primary_key: String,
    changed_since: Option<(String, String)>,
    version_field: Option<String>,
    write_method: String,
    if_match: bool,
    idempotency_header: Option<String>,
    read_only: Option<String>,
}

impl Collection {
    /// The collection at `path` (relative to the API's base URL) of the API
    /// `api` makes for each call (from the instance's params, say). By
    /// default: one page, the body is the array, records keyed by `id`,
    /// written with `PUT`.
    pub fn new(path: &str, api: impl Fn(&Context) -> Result<Rest> + Send + Sync + 'static) -> Self {
        Collection {
            api: Arc::new(api),
            path: path.trim_end_matches('/').to_string(),
            paging: Paging::None,
            records: String::new(),
            primary_key: "id".into(),
            changed_since: None,
            version_field: None,
            write_method: "PUT".into(),
            if_match: false,
            idempotency_header: None,
            read_only: None,
        }
    }

    /// How the list is paged.
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// Where a page's records are (a JSON pointer, e.g. `/items`).
    pub fn records(mut self, pointer: &str) -> Self {
        self.records = pointer.into();
        self
    }

    /// The field that holds a record's id (`id` unless said).
    pub fn primary_key(mut self, field: &str) -> Self {
        self.primary_key = field.into();
        self
    }

    /// Ask only what changed since the last search with query parameter
    /// `param`, set to the newest `field` listed the time before.
    pub fn changed_since(mut self, param: &str, field: &str) -> Self {
        self.changed_since = Some((param.into(), field.into()));
        self
    }

    /// The field that holds a record's version, when it is not
    /// `updated_at`, `etag` or `version`.
    pub fn version_field(mut self, field: &str) -> Self {
        self.version_field = Some(field.into());
        self
    }

    /// Write with this method (`PATCH`…) instead of `PUT`.
    pub fn write_method(mut self, method: &str) -> Self {
        self.write_method = method.to_ascii_uppercase();
        self
    }

    /// Send the version read as `If-Match` with every write.
    pub fn if_match(mut self) -> Self {
        self.if_match = true;
        self
    }

    /// Send the exporter's idempotency key in this header with every create.
    pub fn idempotency_header(mut self, header: &str) -> Self {
        self.idempotency_header = Some(header.into());
        self
    }

    /// Refuse creates, writes and deletes with this message (say how to
    /// allow them).
    pub fn read_only(mut self, message: &str) -> Self {
        self.read_only = Some(message.into());
        self
    }

    fn writable(&self) -> Result<()> {
        match &self.read_only {
            Some(message) => Err(Error::fatal(message.clone())),
            None => Ok(()),
        }
    }

    fn item_path(&self, id: &str) -> String {
        format!("{}/{id}", self.path)
    }

    /// What a create or write answered: the id and, when it says it, the
    /// version (none costs the exporter one more read).
    fn saved(&self, record: &Value) -> Saved {
        Saved {
            id: record[self.primary_key.as_str()].clone(),
            version: named_version(record, self.version_field.as_deref()).map(Value::from),
        }
    }

    /// The id of a listed record, or a final error naming the key.
    fn id_of(&self, record: &Value) -> Result<Value> {
        match record.get(&self.primary_key) {
            Some(id) if !id.is_null() => Ok(id.clone()),
            _ => Err(Error::fatal(format!(
                "a record of {} has no `{}` (its primary key): {record}",
                self.path, self.primary_key
            ))),
        }
    }

    /// The query of a listing from `since`, and the newest change listed.
    fn since_query(&self, since: Option<&Value>) -> Vec<(String, String)> {
        match (&self.changed_since, since.and_then(version_text)) {
            (Some((param, _)), Some(since)) => vec![(param.clone(), since)],
            _ => vec![],
        }
    }

    fn newest(&self, records: &[Value]) -> Option<Value> {
        let (_, field) = self.changed_since.as_ref()?;
        records
            .iter()
            .filter_map(|r| r.get(field).filter(|v| !v.is_null()))
            .cloned()
            .reduce(newer)
    }
}

/// `query` as the pairs [`Rest::url`] takes.
fn pairs(query: &[(String, String)]) -> Vec<(&str, Option<&str>)> {
    query
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect()
}

/// A version as an `If-Match` entity tag: quoted, unless it already is one
/// (`"abc"`, `W/"abc"`).
fn entity_tag(version: &str) -> String {
    if version.starts_with('"') || version.starts_with("W/\"") {
        version.to_string()
    } else {
        format!("\"{version}\"")
    }
}

impl Adapter for Collection {
    /// Every page of the list since `since`; the next search starts at the
    /// newest change listed (or at `since` again when nothing changed).
    fn search(&self, ctx: &Context, since: Option<&Value>) -> Result<Search> {
        let query = self.since_query(since);
        let items =
            (self.api)(ctx)?.list(&self.path, &pairs(&query), &self.paging, &self.records)?;
        let ids = items
            .iter()
            .map(|item| self.id_of(item))
            .collect::<Result<_>>()?;
        // Without a "changed since" filter every batch reads everything;
        // the importer's version check skips what did not change.
        let cursor = self
            .newest(&items)
            .or_else(|| self.changed_since.as_ref().and(since.cloned()));
        Ok(Search { ids, cursor })
    }

    fn list(
        &self,
        ctx: &Context,
        since: Option<&Value>,
        from: Option<&Value>,
        size: u32,
    ) -> Result<Listed> {
        let query = self.since_query(since);
        let Page { records, next } = (self.api)(ctx)?.page(
            &self.path,
            &pairs(&query),
            &self.paging,
            &self.records,
            from,
            u64::from(size),
        )?;
        let cursor = self.newest(&records);
        let records = records
            .into_iter()
            .map(|record| {
                Ok(Remote {
                    id: self.id_of(&record)?,
                    record,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Listed {
            records,
            next,
            cursor,
        })
    }

    fn read(&self, ctx: &Context, id: &str) -> Result<Value> {
        (self.api)(ctx)?.get(&self.item_path(id))
    }

    fn create(&self, ctx: &Context, values: &Value, idempotency_key: &str) -> Result<Saved> {
        self.writable()?;
        let api = (self.api)(ctx)?;
        let mut request = api.request("POST", &api.url(&self.path, &[])?).json(values);
        if let Some(header) = &self.idempotency_header {
            request = request.header(header, idempotency_key);
        }
        Ok(self.saved(&api.send(request)?.json()?))
    }

    fn write(
        &self,
        ctx: &Context,
        id: &str,
        values: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Value>> {
        self.writable()?;
        let api = (self.api)(ctx)?;
        let url = api.url(&self.item_path(id), &[])?;
        let mut request = api.request(&self.write_method, &url).json(values);
        if let (true, Some(version)) = (self.if_match, if_match) {
            request = request.header("if-match", &entity_tag(version));
        }
        let response = request.send()?;
        if response.status == 412 {
            return Err(Error::retryable(format!(
                "{} {id} changed remotely meanwhile: the next try checks for a conflict",
                self.path
            )));
        }
        let response = response.error_for_status()?;
        if response.body.is_empty() {
            return Ok(None);
        }
        Ok(self.saved(&response.json()?).version)
    }

    fn delete(&self, ctx: &Context, id: &str) -> Result<()> {
        self.writable()?;
        let api = (self.api)(ctx)?;
        api.send(api.request("DELETE", &api.url(&self.item_path(id), &[])?))?;
        Ok(())
    }
}
