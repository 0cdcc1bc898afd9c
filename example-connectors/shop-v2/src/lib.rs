//! The `shop-v2` connector (backend `shop@2.0`, parent `shop@1.7`).
//!
//! It overrides only what changed in the shop's v2 API: the adapter (new URL
//! layout, cursor paging, bearer auth, `{data: …}` envelopes) and one field of
//! the product mapper (`title` instead of `name`). Importers, exporters, binders,
//! the other mappers and the jobs fall back to the `shop` module.

use ferry_sdk::http;
use ferry_sdk::mapper::id_text;
use ferry_sdk::prelude::*;
use serde_json::{Value, json};

const MODELS: [(&str, &str); 3] = [
    ("product", "products"),
    ("customer", "customers"),
    ("order", "orders"),
];

/// The v2 adapter of one collection.
struct V2Adapter {
    collection: &'static str,
}

impl V2Adapter {
    fn url(&self, ctx: &Context, tail: &str) -> Result<String> {
        Ok(format!(
            "{}/v2/catalog/{}{tail}",
            ctx.require_param("url")?.trim_end_matches('/'),
            self.collection
        ))
    }
    fn send(&self, ctx: &Context, request: http::Request) -> Result<Value> {
        let token = ctx.param("token").unwrap_or_default();
        request
            .header("authorization", &format!("Bearer {token}"))
            .send()?
            .error_for_status()?
            .json()
    }
}

impl Unit for V2Adapter {
    fn methods(&self) -> Vec<String> {
        ["search", "read", "create", "write"]
            .map(String::from)
            .to_vec()
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        match method {
            "search" => {
                let since = payload["since"]
                    .as_i64()
                    .map(|s| format!("&changed_since={s}"))
                    .unwrap_or_default();
                let mut ids = Vec::new();
                let mut cursor = 0;
                loop {
                    let body = self.send(
                        ctx,
                        http::Request::get(
                            &self.url(ctx, &format!("?cursor={cursor}&limit=200{since}"))?,
                        ),
                    )?;
                    let data = body["data"]
                        .as_array()
                        .ok_or_else(|| Error::fatal("list without `data`"))?;
                    ids.extend(data.iter().map(|r| r["id"].clone()));
                    match body["next_cursor"].as_u64() {
                        Some(next) => cursor = next,
                        None => break,
                    }
                }
                Ok(json!({ "ids": ids }))
            }
            "read" => {
                let body = self.send(
                    ctx,
                    http::Request::get(&self.url(ctx, &format!("/{}", id_text(&payload["id"])))?),
                )?;
                Ok(body["data"].clone())
            }
            "create" => {
                let body = self.send(
                    ctx,
                    http::Request::post(&self.url(ctx, "")?).json(&payload["values"]),
                )?;
                Ok(json!({ "id": body["data"]["id"] }))
            }
            "write" => {
                let url = self.url(ctx, &format!("/{}", id_text(&payload["id"])))?;
                Ok(self.send(
                    ctx,
                    http::Request::new("PATCH", &url).json(&payload["values"]),
                )?["data"]
                    .clone())
            }
            other => Err(Error::not_found(format!("adapter has no method `{other}`"))),
        }
    }
}

/// The product mapper of v2: the parent's mapping, with `title` in place of `name`.
fn product_mapper() -> impl Unit {
    unit::from_fn(&["to_local", "to_external"], |ctx, method, payload| {
        let mut out = ctx.call_parent(kind::MAPPER, "product", method, &payload)?;
        match method {
            "to_local" => {
                if let Some(title) = payload["record"].get("title") {
                    out["name"] = title.clone();
                }
            }
            _ => {
                if let Some(name) = out.as_object_mut().and_then(|o| o.remove("name")) {
                    out["title"] = name;
                }
            }
        }
        Ok(out)
    })
}

/// The connector: a v2 adapter per model and the product mapper override.
pub fn connector() -> Connector {
    let mut c = Connector::new().unit(kind::MAPPER, "product", product_mapper());
    for (model, collection) in MODELS {
        c = c.unit(kind::ADAPTER, model, V2Adapter { collection });
    }
    c
}

ferry_sdk::export_connector!(connector);
