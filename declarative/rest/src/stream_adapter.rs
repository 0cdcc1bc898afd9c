//! The adapter of a stream: its list (paged, from the cursor), its record
//! at `{path}/{id}`, creates (`POST {path}`, with the idempotency key) and
//! writes (`PUT`/`PATCH {path}/{id}`, over the version read).

use crate::{config, stream_of};
use ferry_declarative::{Paging as PagingSpec, RestConnector, Stream, render};
use ferry_sdk::generic::{named_version, version_text};
use ferry_sdk::prelude::*;
use ferry_sdk::rest::{Paging, Rest};
use serde_json::Value;
use std::cmp::Ordering;

/// The adapter of one stream, with the API of the instance it runs for.
#[derive(Default)]
pub struct StreamAdapter {
    api: Option<(Rest, Stream)>,
}

impl StreamAdapter {
    /// The adapter of `model`'s stream, for the instance of `ctx`.
    pub fn of(ctx: &Context, model: &str) -> Result<StreamAdapter> {
        let config = config(ctx)?;
        let stream = stream_of(&config, model)?;
        Ok(StreamAdapter {
            api: Some((api(ctx, &config)?, stream)),
        })
    }

    fn parts(&self) -> Result<(&Rest, &Stream)> {
        self.api
            .as_ref()
            .map(|(rest, stream)| (rest, stream))
            .ok_or_else(|| Error::fatal("the stream adapter was called without its stream"))
    }

    /// What a create or write answered: the id, and the version as the
    /// generic units read it (none costs the exporter one more read).
    fn saved(stream: &Stream, record: &Value) -> Saved {
        Saved {
            id: record[stream.primary_key.as_str()].clone(),
            version: named_version(record, stream.version_field.as_deref()).map(Value::from),
        }
    }
}

/// The client of the API: `base_url` and `headers` with the instance's
/// params put in, and the sealed credential when there is one.
pub fn api(ctx: &Context, config: &RestConnector) -> Result<Rest> {
    let param = |name: &str| ctx.param(name);
    let rendered = |key: &str, text: &str| {
        render(text, param).map_err(|e| Error::fatal(format!("[rest] {key}: {e}")))
    };
    let mut rest = Rest::new(&rendered("base_url", &config.base_url)?);
    for (name, value) in &config.headers {
        rest = rest.header(name, &rendered(&format!("headers.{name}"), value)?);
    }
    if let Some(credential) = &config.credential {
        rest = rest.credential(credential);
    }
    Ok(rest)
}

/// The SDK's paging for the stream's `paging`.
pub fn paging(spec: Option<&PagingSpec>) -> Paging {
    match spec {
        None => Paging::None,
        Some(PagingSpec::PageNumber {
            param,
            size_param,
            size,
            pages_at,
        }) => {
            let mut paging = Paging::page_number(param);
            if let (Some(size_param), Some(size)) = (size_param, size) {
                paging = paging.per_page(size_param, *size);
            }
            match pages_at {
                Some(at) => paging.last_page_at(at),
                None => paging,
            }
        }
        Some(PagingSpec::OffsetLimit {
            offset_param,
            limit_param,
            size,
        }) => Paging::OffsetLimit {
            offset: offset_param.clone(),
            limit: limit_param.clone(),
            size: *size,
        },
        Some(PagingSpec::Cursor { param, next_at }) => Paging::Cursor {
            param: param.clone(),
            next: next_at.clone(),
        },
        Some(PagingSpec::LinkHeader) => Paging::LinkHeader,
        Some(PagingSpec::NextUrl { next_at }) => Paging::NextUrl {
            next: next_at.clone(),
        },
    }
}

/// The newer of two cursor values: numbers by value, text by its order
/// (RFC 3339 times sort as text).
fn newer(a: Value, b: Value) -> Value {
    let order = match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.as_str().cmp(&b.as_str()),
    };
    if order == Ordering::Less { b } else { a }
}

