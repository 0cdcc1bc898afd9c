//! The `{{name}}` connector: products between the local side and a REST API
//! whose lists are page-numbered (`GET {url}/api/v1/products?page=N` →
//! `{items, pages}`) and whose records carry `id` and `updated_at`.
//!
//! You write the adapter (how to talk to the API) and the mapper (which
//! field is which); the SDK's generic importer, exporter and binder do the
//! rest: links so that a second import updates instead of duplicating,
//! versions and conflicts, idempotent creates.
//!
//! Build, install and run:
//! ```sh
//! ferry install .
//! ferry backend add demo {{backend_key}} --param url=http://127.0.0.1:8790
//! ferry run demo import-batch --payload '{"model": "product"}' --wait
//! ferry worker --until-idle    # the import-record jobs the batch enqueued
//! ```

use ferry_sdk::generic;
use ferry_sdk::mapper::{Mapper, MapperUnit, convert};
use ferry_sdk::prelude::*;
use ferry_sdk::rest::{Collection, Paging, Rest};
use serde_json::json;

/// The adapter of one collection of the API (`products`): the instance's
/// `url`, its key sent as `X-Api-Key`; lists page-numbered and asked only
/// for what changed since the newest `updated_at` of the last one; creates
/// with the exporter's key as `Idempotency-Key` (a create tried again after
/// a crash gets back the record made the first time); writes over the
/// version read just before (`If-Match`: a change made remotely in between
/// is refused, and the retry checks for a conflict).
///
/// An API that is not a plain collection gets its own `impl Adapter`
/// (search, read, create, write; see `ferry_sdk::adapter`).
pub fn collection(name: &str) -> Collection {
    Collection::new(&format!("api/v1/{name}"), |ctx| {
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

/// Which remote field is which local one, both ways.
pub fn product_mapper() -> MapperUnit {
    let import = Mapper::new()
        .direct("name", "name")
        .direct("sku", "default_code")
        .direct_with("price", "list_price", convert::float);
    let export = Mapper::export()
        .direct("name", "name")
        .direct("default_code", "sku")
        .direct_with("list_price", "price", |v| {
            let price = convert::float(v)?.as_f64().unwrap_or(0.0);
            Ok(json!(format!("{price:.2}")))
        });
    MapperUnit::new(import, export)
}

/// The connector: what `describe` reports and what the host dispatches to.
pub fn connector() -> Connector {
    let model = "product";
    Connector::new()
        .unit(kind::ADAPTER, model, adapter(collection("products")))
        .unit(kind::MAPPER, model, product_mapper())
        .unit(kind::BINDER, model, generic::LinkBinder::new(model))
        .unit(kind::IMPORTER, model, generic::Importer::new(model))
        .unit(kind::EXPORTER, model, generic::Exporter::new(model))
        .job(
            "import-batch",
            "Enqueue one import-record job per record changed remotely",
            generic::import_batch,
        )
        .job("import-record", "Import one record", generic::import_record)
        .job(
            "export-record",
            "Export one local record",
            generic::export_record,
        )
}

ferry_sdk::export_connector!(connector);

#[cfg(test)]
mod tests {
    use super::product_mapper;
    use serde_json::json;

    #[test]
    fn the_mapper_maps_both_ways() {
        let mapper = product_mapper();
        let remote = json!({ "id": 1, "name": "Lamp", "sku": "L-1", "price": "12.5" });
        let local = mapper.import().map(None, &remote, true).unwrap();
        assert_eq!(local["default_code"], json!("L-1"));
        assert_eq!(local["list_price"], json!(12.5));
        let back = mapper.export().map(None, &local, false).unwrap();
        assert_eq!(back["price"], json!("12.50"));
    }
}
