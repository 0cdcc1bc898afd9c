//! Fresh instance + call of a small handler: what every job and every unit call
//! pays before doing its own work.
//!
//! `cargo bench -p ferry-host --bench instantiate`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let (rt, _dir, runner) = common::runner("hostile", "lab", "hostile", Default::default());
    let payload = json!({ "n": 1 }).to_string();
    // Check once that the handler really runs.
    let out = rt
        .block_on(runner.run_job("ok", &payload))
        .expect("run")
        .expect("ok job");
    assert_eq!(out, r#"{"echo":{"n":1}}"#);

    c.bench_function("fresh instance + small job (hostile `ok`)", |b| {
        b.to_async(&rt).iter(|| async {
            runner
                .run_job("ok", &payload)
                .await
                .expect("run")
                .expect("ok")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
