//! Connectors in Python and JavaScript, against the same WIT and the same
//! behaviour as the Rust ones: a two-way sync of products with the shop
//! simulator, a Python module in the middle of a Rust backend chain, and the
//! sandbox's limits.

use ferry::store::{JobFilter, JobState, TransmissionFilter};
use ferry_tests::*;
use serde_json::json;
use std::time::Duration;

/// The behaviour the Rust `shop` connector has, for `module` (backend of
/// the same name): 1 000 products imported, a second import duplicates
/// nothing, one local change exported once.
async fn syncs_products_both_ways(module: &str) {
    let (_dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &[module]).await;
    let (shop, url) = start_shop(1000, 0, 0).await.expect("start shop");
    ferry
        .add_instance("acme", module, shop_params(module, &url))
        .await
        .expect("add instance");
    let store = ferry.store();

    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1001, 0), "{stats:?}");
    assert_eq!(store.count_records("product").await.unwrap(), 1000);
    let links = store
        .search_links(Some("acme"), Some("product"), None, None, 0)
        .await
        .unwrap();
    assert_eq!(links.len(), 1000);
    let first = store
        .link_by_external("acme", "product", "1")
        .await
        .unwrap()
        .expect("product 1 linked");
    let product = store.read_record("product", first.local_id).await.unwrap();
    assert_eq!(product.values["name"], json!("Product 1"));
    assert_eq!(product.values["list_price"], json!(6.01));
    assert_eq!(product.values["default_code"], json!("SKU-00001"));
    assert_eq!(product.values["origin"], json!("shop"), "only-on-create");
    assert_eq!(product.values["price_band"], json!("standard"), "method");
    assert_eq!(
        shop.data().writes.get("products"),
        None,
        "an import writes nothing back"
    );

    // The shop renames product 7: the next import updates the same record.
    let seven = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .unwrap();
    let renamed = json!({ "name": "Renamed in the shop" });
    shop.data()
        .update(
            "products",
            7,
            renamed.as_object().cloned().unwrap_or_default(),
        )
        .expect("product 7 is in the shop");
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(
        store.count_records("product").await.unwrap(),
        1000,
        "no duplicates"
    );
    let again = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.local_id, seven.local_id);
    let product = store.read_record("product", seven.local_id).await.unwrap();
    assert_eq!(product.values["name"], json!("Renamed in the shop"));
    assert_eq!(
        store.count_jobs(JobState::Pending).await.unwrap(),
        0,
        "an import writes with no-export"
    );

    // One local change goes back once, and does not loop.
    let three = store
        .link_by_external("acme", "product", "3")
        .await
        .unwrap()
        .unwrap();
    ferry
        .write_record(
            "product",
            three.local_id,
            json!({ "name": "New name", "list_price": 42.5 }),
            "test",
        )
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 0), "{stats:?}");
    {
        let data = shop.data();
        assert_eq!(data.writes.get("products"), Some(&1));
        let remote = data.get("products", 3).unwrap();
        assert_eq!(remote["name"], json!("New name"));
        assert_eq!(remote["price"], json!("42.50"));
    }
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop.data().writes.get("products"), Some(&1));
    assert_eq!(store.count_jobs(JobState::Pending).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_connector_syncs_products_both_ways() {
    syncs_products_both_ways("shop-python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_connector_syncs_products_both_ways() {
    syncs_products_both_ways("shop-js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_adapter_serves_the_rust_importer_exporter_and_mappers_of_its_parent() {
    let (_dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["shop", "shop-v3"]).await;
    let (shop, url) = start_shop(60, 0, 0).await.expect("start shop");
    ferry
        .add_instance("acme", "shop@3.0", shop_params("shop@3.0", &url))
        .await
        .expect("add instance");
    let store = ferry.store();

    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (61, 0), "{stats:?}");
    assert_eq!(store.count_records("product").await.unwrap(), 60);
    let requests = shop.data().requests.clone();
    assert!(
        requests.get("GET v2 products").copied().unwrap_or(0) >= 60,
        "the Python adapter read the v2 API: {requests:?}"
    );
    assert!(requests.keys().all(|k| !k.contains(" v1 ")), "{requests:?}");
    let jobs = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Done),
            instance: Some("acme".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        jobs.iter().all(|j| j.module.as_deref() == Some("shop")),
        "the jobs ran in the Rust module"
    );
    // The Rust mappers mapped what the Python adapter read (v2's `title`).
    let link = store
        .link_by_external("acme", "product", "1")
        .await
        .unwrap()
        .unwrap();
    let product = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(product.values["name"], json!("Product 1"));
    assert_eq!(product.values["list_price"], json!(6.01));
    assert_eq!(product.values["origin"], json!("shop"));

    // The Rust exporter writes through the Python adapter (a PATCH of v2).
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "name": "From Ferry" }),
            "test",
        )
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 0), "{stats:?}");
    let data = shop.data();
    assert_eq!(
        data.requests.get("PATCH v2 products"),
        Some(&1),
        "{:?}",
        data.requests
    );
    // The shop keeps v2's `title` as its `name`.
    assert_eq!(
        data.get("products", 1).unwrap()["name"],
        json!("From Ferry")
    );
}

/// Assert that `job` failed with an error that says `what`.
fn failed_with(job: &ferry::store::JobRow, what: &str) {
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let error = job.error.as_deref().unwrap_or_default();
    assert!(error.contains(what), "{job:?}");
}

/// The sandbox holds for `module` as for a Rust guest: a host not granted is
/// denied and logged, the time budget stops a busy loop, the memory cap an
/// allocation that never ends; the next job runs.
async fn is_sandboxed(module: &str) {
    let (_dir, ferry) = fresh(|config| {
        config.memory_limit = 96 << 20;
        config.time_budget = Duration::from_secs(5);
    })
    .await;
    install(&ferry, &[module]).await;
    ferry
        .add_instance("lab", module, Default::default())
        .await
        .expect("add instance");

    let fetch = run_lab_job(&ferry, "fetch", json!({ "url": "http://example.com/data" })).await;
    assert_ne!(fetch.state, JobState::Done, "{fetch:?}");
    let refused = ferry
        .store()
        .transmissions(&TransmissionFilter {
            job: Some(fetch.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let reason = refused[0].refused.as_deref().unwrap_or_default();
    assert!(
        reason.contains("is not in the manifest's allowed_hosts"),
        "{reason}"
    );

    let spin = run_lab_job(&ferry, "spin", json!({})).await;
    failed_with(&spin, "time budget");
    let grow = run_lab_job(&ferry, "grow", json!({})).await;
    failed_with(&grow, "memory limit 96 MiB exceeded");
    let ok = run_lab_job(&ferry, "ok", json!({})).await;
    assert_eq!(ok.state, JobState::Done, "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_guest_is_held_by_the_same_sandbox() {
    is_sandboxed("hostile-python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_guest_is_held_by_the_same_sandbox() {
    is_sandboxed("hostile-js").await;
}
