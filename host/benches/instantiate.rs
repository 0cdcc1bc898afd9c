//! Fresh instance + call of a small handler: what every job and every unit call
//! pays before doing its own work. Beside it, on an engine configured as
//! Ferry's (pooling allocator, epochs, async), with a bare store:
//!
//! - the floor: a component with one empty function and no imports,
//!   instantiated and called;
//! - wasmtime alone on the same guest: the `hostile` component instantiated
//!   (its imports defined as traps, nothing called).
//!
//! so that what the guest's shape and Ferry's own work add are differences.
//!
//! `cargo bench -p ferry-host --bench instantiate`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::path::Path;
use wasmtime::component::{Component, Linker, TypedFunc};

/// The smallest component that can be called: one core module with one
/// empty function, lifted as an export.
const EMPTY_COMPONENT: &str = r#"
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func (export "f") (canon lift (core func $i "f")))
)"#;

fn bench(c: &mut Criterion) {
    let (rt, dir, runner) = common::runner("hostile", "lab", "hostile", Default::default());
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

    // The floor, on an engine configured as Ferry's.
    let engine = ferry::engine::Engine::new(ferry::engine::EngineConfig::new(
        dir.path().join("floor-cache"),
    ))
    .expect("engine");
    let bare = |component: &Component| {
        let mut linker = Linker::<()>::new(component.engine());
        linker
            .define_unknown_imports_as_traps(component)
            .expect("trap imports");
        linker.instantiate_pre(component).expect("pre-instantiate")
    };
    let empty = {
        let bytes = wat::parse_str(EMPTY_COMPONENT).expect("the empty component's text");
        engine
            .load_bytes(Path::new("empty.wasm"), &bytes)
            .expect("compile the empty component")
            .0
    };
    let empty_pre = bare(&empty);
    c.bench_function("floor: empty component, bare store, one call", |b| {
        b.to_async(&rt).iter(|| async {
            let mut store = wasmtime::Store::new(empty.engine(), ());
            store.set_epoch_deadline(1_000);
            let instance = empty_pre
                .instantiate_async(&mut store)
                .await
                .expect("instantiate");
            let f: TypedFunc<(), ()> = instance
                .get_typed_func(&mut store, "f")
                .expect("export `f`");
            f.call_async(&mut store, ()).await.expect("call");
        })
    });

    let hostile = ferry::demo::build_example("hostile").expect("build hostile");
    let guest = engine.load(&hostile.wasm).expect("compile hostile").0;
    let guest_pre = bare(&guest);
    c.bench_function("wasmtime alone: hostile instantiated, bare store", |b| {
        b.to_async(&rt).iter(|| async {
            let mut store = wasmtime::Store::new(guest.engine(), ());
            store.set_epoch_deadline(1_000);
            guest_pre
                .instantiate_async(&mut store)
                .await
                .expect("instantiate");
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