impl Adapter for StreamAdapter {
    /// Every page of the list, from the cursor when the stream has one;
    /// the next search starts at the newest cursor field listed.
    fn search(&self, ctx: &Context, since: Option<&Value>) -> Result<Search> {
        let _ = ctx;
        let (api, stream) = self.parts()?;
        let since_text = since.and_then(version_text);
        let query = match (&stream.cursor, &since_text) {
            (Some(cursor), Some(since)) => vec![(cursor.param.as_str(), Some(since.as_str()))],
            _ => vec![],
        };
        let items = api.list(
            &stream.path,
            &query,
            &paging(stream.paging.as_ref()),
            &stream.records,
        )?;
        let newest = stream.cursor.as_ref().and_then(|cursor| {
            items
                .iter()
                .filter_map(|item| item.get(&cursor.field).filter(|v| !v.is_null()))
                .cloned()
                .reduce(newer)
        });
        let key = stream.primary_key.as_str();
        let ids = items
            .iter()
            .map(|item| match item.get(key) {
                Some(id) if !id.is_null() => Ok(id.clone()),
                _ => Err(Error::fatal(format!(
                    "a record of {} has no `{key}` (primary_key): {item}",
                    stream.path
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Search {
            ids,
            // Without a cursor every batch reads everything; the importer's
            // version check skips what did not change.
            cursor: newest.or_else(|| stream.cursor.as_ref().and(since.cloned())),
        })
    }

    fn read(&self, _ctx: &Context, id: &str) -> Result<Value> {
        let (api, stream) = self.parts()?;
        api.get(&format!("{}/{id}", stream.path))
    }

    fn create(&self, _ctx: &Context, values: &Value, idempotency_key: &str) -> Result<Saved> {
        let (api, stream) = self.parts()?;
        let write = writable(stream)?;
        let mut request = api
            .request("POST", &api.url(&stream.path, &[])?)
            .json(values);
        if let Some(header) = &write.idempotency_header {
            request = request.header(header, idempotency_key);
        }
        Ok(Self::saved(stream, &api.send(request)?.json()?))
    }

    fn write(
        &self,
        _ctx: &Context,
        id: &str,
        values: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Value>> {
        let (api, stream) = self.parts()?;
        let write = writable(stream)?;
        let url = api.url(&format!("{}/{id}", stream.path), &[])?;
        let mut request = api.request(&write.method, &url).json(values);
        if let (true, Some(version)) = (write.if_match, if_match) {
            request = request.header("if-match", &entity_tag(version));
        }
        let response = request.send()?;
        if response.status == 412 {
            return Err(Error::retryable(format!(
                "{} {id} changed remotely meanwhile: the next try checks for a conflict",
                stream.model
            )));
        }
        let response = response.error_for_status()?;
        if response.body.is_empty() {
            return Ok(None);
        }
        Ok(Self::saved(stream, &response.json()?).version)
    }

    fn delete(&self, _ctx: &Context, id: &str) -> Result<()> {
        let (api, stream) = self.parts()?;
        writable(stream)?;
        api.send(api.request("DELETE", &api.url(&format!("{}/{id}", stream.path), &[])?))?;
        Ok(())
    }
}

/// A version as an `If-Match` entity tag: quoted, unless it already is an
/// entity tag (`"abc"`, `W/"abc"`).
fn entity_tag(version: &str) -> String {
    if version.starts_with('"') || version.starts_with("W/\"") {
        version.to_string()
    } else {
        format!("\"{version}\"")
    }
}

/// The stream's `write`, or a final error: it is read-only.
fn writable(stream: &Stream) -> Result<&ferry_declarative::Write> {
    stream.write.as_ref().ok_or_else(|| {
        Error::fatal(format!(
            "stream `{}` is read-only: add `write = {{ method = \"PUT\" }}` to its [[rest.stream]] to export",
            stream.model
        ))
    })
}
