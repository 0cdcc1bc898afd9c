//! The `shop-v2` connector (backend `shop@2.0`, parent `shop@1.7`).
//!
//! It overrides only what changed in the shop's v2 API: the adapter (new URL
//! layout, cursor paging, bearer auth, `{data: …}` envelopes) and one field of
//! the product mapper (`title` instead of `name`). Importers, exporters, binders,
//! the other mappers and the jobs fall back to the `shop` module.
//!
//! v2 has no idempotency keys: the adapter stores the exporter's key in the
//! record's `external_ref` and answers `find` by listing records with that
//! reference, so a create cut short before its bind is found, not repeated.
//! Writes carry `If-Match`, as in v1.

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
    fn call_shop(&self, ctx: &Context, request: http::Request) -> Result<http::Response> {
        let token = ctx.param("token").unwrap_or_default();
        request
            .header("authorization", &format!("Bearer {token}"))
            .send()
    }
    fn send(&self, ctx: &Context, request: http::Request) -> Result<Value> {
        self.call_shop(ctx, request)?.error_for_status()?.json()
    }

    /// One page of the records changed since `since`, from the shop's
    /// cursor `from`: the protocol's `list`, `{records: [{id, record}],
    /// next, cursor}` (`cursor`: the newest `updated_at` listed).
    fn list(&self, ctx: &Context, since: &Value, from: &Value, size: u64) -> Result<Value> {
        let filter = since
            .as_i64()
            .map(|s| format!("&changed_since={s}"))
            .unwrap_or_default();
        let (from, limit) = (from.as_u64().unwrap_or(0), size.clamp(1, 200));
        let url = self.url(ctx, &format!("?cursor={from}&limit={limit}{filter}"))?;
        let body = self.send(ctx, http::Request::get(&url))?;
        let data = body["data"]
            .as_array()
            .ok_or_else(|| Error::fatal("list without `data`"))?;
        let newest = data.iter().filter_map(|i| i["updated_at"].as_i64()).max();
        let records: Vec<Value> = data
            .iter()
            .map(|r| json!({ "id": r["id"], "record": r }))
            .collect();
        Ok(json!({ "records": records, "next": body["next_cursor"], "cursor": newest }))
    }

    /// The ids changed since `since`, page by page, and the batch's next
    /// cursor: the newest `updated_at` listed, or `since` again.
    fn search(&self, ctx: &Context, since: &Value) -> Result<Value> {
        let (mut ids, mut newest, mut from) = (Vec::new(), None, Value::Null);
        loop {
            let page = self.list(ctx, since, &from, 200)?;
            let records = page["records"].as_array().into_iter().flatten();
            ids.extend(records.map(|r| r["id"].clone()));
            newest = newest.max(page["cursor"].as_i64());
            match &page["next"] {
                Value::Null => break,
                next => from = next.clone(),
            }
        }
        let cursor = newest.map(Value::from).unwrap_or_else(|| since.clone());
        Ok(json!({ "ids": ids, "cursor": cursor }))
    }

    /// Create with the exporter's key in the record's `external_ref`: v2 has
    /// no idempotency keys, but it lists records by that field (see `find`).
    fn create(&self, ctx: &Context, payload: &Value) -> Result<Value> {
        let mut values = payload["values"].clone();
        if let (Some(fields), Some(key)) =
            (values.as_object_mut(), payload["idempotency_key"].as_str())
        {
            fields.insert("external_ref".into(), json!(key));
        }
        let body = self.send(ctx, http::Request::post(&self.url(ctx, "")?).json(&values))?;
        Ok(json!({ "id": body["data"]["id"], "version": body["data"]["updated_at"] }))
    }

    /// The record an earlier create made with this key, if the shop has it.
    fn find(&self, ctx: &Context, payload: &Value) -> Result<Value> {
        let key = payload["idempotency_key"]
            .as_str()
            .ok_or_else(|| Error::fatal("find needs an `idempotency_key`"))?;
        let url = self.url(ctx, "")?;
        let url = format!("{url}?external_ref={}", encode_query(key));
        let body = self.send(ctx, http::Request::get(&url))?;
        let found = body["data"].as_array().and_then(|d| d.first());
        Ok(match found {
            Some(record) => json!({ "id": record["id"], "version": record["updated_at"] }),
            None => json!({ "id": null }),
        })
    }

    /// Patch only over the version the exporter read (`If-Match`); a change
    /// in the shop in between is refused (412) and retried.
    fn write(&self, ctx: &Context, payload: &Value) -> Result<Value> {
        let id = id_text(&payload["id"]);
        let mut request = http::Request::new("PATCH", &self.url(ctx, &format!("/{id}"))?)
            .json(&payload["values"]);
        if let Some(version) = ferry_sdk::generic::version_text(&payload["if_match"]) {
            request = request.header("if-match", &format!("\"{version}\""));
        }
        let response = self.call_shop(ctx, request)?;
        if response.status == 412 {
            return Err(Error::retryable(format!(
                "{} {id} changed in the shop meanwhile: the next try checks for a conflict",
                self.collection
            )));
        }
        let body = response.error_for_status()?.json()?;
        Ok(json!({ "version": body["data"]["updated_at"] }))
    }
}

/// Percent-encode a query value (keys are ours, but never trust a string
/// into a URL as is).
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Unit for V2Adapter {
    fn methods(&self) -> Vec<String> {
        ["search", "list", "read", "create", "find", "write"]
            .map(String::from)
            .to_vec()
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        match method {
            "search" => self.search(ctx, &payload["since"]),
            "list" => {
                let size = payload["size"].as_u64().unwrap_or(100);
                self.list(ctx, &payload["since"], &payload["from"], size)
            }
            "read" => {
                let body = self.send(
                    ctx,
                    http::Request::get(&self.url(ctx, &format!("/{}", id_text(&payload["id"])))?),
                )?;
                Ok(body["data"].clone())
            }
            "create" => self.create(ctx, &payload),
            "find" => self.find(ctx, &payload),
            "write" => self.write(ctx, &payload),
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
