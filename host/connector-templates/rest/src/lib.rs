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
use ferry_sdk::rest::{Paging, Rest};
use serde_json::{Value, json};

/// One collection of the API (`products`).
struct Collection(&'static str);

impl Collection {
    /// The API of the instance: its `url`, its key sent as `X-Api-Key`.
    fn api(&self, ctx: &Context) -> Result<Rest> {
        let key = ctx.param("api_key").unwrap_or_default();
        Ok(Rest::from_param(ctx, "url")?.header("x-api-key", &key))
    }

    fn path(&self, tail: &str) -> String {
        format!("api/v1/{}{tail}", self.0)
    }

    fn saved(record: Value) -> Saved {
        Saved {
            version: Some(record["updated_at"].clone()),
            id: record["id"].clone(),
        }
    }
}

impl Adapter for Collection {
    /// Every page of what changed since the cursor; the next search starts
    /// at the newest `updated_at` listed.
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

    /// The key as `Idempotency-Key`: a create tried again after a crash gets
    /// back the record made the first time.
    fn create(&self, ctx: &Context, values: &Value, idempotency_key: &str) -> Result<Saved> {
        let api = self.api(ctx)?;
        let request = api
            .request("POST", &api.url(&self.path(""), &[])?)
            .json(values)
            .header("idempotency-key", idempotency_key);
        Ok(Self::saved(api.send(request)?.json()?))
    }

    /// Over the version read just before (`If-Match`): a change made
    /// remotely in between is refused (412), and the retry checks for a conflict.
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
            return Err(Error::retryable(format!("{id} changed remotely meanwhile")));
        }
        Ok(Self::saved(response.error_for_status()?.json()?).version)
    }
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
        .unit(kind::ADAPTER, model, adapter(Collection("products")))
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
