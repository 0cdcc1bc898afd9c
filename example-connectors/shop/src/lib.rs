//! The `shop` connector (backends `shop` and `shop@1.7`).
//!
//! Products, customers and orders (with their lines) between the local side and
//! the shop's v1 API: an adapter per model, import and export mappers, and the
//! SDK's generic binder, importer and exporter. A batch job enqueues one import
//! per changed record; `record.updated` on a product enqueues its export (see
//! `connector.toml`). The shop notifies changed products on the webhook
//! `product-changed`, which enqueues their import at once.
//!
//! What makes the two-way sync safe on the v1 API: creates carry the
//! exporter's `Idempotency-Key` (a create retried after a crash gets back the
//! record made the first time), writes carry `If-Match` with the version read
//! just before (a change in the shop in between is refused with 412, and the
//! retry checks for a conflict), and the search returns the newest
//! `updated_at` it listed as the batch's cursor.

use ferry_sdk::generic;
use ferry_sdk::mapper::{Mapper, MapperUnit, convert, id_text};
use ferry_sdk::prelude::*;
use ferry_sdk::rest::{Paging, Rest};
use serde_json::{Value, json};

/// The models this connector synchronises, with their collection in the shop API.
pub const MODELS: [(&str, &str); 3] = [
    ("product", "products"),
    ("customer", "customers"),
    ("order", "orders"),
];

mod batch;

/// The v1 adapter of one collection: `X-Api-Key` auth, page-numbered lists.
pub(crate) struct V1Adapter {
    collection: &'static str,
}

impl V1Adapter {
    /// The shop's v1 API, as the instance says where it is.
    fn api(&self, ctx: &Context) -> Result<Rest> {
        let key = ctx.param("api_key").unwrap_or_default();
        Ok(Rest::from_param(ctx, "url")?.header("x-api-key", &key))
    }

    fn path(&self, tail: &str) -> String {
        format!("api/v1/{}{tail}", self.collection)
    }

    fn saved(record: Value) -> Saved {
        Saved {
            version: Some(record["updated_at"].clone()),
            id: record["id"].clone(),
        }
    }

    /// One page of the records changed after `since` (all when none):
    /// `{items, page, pages, total}`.
    pub(crate) fn list_page(
        &self,
        ctx: &Context,
        since: Option<i64>,
        page: u64,
        per_page: u64,
    ) -> Result<Value> {
        let api = self.api(ctx)?;
        let (since, page, per_page) = (
            since.map(|s| s.to_string()),
            page.to_string(),
            per_page.to_string(),
        );
        let query = [
            ("page", Some(page.as_str())),
            ("per_page", Some(per_page.as_str())),
            ("updated_since", since.as_deref()),
        ];
        api.send(api.request("GET", &api.url(&self.path(""), &query)?))?
            .json()
    }
}

impl Adapter for V1Adapter {
    /// The ids changed since `since`, page by page, and the cursor of the
    /// next search: the newest `updated_at` listed (the shop lists what
    /// changed strictly after it), or `since` again when nothing changed.
    fn search(&self, ctx: &Context, since: Option<&Value>) -> Result<Search> {
        let since_text = since.and_then(Value::as_i64).map(|s| s.to_string());
        let paging = Paging::page_number("page")
            .per_page("per_page", 200)
            .last_page_at("/pages");
        let query = [("updated_since", since_text.as_deref())];
        let items = self
            .api(ctx)?
            .list(&self.path(""), &query, &paging, "/items")?;
        let newest = items.iter().filter_map(|i| i["updated_at"].as_i64()).max();
        Ok(Search {
            ids: items.iter().map(|i| i["id"].clone()).collect(),
            cursor: newest.map(Value::from).or(since.cloned()),
        })
    }

    fn read(&self, ctx: &Context, id: &str) -> Result<Value> {
        self.api(ctx)?.get(&self.path(&format!("/{id}")))
    }

