//! Fresh instance + call of a small handler: what every job and every unit call
//! pays before doing its own work.
//!
//! `cargo bench -p ferry-host --bench instantiate`

use criterion::{Criterion, criterion_group, criterion_main};
use ferry::{Ferry, FerryOptions};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = rt.block_on(async {
        let ferry = Ferry::open_with(FerryOptions::new(dir.path()))
            .await
            .expect("open");
        let built = ferry::demo::build_example("hostile").expect("build hostile");
        ferry
            .install(&built.manifest, &built.wasm)
            .await
            .expect("install");
        ferry
            .add_instance("lab", "hostile", Default::default())
            .await
            .expect("instance");
        ferry.runner("lab").await.expect("runner")
    });
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
