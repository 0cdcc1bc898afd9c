//! External↔external links: the `mirror` connector keeps two shops' products in
//! step through couples of ids (pairs), both ways, once, with no loop.

use ferry::Ferry;
use ferry::store::{NewJob, PairFilter};
use ferry_tests::*;
use serde_json::{Value, json};
use shop_simulator::Shop;

/// An installation with `mirror` on backend instance `twins` between two shops.
async fn twins(
    left: u64,
    right: u64,
) -> (tempfile::TempDir, Ferry, (Shop, String), (Shop, String)) {
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["mirror"]).await;
    let left = start_shop(left, 0, 0).await.expect("left shop");
    let right = start_shop(right, 0, 0).await.expect("right shop");
    let params = json!({
        "left_url": left.1, "right_url": right.1,
        "left_api_key": shop_simulator::DEFAULT_API_KEY,
        "right_api_key": shop_simulator::DEFAULT_API_KEY,
    });
    ferry
        .add_instance("twins", "mirror", params.as_object().cloned().unwrap())
        .await
        .expect("add instance");
    (dir, ferry, left, right)
}

/// Run the `mirror` job once, to its end; its result.
async fn mirror(ferry: &Ferry) -> Value {
    let id = ferry
        .enqueue(&NewJob::new("twins", "mirror", &json!({})))
        .await
        .unwrap();
    let stats = drain(ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "the mirror job failed");
    let job = ferry.store().job(id).await.unwrap();
    serde_json::from_str(job.result.as_deref().unwrap_or("null")).unwrap()
}

/// The couples of `twins` (with `id` on either side).
fn couples(id: Option<&str>) -> PairFilter {
    PairFilter {
        instance: Some("twins".into()),
        label: Some("products".into()),
        id: id.map(str::to_string),
        limit: 100,
        offset: 0,
    }
}

fn writes(shop: &Shop) -> u64 {
    shop.data().writes.get("products").copied().unwrap_or(0)
}

/// Change a product in a shop the way its users would: through its API.
async fn rename(url: &str, id: u64, name: &str) {
    let response = reqwest::Client::new()
        .put(format!("{url}/api/v1/products/{id}"))
        .header("x-api-key", shop_simulator::DEFAULT_API_KEY)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shops_are_kept_in_step_both_ways_once_without_a_loop() {
    let (_dir, ferry, (left, left_url), (right, right_url)) = twins(20, 5).await;

    let first = mirror(&ferry).await;
    assert_eq!(first["left_to_right"]["created"], json!(20), "{first}");
    assert_eq!(first["right_to_left"]["created"], json!(5), "{first}");
    assert_eq!(left.data().count("products"), 25);
    assert_eq!(right.data().count("products"), 25);
    let pairs = ferry.store().search_pairs(&couples(None)).await.unwrap();
    assert_eq!(pairs.len(), 25, "one couple per product");

    // Nothing changed: a second run writes nothing anywhere (its own copies
    // are recognised, not copied back).
    let (l0, r0) = (writes(&left), writes(&right));
    let quiet = mirror(&ferry).await;
    assert_eq!((writes(&left), writes(&right)), (l0, r0), "{quiet}");

    // A change on the left reaches the right once.
    rename(&left_url, 3, "Left renamed").await;
    let (l0, r0) = (writes(&left), writes(&right));
    mirror(&ferry).await;
    assert_eq!(writes(&right), r0 + 1, "copied to the right once");
    assert_eq!(writes(&left), l0, "not copied back to the left");
    let found = ferry
        .store()
        .search_pairs(&couples(Some("3")))
        .await
        .unwrap();
    let twin = found
        .iter()
        .find(|p| p.left_id == "3")
        .expect("left 3 is coupled");
    let twin_id: u64 = twin.right_id.parse().unwrap();
    assert_eq!(
        right.data().get("products", twin_id).unwrap()["name"],
        json!("Left renamed")
    );

    // A change on the right reaches the left once.
    rename(&right_url, twin_id, "Right renamed").await;
    let (l0, r0) = (writes(&left), writes(&right));
    mirror(&ferry).await;
    assert_eq!(writes(&left), l0 + 1, "copied to the left once");
    assert_eq!(writes(&right), r0, "not copied back to the right");
    assert_eq!(
        left.data().get("products", 3).unwrap()["name"],
        json!("Right renamed")
    );

    // And then it is quiet again.
    let (l0, r0) = (writes(&left), writes(&right));
    mirror(&ferry).await;
    assert_eq!((writes(&left), writes(&right)), (l0, r0));
}