    /// Create with the exporter's key as `Idempotency-Key`: the shop answers
    /// a repeated key with the record it made the first time, so a create
    /// retried after a crash does not make a second one.
    fn create(&self, ctx: &Context, values: &Value, idempotency_key: &str) -> Result<Saved> {
        let api = self.api(ctx)?;
        let request = api.request("POST", &api.url(&self.path(""), &[])?);
        let request = request
            .json(values)
            .header("idempotency-key", idempotency_key);
        Ok(Self::saved(api.send(request)?.json()?))
    }

    /// Write only over the version the exporter read (`If-Match`): a change
    /// made in the shop in between makes the shop refuse (412), and the next
    /// try sees that change and checks for a conflict.
    fn write(
        &self,
        ctx: &Context,
        id: &str,
        values: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Value>> {
        let api = self.api(ctx)?;
        let mut request = api
            .request("PUT", &api.url(&self.path(&format!("/{id}")), &[])?)
            .json(values);
        if let Some(version) = if_match {
            request = request.header("if-match", &format!("\"{version}\""));
        }
        let response = request.send()?;
        if response.status == 412 {
            return Err(Error::retryable(format!(
                "{} {id} changed in the shop meanwhile: the next try checks for a conflict",
                self.collection
            )));
        }
        Ok(Self::saved(response.error_for_status()?.json()?).version)
    }
}

/// The product importer: the generic one, plus a checkpoint for a person to
/// review when the shop sells a product for nothing.
struct ProductImporter(generic::Importer);

impl Unit for ProductImporter {
    fn methods(&self) -> Vec<String> {
        self.0.methods()
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        let out = self.0.call(ctx, method, payload)?;
        // Only a record this run wrote: a skipped one was checked when it was.
        let written = out["skipped"].as_bool() != Some(true);
        if written && let Some(id) = out["local_id"].as_u64() {
            let product = ctx.read("product", id)?;
            if product.values["list_price"].as_f64() == Some(0.0) {
                ctx.checkpoint(
                    "product",
                    id,
                    "imported with a price of 0: check it before it is sold",
                )?;
            }
        }
        Ok(out)
    }
}

fn price_text(v: &Value) -> Result<Value> {
    let amount = convert::float(v)?;
    Ok(amount
        .as_f64()
        .map(|a| json!(format!("{a:.2}")))
        .unwrap_or(Value::Null))
}

/// The product mapper (public so that benchmarks can run it natively).
pub fn product_mapper() -> MapperUnit {
    let import = Mapper::new()
        .direct("name", "name")
        .direct("sku", "default_code")
        .direct_with("price", "list_price", convert::float)
        .direct_with("stock", "qty_available", convert::int)
        .direct("active", "active")
        .method(|rec| {
            let price = convert::float(&rec["price"])?.as_f64().unwrap_or(0.0);
            Ok(json!({ "price_band": if price >= 50.0 { "premium" } else { "standard" } }))
        })
        .method_on_create(|_| Ok(json!({ "origin": "shop" })));
    let export = Mapper::export()
        .direct("name", "name")
        .direct("default_code", "sku")
        .direct_with("list_price", "price", price_text)
        .direct("qty_available", "stock")
        .direct("active", "active");
    MapperUnit::new(import, export)
}

fn customer_mapper() -> MapperUnit {
    let import = Mapper::new()
        .direct("name", "name")
        .direct_with("email", "email", convert::none_if_empty)
        .direct("city", "city")
        .method_on_create(|_| Ok(json!({ "customer_rank": 1 })));
    let export = Mapper::export()
        .direct("name", "name")
        .direct("email", "email")
        .direct("city", "city");
    MapperUnit::new(import, export)
}

fn order_mapper() -> MapperUnit {
    let line_import = Mapper::new()
        .binding("product_id", "product_id", "product")
        .direct_with("qty", "quantity", convert::int)
        .direct_with("price", "price_unit", convert::float);
    let import = Mapper::new()
        .direct("number", "name")
        .binding("customer_id", "partner_id", "customer")
        .submapping("lines", "order_lines", line_import)
        .method(|rec| {
            let mut total = 0.0;
            for line in rec["lines"].as_array().into_iter().flatten() {
                let qty = convert::float(&line["qty"])?.as_f64().unwrap_or(0.0);
                let price = convert::float(&line["price"])?.as_f64().unwrap_or(0.0);
                total += qty * price;
            }
            Ok(json!({ "amount_total": (total * 100.0).round() / 100.0 }))
        });
    let line_export = Mapper::export()
        .binding("product_id", "product_id", "product")
        .direct("quantity", "qty")
        .direct_with("price_unit", "price", price_text);
    let export = Mapper::export()
        .direct("name", "number")
        .binding("partner_id", "customer_id", "customer")
        .submapping("order_lines", "lines", line_export);
    MapperUnit::new(import, export)
}

/// Webhook `product-changed`: the shop says product `{"id": …}` changed; its
/// import is enqueued (once, however often the shop calls) and the answer, 202,
/// names the job.
pub fn product_changed(ctx: &Context, request: webhook::Request) -> Result<webhook::Response> {
    let body = request.json()?;
    let id = match &body["id"] {
        Value::Null => {
            return Ok(webhook::Response::json(
                422,
                &json!({ "error": "expected {\"id\": …} of the product that changed" }),
            ));
        }
        id => id_text(id),
    };
    let job = Job::new(
        "import-record",
        &json!({ "model": "product", "external_id": id }),
    )
    .identity_key(format!("import:product:{id}"))
    .description(format!("Import product {id} (the shop notified a change)"));
    let job = ctx.enqueue(job)?;
    Ok(webhook::Response::json(202, &json!({ "job": job })))
}

/// Job `import-order-event` (listener `orders`): import the order the shop
/// announced, then announce `order.imported` (keyed by the order, so that
/// the events of one order stay in order).
pub fn import_order_event(ctx: &Context, payload: Value) -> Result<Value> {
    let id = id_text(&payload["order_id"]);
    let imported = generic::import_record(ctx, json!({ "model": "order", "external_id": id }))?;
    ferry_sdk::messaging::publish(
        "order.imported",
        Some(&id),
        &json!({ "order_id": id, "imported": imported }),
        &[],
    )?;
    Ok(imported)
}

/// The connector: what `describe` reports and what the host dispatches to.
pub fn connector() -> Connector {
    let mut c = Connector::new()
        .unit(kind::MAPPER, "product", product_mapper())
        .unit(kind::MAPPER, "customer", customer_mapper())
        .unit(kind::MAPPER, "order", order_mapper());
    for (model, collection) in MODELS {
        c = c
            .unit(kind::ADAPTER, model, adapter(V1Adapter { collection }))
            .unit(kind::BINDER, model, generic::LinkBinder::new(model))
            .unit(kind::EXPORTER, model, generic::Exporter::new(model));
        c = match model {
            "product" => c.unit(
                kind::IMPORTER,
                model,
                ProductImporter(generic::Importer::new(model)),
            ),
            _ => c.unit(kind::IMPORTER, model, generic::Importer::new(model)),
        };
    }
    c.job(
        "import-batch",
        "Enqueue one import-record job per record changed in the shop",
        generic::import_batch,
    )
    .job(
        "import-record",
        "Import one record from the shop",
        generic::import_record,
    )
    .job(
        "export-record",
        "Export one local record to the shop",
        generic::export_record,
    )
    .job(
        "import-order-event",
        "Import an order the shop announced on its broker, then publish order.imported",
        import_order_event,
    )
    .webhook("product-changed", product_changed)
    .batch(batch::export_products())
    .batch(batch::import_products())
}

ferry_sdk::export_connector!(connector);
