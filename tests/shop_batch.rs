//! The shop's batch jobs (contract 0.2, steps driven by the host):
//! `import-products` pages through the shop into local products, and
//! `export-products` sends local products to the shop, refusing the ones
//! the shop would refuse with a warning naming the field. Run on SQLite, and
//! on PostgreSQL with `FERRY_TEST_DATABASE`.

use ferry::store::{JobState, NewJob};
use ferry_tests::*;
use serde_json::{Value, json};

/// Run job `name` of `acme` with `payload` to its end; its id.
async fn run(ferry: &ferry::Ferry, name: &str, payload: Value) -> i64 {
    let id = ferry
        .enqueue(&NewJob::new("acme", name, &payload))
        .await
        .expect("enqueue");
    drain(ferry, |_| {}).await.expect("run the queue");
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.state, JobState::Done, "{name}: {job:?}");
    id
}

/// (read, written, filtered, skipped) of step `step` of job `id`.
async fn counts(ferry: &ferry::Ferry, id: i64, step: &str) -> (i64, i64, i64, i64) {
    let steps = ferry.store().job_steps(id).await.unwrap();
    let s = steps.iter().find(|s| s.step == step).expect("the step");
    (s.read, s.written, s.filtered, s.skipped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_products_pages_through_the_shop_and_writes_only_what_changed() {
    let (_dir, ferry, shop) = shop_setup("shop", 250, 0, 0).await;
    let id = run(&ferry, "import-products", json!({})).await;
    assert_eq!(counts(&ferry, id, "fetch").await, (250, 250, 0, 0));
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 250);
    let link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .expect("product 7 is linked");
    let local = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(local.values["name"], json!("Product 7"));
    let steps = store.job_steps(id).await.unwrap();
    assert_eq!(steps[1].step, "report");
    assert_eq!(steps[1].result.as_ref().unwrap()["linked"], json!(250));

    // Read again in full (pages of 7, offsets off the page size): every
    // product is left out as unchanged, nothing is written.
    let full = run(
        &ferry,
        "import-products",
        json!({ "full": true, "chunk_size": 7 }),
    )
    .await;
    assert_eq!(counts(&ferry, full, "fetch").await, (250, 0, 250, 0));

    // One product changed in the shop: it alone is written.
    shop.data().update(
        "products",
        7,
        json!({ "name": "Renamed" }).as_object().cloned().unwrap(),
    );
    let again = run(
        &ferry,
        "import-products",
        json!({ "full": true, "chunk_size": 40 }),
    )
    .await;
    assert_eq!(counts(&ferry, again, "fetch").await, (250, 1, 249, 0));
    let local = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(local.values["name"], json!("Renamed"));
    assert_eq!(store.count_records("product").await.unwrap(), 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_products_moves_its_cursor_and_a_second_run_lists_nothing() {
    let (_dir, ferry, shop) = shop_setup("shop", 30, 0, 0).await;
    run(&ferry, "import-products", json!({ "chunk_size": 8 })).await;
    let newest = shop
        .data()
        .records
        .get("products")
        .and_then(|r| r.values().filter_map(|p| p["updated_at"].as_i64()).max());
    assert_eq!(
        ferry
            .store()
            .cursor("acme", "import:product")
            .await
            .unwrap(),
        newest.map(Value::from),
        "the cursor moves to the newest change read"
    );
    let again = run(&ferry, "import-products", json!({})).await;
    assert_eq!(counts(&ferry, again, "fetch").await, (0, 0, 0, 0));
}

/// The batch import is the SDK's generic one, over whichever adapter the
/// instance's backend resolves: on `shop@2.0` the child's v2 adapter (cursor
/// paging) answers `list`, and the parent's job, mapper and binder do the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_products_on_a_child_backend_reads_through_the_childs_adapter() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 45, 0, 0).await;
    let id = run(&ferry, "import-products", json!({ "chunk_size": 8 })).await;
    assert_eq!(counts(&ferry, id, "fetch").await, (45, 45, 0, 0));
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 45);
    let link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .expect("product 7 is linked");
    let local = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(
        local.values["name"],
        json!("Product 7"),
        "v2's `title`, mapped"
    );
    let requests = shop.data().requests.clone();
    assert!(
        requests.keys().all(|k| !k.contains(" v1 ")),
        "only the v2 API is asked: {requests:?}"
    );
    let again = run(&ferry, "import-products", json!({})).await;
    assert_eq!(counts(&ferry, again, "fetch").await, (0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_products_creates_writes_and_refuses_invalid_products_naming_the_field() {
    let (_dir, ferry, shop) = shop_setup("shop", 3, 0, 0).await;
    run(&ferry, "import-products", json!({})).await;
    let store = ferry.store();
    // Created in the store directly: no export-record job follows.
    for (name, price) in [("Lamp", 12.5), ("", 3.0), ("Chair", -1.0), ("Desk", 99.0)] {
        store
            .create_record("product", json!({ "name": name, "list_price": price }))
            .await
            .unwrap();
    }
    let linked = store
        .link_by_external("acme", "product", "2")
        .await
        .unwrap()
        .unwrap();
    store
        .write_record(
            "product",
            linked.local_id,
            json!({ "name": "Changed here" }),
        )
        .await
        .unwrap();

    let id = run(&ferry, "export-products", json!({ "chunk_size": 2 })).await;
    // 7 local products: 2 unchanged linked ones filtered, 2 invalid, 3 sent.
    assert_eq!(counts(&ferry, id, "export").await, (7, 3, 2, 2));
    let warnings = store.step_warnings(id, 10).await.unwrap();
    let reasons: Vec<&str> = warnings.iter().map(|w| w.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("`name` is empty")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("`list_price` is negative")),
        "{reasons:?}"
    );
    {
        let data = shop.data();
        assert_eq!(data.count("products"), 5, "Lamp and Desk created");
        assert_eq!(
            data.get("products", 2).unwrap()["name"],
            json!("Changed here")
        );
    }
    let writes = shop.data().writes.get("products").copied();

    // Everything sent is bound as synced: a second run sends nothing.
    let again = run(&ferry, "export-products", json!({})).await;
    assert_eq!(counts(&ferry, again, "export").await, (7, 0, 5, 2));
    assert_eq!(shop.data().writes.get("products").copied(), writes);
    assert_eq!(shop.data().count("products"), 5);
}
