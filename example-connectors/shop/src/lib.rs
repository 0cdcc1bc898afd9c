//! The `shop` connector (backends `shop` and `shop@1.7`).
//!
//! Products, customers and orders (with their lines) between the local side and
//! the shop's v1 API: an adapter per model, import and export mappers, and the
//! SDK's generic binder, importer and exporter. A batch job enqueues one import
//! per changed record; `record.updated` on a product enqueues its export (see
//! `connector.toml`). The shop notifies changed products on the webhook
//! `product-changed`, which enqueues their import at once. Two batch jobs,
//! `import-products` and `export-products`, move products in chunks that
//! resume where they stopped (the SDK's `BatchImport` and `BatchExport`).
//!
//! What makes the two-way sync safe on the v1 API: creates carry the
//! exporter's `Idempotency-Key` (a create retried after a crash gets back the
//! record made the first time), writes carry `If-Match` with the version read
//! just before (a change in the shop in between is refused with 412, and the
//! retry checks for a conflict), and the search returns the newest
//! `updated_at` it listed as the batch's cursor.

use ferry_sdk::generic::{self, BatchExport, BatchImport};
use ferry_sdk::mapper::{Mapper, MapperUnit, convert, id_text};
use ferry_sdk::prelude::*;
use ferry_sdk::rest::{Collection, Paging, Rest};
use serde_json::{Value, json};

/// The models this connector synchronises, with their collection in the shop API.
pub const MODELS: [(&str, &str); 3] = [
    ("product", "products"),
    ("customer", "customers"),
    ("order", "orders"),
];

/// The v1 adapter of one collection: `X-Api-Key` auth, page-numbered lists
/// filtered by `updated_since`, creates with `Idempotency-Key`, writes with
/// `If-Match`.
pub fn v1_collection(collection: &str) -> Collection {
    Collection::new(&format!("api/v1/{collection}"), |ctx| {
        let key = ctx.param("api_key").unwrap_or_default();
        Ok(Rest::from_param(ctx, "url")?.header("x-api-key", &key))
    })
    .paging(
        Paging::page_number("page")
            .per_page("per_page", 200)
            .last_page_at("/pages"),
    )
    .records("/items")
    .changed_since("updated_since", "updated_at")
    .idempotency_header("idempotency-key")
    .if_match()
}

/// Why a product should be reviewed after an import: the shop sells it for nothing.
fn sold_for_nothing(values: &Value) -> Option<String> {
    (values["list_price"].as_f64() == Some(0.0))
        .then(|| "imported with a price of 0: check it before it is sold".into())
}

/// Why the shop would refuse a product, naming the field.
fn refusal(values: &Value) -> Option<String> {
    match (values["name"].as_str(), values["list_price"].as_f64()) {
        (None | Some(""), _) => Some("`name` is empty: the shop requires one".into()),
        (_, Some(price)) if price < 0.0 => Some(format!("`list_price` is negative ({price})")),
        _ => None,
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
        let importer = match model {
            "product" => generic::Importer::new(model).review(sold_for_nothing),
            _ => generic::Importer::new(model),
        };
        c = c
            .unit(kind::ADAPTER, model, adapter(v1_collection(collection)))
            .unit(kind::BINDER, model, generic::LinkBinder::new(model))
            .unit(kind::EXPORTER, model, generic::Exporter::new(model))
            .unit(kind::IMPORTER, model, importer);
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
    .batch(
        BatchExport::new("export-products", "product")
            .describe("Export local products to the shop: the changed ones are written (If-Match), the new ones created (Idempotency-Key)")
            .refuse(refusal),
    )
    .batch(
        BatchImport::new("import-products", "product")
            .describe("Import the shop's products changed since the last import, a chunk at a time")
            .review(sold_for_nothing),
    )
}

ferry_sdk::export_connector!(connector);
