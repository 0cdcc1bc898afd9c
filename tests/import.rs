//! Import through `shop@2.0`: the v2 adapter answers, everything else falls back
//! to the `shop@1.7` module; links keep a second import from duplicating.

use ferry::store::{JobFilter, JobState};
use ferry_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_1000_products_uses_v2_adapter_and_parent_importer_and_mapper() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 1000, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 1000);
    assert_eq!(
        store
            .search_links(Some("acme"), Some("product"), None, None, 0)
            .await
            .unwrap()
            .len(),
        1000
    );

    // The v2 adapter spoke to the shop; nothing used the v1 layout.
    let requests = shop.data().requests.clone();
    assert!(
        requests.get("GET v2 products").copied().unwrap_or(0) >= 1000,
        "{requests:?}"
    );
    assert!(requests.keys().all(|k| !k.contains(" v1 ")), "{requests:?}");

    // The jobs came from the parent module (shop-v2 has none).
    let jobs = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Done),
            instance: Some("acme".into()),
            limit: 2000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1001);
    assert!(
        jobs.iter().all(|j| j.module.as_deref() == Some("shop")),
        "every job ran in module shop"
    );

    // The parent's mapper converted the price; the v2 override mapped `title` to `name`.
    let link = store
        .link_by_external("acme", "product", "1")
        .await
        .unwrap()
        .expect("product 1 linked");
    let product = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(
        product.values["name"],
        json!("Product 1"),
        "{:?}",
        product.values
    );
    assert_eq!(product.values["list_price"], json!(6.01));
    assert_eq!(product.values["default_code"], json!("SKU-00001"));
    assert_eq!(
        product.values["origin"],
        json!("shop"),
        "only-on-create mapping applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_import_updates_and_duplicates_nothing() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 50, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    let first_link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .unwrap();

    // The shop renames product 7 (its `updated_at` moves, as an edit in the
    // shop does); the next import updates the same local record.
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
    assert_eq!(stats.failed, 0);
    assert_eq!(
        store.count_records("product").await.unwrap(),
        50,
        "no duplicates"
    );
    let link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.local_id, first_link.local_id);
    assert!(link.sync_date >= first_link.sync_date);
    let product = store.read_record("product", link.local_id).await.unwrap();
    assert_eq!(product.values["name"], json!("Renamed in the shop"));
    // An import writes with no-export: nothing was queued to go back.
    assert_eq!(store.count_jobs(JobState::Pending).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_arrive_with_their_lines_and_dependencies() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 20, 5, 12).await;
    // Only orders: customers and products come in as dependencies.
    enqueue_import(&ferry, "acme", "order").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = ferry.store();
    assert_eq!(store.count_records("order").await.unwrap(), 12);
    assert!(store.count_records("customer").await.unwrap() <= 5);

    let remote = shop.data().records["orders"]
        .values()
        .next()
        .cloned()
        .expect("an order in the shop");
    let ext_id = remote["id"].to_string();
    let link = store
        .link_by_external("acme", "order", &ext_id)
        .await
        .unwrap()
        .expect("order linked");
    let order = store.read_record("order", link.local_id).await.unwrap();
    let lines = order.values["order_lines"].as_array().expect("order lines");
    let remote_lines = remote["lines"].as_array().unwrap();
    assert_eq!(lines.len(), remote_lines.len());
    for (line, remote_line) in lines.iter().zip(remote_lines) {
        let product = store
            .link_by_local("acme", "product", line["product_id"].as_i64().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            product.external_id,
            remote_line["product_id"].to_string(),
            "line points at the linked product"
        );
        assert_eq!(line["quantity"], remote_line["qty"]);
    }
    let customer = store
        .link_by_local(
            "acme",
            "customer",
            order.values["partner_id"].as_i64().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(customer.external_id, remote["customer_id"].to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_connectors_serve_shop_1_7_with_the_v1_api() {
    let (_dir, ferry, shop) = shop_setup("shop@1.7", 30, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 30);
    let requests = shop.data().requests.clone();
    assert!(requests.keys().all(|k| !k.contains(" v2 ")), "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_sold_for_nothing_is_flagged_for_review() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 5, 0, 0).await;
    if let Some(p) = shop
        .data()
        .records
        .get_mut("products")
        .and_then(|r| r.get_mut(&4))
    {
        p["price"] = json!("0.00");
    }
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let checkpoints = ferry.store().checkpoints().await.unwrap();
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    let link = ferry
        .store()
        .link_by_local("acme", "product", checkpoints[0].record_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.external_id, "4");
    assert!(checkpoints[0].message.contains("price of 0"));
    assert_eq!(ferry.store().clear_checkpoints(None).await.unwrap(), 1);
    assert!(ferry.store().checkpoints().await.unwrap().is_empty());
}
