//! The shop's product mapper on 10 000 records: in Wasm (one unit call, through
//! the host) against the same mapping compiled natively (the `shop` crate linked
//! as a library). Both sides parse the JSON payload and write the JSON result, so
//! the ratio is the cost of the sandbox on real mapping work.
//!
//! `cargo bench -p ferry-host --bench mapper`

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferry::invoke::UnitCall;
use serde_json::{Value, json};

const RECORDS: usize = 10_000;

fn records() -> Value {
    let mut shop = shop_simulator::ShopData::default();
    shop.seed(RECORDS as u64, 0, 0);
    Value::Array(shop.records["products"].values().cloned().collect())
}

fn bench(c: &mut Criterion) {
    let params = json!({ "url": "http://127.0.0.1:9" })
        .as_object()
        .cloned()
        .unwrap_or_default();
    let (rt, _dir, runner) = common::runner("shop", "acme", "shop@1.7", params);
    let payload = json!({ "records": records(), "for_create": true }).to_string();
    let call = UnitCall {
        kind: "mapper".into(),
        model: "product".into(),
        method: "to_local_batch".into(),
        payload: payload.clone(),
    };
    let native = shop::product_mapper();

    // Both sides must agree before they are compared.
    let wasm_out: Value = serde_json::from_str(
        &rt.block_on(runner.call_unit(call.clone()))
            .expect("call")
            .expect("map"),
    )
    .expect("json");
    let native_out = map_natively(&native, &payload);
    assert_eq!(wasm_out, native_out);

    let mut group = c.benchmark_group("shop product mapper, 10 000 records");
    group
        .sample_size(20)
        .throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("wasm (unit call through the host)", |b| {
        b.to_async(&rt).iter(|| async {
            runner
                .call_unit(call.clone())
                .await
                .expect("call")
                .expect("map")
        })
    });
    group.bench_function("native (same crate, same JSON in and out)", |b| {
        b.iter(|| serde_json::to_string(&map_natively(&native, &payload)).expect("json"))
    });
    group.finish();
}

fn map_natively(mapper: &ferry_sdk::mapper::MapperUnit, payload: &str) -> Value {
    let payload: Value = serde_json::from_str(payload).expect("payload");
    let records = payload["records"].as_array().expect("records");
    let out: Vec<Value> = records
        .iter()
        .map(|r| mapper.import().map(None, r, true).expect("map"))
        .collect();
    Value::Array(out)
}

criterion_group!(benches, bench);
criterion_main!(benches);
