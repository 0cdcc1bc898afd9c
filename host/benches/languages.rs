//! The same small guest in Rust, Python and JavaScript (`hostile`,
//! `hostile-python`, `hostile-js`, job `ok`), side by side in one run:
//! component size, build time, compile time at install, and a fresh
//! instance + small job (criterion).
//!
//! `cargo bench -p ferry-host --bench languages`
//!
//! The one-off figures are printed first, as a table for BENCHMARKS.md.
//! Build time is a full build for Python and JavaScript (their tools do not
//! build incrementally; the sources are unchanged, so Ferry's fingerprint is
//! removed first) and a rebuild after touching the source for Rust (cargo's
//! dependencies already built, as while writing a connector).

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use ferry::{Ferry, FerryOptions};
use std::path::Path;
use std::time::{Duration, Instant};

/// (example connector, language).
const GUESTS: &[(&str, &str)] = &[
    ("hostile", "Rust"),
    ("hostile-python", "Python"),
    ("hostile-js", "JavaScript"),
];

/// Build `example` again, returning how long it took.
fn rebuild(example: &str) -> Duration {
    let folder = ferry::demo::examples_dir().join(example);
    let target = ferry::demo::examples_target_dir();
    if folder.join("Cargo.toml").exists() {
        let lib = folder.join("src/lib.rs");
        let text = std::fs::read(&lib).expect("read lib.rs");
        std::fs::write(&lib, text).expect("touch lib.rs");
    } else {
        for language in ["python", "javascript"] {
            let out = target.join(format!("ferry-{language}/{example}.fingerprint"));
            let _ = std::fs::remove_file(out);
        }
    }
    let started = Instant::now();
    ferry::demo::build_example(example).expect("build");
    started.elapsed()
}

/// Install the component in a fresh installation (compiled by Cranelift,
/// nothing cached): how long it took, and the size of the compiled form
/// Ferry keeps (its compiled cache, mapped by every later start).
fn compile(rt: &tokio::runtime::Runtime, built: &ferry::builder::Built) -> (Duration, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let took = rt.block_on(async {
        let ferry = Ferry::open_with(FerryOptions::new(dir.path()))
            .await
            .expect("open");
        let started = Instant::now();
        ferry
            .install(&built.manifest, &built.wasm)
            .await
            .expect("install");
        started.elapsed()
    });
    (took, sizes_of(dir.path(), "cwasm"))
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!("| language | component | build | compile at install | compiled (.cwasm) |");
    println!("|---|---:|---:|---:|---:|");
    for (example, language) in GUESTS {
        ferry::demo::build_example(example).expect("build");
        let build = rebuild(example);
        let built = ferry::demo::build_example(example).expect("build");
        let (compiled, cwasm) = compile(&rt, &built);
        println!(
            "| {language} | {} | {:.1} s | {:.2} s | {} |",
            mb(built.size),
            build.as_secs_f64(),
            compiled.as_secs_f64(),
            mb(cwasm)
        );
    }

    let mut group = c.benchmark_group("fresh instance + small job");
    for (example, language) in GUESTS {
        let (rt, _dir, runner) = common::runner(example, "lab", example, Default::default());
        let out = rt
            .block_on(runner.run_job("ok", "{}"))
            .expect("run")
            .expect("ok job");
        assert!(out.contains("ok") || out.contains("echo"), "{out}");
        group.bench_function(*language, |b| {
            b.to_async(&rt)
                .iter(|| async { runner.run_job("ok", "{}").await.expect("run").expect("ok") })
        });
    }
    group.finish();
}

/// The total size of the files under `dir` whose extension is `extension`.
fn sizes_of(dir: &Path, extension: &str) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            total += sizes_of(&path, extension);
        } else if path.extension().is_some_and(|e| e == extension) {
            total += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    total
}

criterion_group!(benches, bench);
criterion_main!(benches);
