//! The reference scenario, runnable: the example connectors against the shop
//! simulator. `ferry demo` runs it; the integration tests use its parts.

use crate::Ferry;
use crate::builder::{Built, build_connector};
use crate::error::{Error, Result};
use crate::queue::{WorkerConfig, WorkerStats};
use crate::store::NewJob;
use serde_json::{Map, Value, json};
use shop_simulator::Shop;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The folder of the example connectors in this repository.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("example-connectors")
}

/// Where example connectors are built: a target directory of their own, so that
/// building them never waits on (or locks) the workspace build.
pub fn examples_target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("connectors")
}

/// Build one example connector (`shop`, `shop-v2`, `hostile`).
pub fn build_example(name: &str) -> Result<Built> {
    build_connector(&examples_dir().join(name), Some(&examples_target_dir()))
}

/// Build Ferry's `rest` module, which runs declarative connectors.
pub fn build_rest_runtime() -> Result<Built> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../declarative/rest");
    build_connector(&dir, Some(&examples_target_dir()))
}

/// Build and install the example connectors `shop` and `shop-v2`.
pub async fn install_shop_connectors(ferry: &Ferry) -> Result<()> {
    for name in ["shop", "shop-v2"] {
        let built = tokio::task::spawn_blocking(move || build_example(name))
            .await
            .map_err(|e| Error::Invalid(format!("build of {name} did not finish: {e}")))??;
        ferry.install(&built.manifest, &built.wasm).await?;
    }
    Ok(())
}

/// A simulated shop served on a free port of 127.0.0.1.
pub async fn start_shop(products: u64, customers: u64, orders: u64) -> Result<(Shop, String)> {
    let shop = Shop::default();
    shop.data().seed(products, customers, orders);
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let (bound, _task) = shop
        .serve(addr)
        .await
        .map_err(|e| Error::io("127.0.0.1", e))?;
    Ok((shop, format!("http://{bound}")))
}

/// Params of a backend instance of `backend` pointing at the simulator: the
/// v1 API key for every shop backend, the v2 token for `shop@2.0` and later (which
/// declares it; the others refuse a param they do not declare).
pub fn shop_params(backend: &str, url: &str) -> Map<String, Value> {
    let mut params = json!({
        "url": url,
        "api_key": shop_simulator::DEFAULT_API_KEY,
    });
    if backend.starts_with("shop@") && !backend.starts_with("shop@1") {
        params["token"] = Value::from(shop_simulator::DEFAULT_TOKEN);
    }
    params.as_object().cloned().unwrap_or_default()
}

/// Enqueue a batch import of `model` for `instance`.
pub async fn enqueue_import(ferry: &Ferry, instance: &str, model: &str) -> Result<i64> {
    let mut job = NewJob::new(instance, "import-batch", &json!({ "model": model }));
    job.description = format!("Import every changed {model}");
    ferry.enqueue(&job).await
}

/// Run the queue until nothing is runnable or running, waiting for jobs due
/// within a minute (the short retries a test or the demo provokes).
pub async fn drain(
    ferry: &Ferry,
    on_change: impl FnMut(&WorkerStats) + Send + 'static,
) -> Result<WorkerStats> {
    ferry
        .run_worker(
            &WorkerConfig {
                until_idle: true,
                // Retries a test or the demo provokes are short: wait for them.
                idle_horizon: std::time::Duration::from_secs(60),
                concurrency: 4,
                ..Default::default()
            },
            on_change,
        )
        .await
}
