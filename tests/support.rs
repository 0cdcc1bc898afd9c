//! Shared set-up of the integration tests: real components (built once per test
//! binary), a fresh Ferry installation per test, the shop simulator on a free port.

use ferry::builder::Built;
use ferry::engine::EngineConfig;
use ferry::{Ferry, FerryOptions};
use shop_simulator::Shop;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

pub use ferry::demo::{drain, enqueue_import, shop_params, start_shop};

/// Build an example connector once per test binary.
pub fn built(name: &str) -> Built {
    static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    let cache = BUILT.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            ferry::demo::build_example(name).unwrap_or_else(|e| panic!("building {name}: {e}"))
        })
        .clone()
}

/// A fresh installation in a temporary directory, with these limits.
pub async fn fresh(configure: impl FnOnce(&mut EngineConfig)) -> (TempDir, Ferry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = FerryOptions::new(dir.path());
    configure(&mut options.engine);
    let ferry = Ferry::open_with(options).await.expect("open ferry");
    (dir, ferry)
}

/// Install example connectors into `ferry`.
pub async fn install(ferry: &Ferry, names: &[&str]) {
    for name in names {
        let b = tokio::task::block_in_place(|| built(name));
        ferry
            .install(&b.manifest, &b.wasm)
            .await
            .unwrap_or_else(|e| panic!("installing {name}: {e}"));
    }
}

/// A fresh installation with `shop` and `shop-v2`, a shop with this data, and a
/// backend instance `acme` on `backend` pointing at it.
pub async fn shop_setup(
    backend: &str,
    products: u64,
    customers: u64,
    orders: u64,
) -> (TempDir, Ferry, Shop) {
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["shop", "shop-v2"]).await;
    let (shop, url) = start_shop(products, customers, orders)
        .await
        .expect("start shop");
    ferry
        .add_instance("acme", backend, shop_params(&url))
        .await
        .expect("add instance");
    (dir, ferry, shop)
}

/// A fresh installation (short limits) with the `hostile` connector and a
/// backend instance `lab` on it.
pub async fn hostile_lab() -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(tight).await;
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .expect("add instance");
    (dir, ferry)
}

/// Short limits for hostile guests.
pub fn tight(config: &mut EngineConfig) {
    config.memory_limit = 32 << 20;
    config.time_budget = Duration::from_secs(3);
}
