//! What clients of the shop rely on: idempotent creates, conditional updates,
//! versions in ETags, external references, slow creates.

use crate::{DEFAULT_API_KEY, DEFAULT_TOKEN, Shop};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// One call to the shop: status, ETag and JSON body.
async fn call(
    shop: &Shop,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    let auth = if uri.starts_with("/v2/") {
        ("authorization", format!("Bearer {DEFAULT_TOKEN}"))
    } else {
        ("x-api-key", DEFAULT_API_KEY.to_string())
    };
    request = request.header(auth.0, auth.1);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let response = shop
        .router()
        .oneshot(request.body(body).expect("a valid request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().expect("an ASCII ETag").to_string());
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, etag, json)
}

#[tokio::test]
async fn a_v1_create_repeated_with_its_key_gets_the_first_record_back() {
    let shop = Shop::default();
    let key = [("idempotency-key", "k-1")];
    let (first, _, made) = call(
        &shop,
        "POST",
        "/api/v1/products",
        &key,
        Some(json!({ "name": "Mug" })),
    )
    .await;
    assert_eq!(first, StatusCode::CREATED);
    let (again, etag, replay) = call(
        &shop,
        "POST",
        "/api/v1/products",
        &key,
        Some(json!({ "name": "Mug" })),
    )
    .await;
    assert_eq!(again, StatusCode::OK, "a replay, not a new record");
    assert_eq!(replay["id"], made["id"]);
    assert_eq!(etag, Some(format!("\"{}\"", made["updated_at"])));
    let (_, _, other) = call(
        &shop,
        "POST",
        "/api/v1/products",
        &[("idempotency-key", "k-2")],
        Some(json!({ "name": "Cup" })),
    )
    .await;
    assert_ne!(other["id"], made["id"], "another key is another record");
    let (_, _, stats) = call(&shop, "GET", "/_admin/stats", &[], None).await;
    assert_eq!(stats["counts"]["products"], json!(2));
    assert_eq!(stats["writes"]["products"], json!(2));
    assert_eq!(stats["replayed"]["products"], json!(1));
}

#[tokio::test]
async fn updates_apply_only_over_the_version_if_match_names() {
    let shop = Shop::default();
    shop.data().seed(1, 0, 0);
    let (status, etag, record) = call(&shop, "GET", "/api/v1/products/1", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.expect("one record carries its version");
    assert_eq!(etag, format!("\"{}\"", record["updated_at"]));

    // Someone edits the product in the shop: the version read is stale now.
    shop.data().update(
        "products",
        1,
        json!({ "stock": 3 })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    let stale = [("if-match", etag.as_str())];
    let (refused, _, err) = call(
        &shop,
        "PUT",
        "/api/v1/products/1",
        &stale,
        Some(json!({ "name": "Mine" })),
    )
    .await;
    assert_eq!(refused, StatusCode::PRECONDITION_FAILED);
    assert!(
        err["error"]
            .as_str()
            .unwrap_or_default()
            .contains("changed"),
        "{err}"
    );
    assert_eq!(
        shop.data().get("products", 1).map(|r| r["name"].clone()),
        Some(json!("Product 1"))
    );

    // Quoted or bare, the current version lets the write through.
    let (_, current, _) = call(&shop, "GET", "/api/v1/products/1", &[], None).await;
    let current = current.unwrap_or_default();
    let (ok, next, written) = call(
        &shop,
        "PUT",
        "/api/v1/products/1",
        &[("if-match", current.as_str())],
        Some(json!({ "name": "Mine" })),
    )
    .await;
    assert_eq!(ok, StatusCode::OK);
    assert_eq!(written["name"], json!("Mine"));
    assert_ne!(
        next.as_deref(),
        Some(current.as_str()),
        "a write moves the version"
    );
    let bare = written["updated_at"].to_string();
    let (ok, _, _) = call(
        &shop,
        "PATCH",
        "/v2/catalog/products/1",
        &[("if-match", bare.as_str())],
        Some(json!({ "title": "Ours" })),
    )
    .await;
    assert_eq!(ok, StatusCode::OK, "v2 takes a bare version too");
    let (refused, _, _) = call(
        &shop,
        "PATCH",
        "/v2/catalog/products/1",
        &[("if-match", bare.as_str())],
        Some(json!({ "title": "Late" })),
    )
    .await;
    assert_eq!(
        refused,
        StatusCode::PRECONDITION_FAILED,
        "v2 refuses a stale one"
    );
    assert_eq!(
        shop.data().get("products", 1).map(|r| r["name"].clone()),
        Some(json!("Ours"))
    );
    let (ok, _, _) = call(
        &shop,
        "PUT",
        "/api/v1/products/1",
        &[],
        Some(json!({ "stock": 9 })),
    )
    .await;
    assert_eq!(
        ok,
        StatusCode::OK,
        "without If-Match the write is unconditional"
    );
}

#[tokio::test]
async fn v2_keeps_an_external_reference_and_lists_by_it() {
    let shop = Shop::default();
    shop.data().seed(3, 0, 0);
    let (created, etag, body) = call(
        &shop,
        "POST",
        "/v2/catalog/products",
        &[],
        Some(json!({ "title": "Lamp", "external_ref": "ferry-42" })),
    )
    .await;
    assert_eq!(created, StatusCode::CREATED);
    assert_eq!(etag, Some(format!("\"{}\"", body["data"]["updated_at"])));
    let (_, _, found) = call(
        &shop,
        "GET",
        "/v2/catalog/products?external_ref=ferry-42",
        &[],
        None,
    )
    .await;
    let data = found["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 1, "{found}");
    assert_eq!(data[0]["id"], body["data"]["id"]);
    assert_eq!(data[0]["title"], json!("Lamp"));
    let (_, _, none) = call(
        &shop,
        "GET",
        "/v2/catalog/products?external_ref=ferry-43",
        &[],
        None,
    )
    .await;
    assert_eq!(none["data"], json!([]));
}

#[tokio::test]
async fn a_slow_create_stores_the_record_before_it_answers() {
    let shop = Shop::default();
    let (_, _, set) = call(
        &shop,
        "POST",
        "/_admin/slow",
        &[],
        Some(json!({ "create_ms": 300 })),
    )
    .await;
    assert_eq!(set, json!({ "create_ms": 300 }));
    let started = Instant::now();
    let pending = tokio::spawn({
        let shop = shop.clone();
        async move {
            call(
                &shop,
                "POST",
                "/api/v1/customers",
                &[],
                Some(json!({ "name": "Ada" })),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        shop.data().count("customers"),
        1,
        "stored while the answer waits"
    );
    assert!(!pending.is_finished());
    let (status, _, _) = pending.await.expect("the create answers");
    assert_eq!(status, StatusCode::CREATED);
    assert!(started.elapsed() >= Duration::from_millis(300));

    call(
        &shop,
        "POST",
        "/_admin/slow",
        &[],
        Some(json!({ "create_ms": 0 })),
    )
    .await;
    let started = Instant::now();
    call(
        &shop,
        "POST",
        "/v2/catalog/customers",
        &[],
        Some(json!({ "name": "Bob" })),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "switched off"
    );
}
