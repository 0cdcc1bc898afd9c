//! Set-up shared by the benchmarks: an installation in a temporary directory
//! with one example connector and one backend instance, and a runtime to drive it.

use ferry::{Ferry, FerryOptions, Runner};
use serde_json::{Map, Value};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// A runner for instance `instance` of `backend`, served by example connector
/// `example` (built first), in a fresh installation.
pub fn runner(
    example: &str,
    instance: &str,
    backend: &str,
    params: Map<String, Value>,
) -> (Runtime, TempDir, Runner) {
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
        let built = ferry::demo::build_example(example).expect("build the example connector");
        ferry
            .install(&built.manifest, &built.wasm)
            .await
            .expect("install");
        ferry
            .add_instance(instance, backend, params)
            .await
            .expect("instance");
        ferry.runner(instance).await.expect("runner")
    });
    (rt, dir, runner)
}
