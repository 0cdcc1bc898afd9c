//! The adapter of a stream: the SDK's REST [`Collection`] configured from
//! the stream (its list, paged and from the cursor; its record at
//! `{path}/{id}`; creates with the idempotency key; writes with `PUT` or
//! `PATCH` over the version read).

use crate::{config, stream_of};
use ferry_declarative::{Paging as PagingSpec, RestConnector, Stream, render};
use ferry_sdk::prelude::*;
use ferry_sdk::rest::{Collection, Paging, Rest};

/// The adapter of `model`'s stream, for the instance of `ctx`.
pub fn stream_adapter(ctx: &Context, model: &str) -> Result<Collection> {
    let config = config(ctx)?;
    let stream = stream_of(&config, model)?;
    Ok(collection(api(ctx, &config)?, &stream))
}

/// The collection of `stream` on the API `rest`.
pub fn collection(rest: Rest, stream: &Stream) -> Collection {
    let mut collection = Collection::new(&stream.path, move |_| Ok(rest.clone()))
        .paging(paging(stream.paging.as_ref()))
        .records(&stream.records)
        .primary_key(&stream.primary_key);
    if let Some(cursor) = &stream.cursor {
        collection = collection.changed_since(&cursor.param, &cursor.field);
    }
    if let Some(field) = &stream.version_field {
        collection = collection.version_field(field);
    }
    let Some(write) = &stream.write else {
        return collection.read_only(&format!(
            "stream `{}` is read-only: add `write = {{ method = \"PUT\" }}` to its [[rest.stream]] to export",
            stream.model
        ));
    };
    collection = collection.write_method(&write.method);
    if write.if_match {
        collection = collection.if_match();
    }
    match &write.idempotency_header {
        Some(header) => collection.idempotency_header(header),
        None => collection,
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
