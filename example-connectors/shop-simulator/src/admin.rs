//! Admin endpoints for tests and the demo (`/_admin/…`), and the sandbox
//! tests' helpers (`/_test/…`).

use crate::api::KINDS;
use crate::shop::Shop;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub(crate) struct SeedRequest {
    #[serde(default)]
    products: u64,
    #[serde(default)]
    customers: u64,
    #[serde(default)]
    orders: u64,
}

pub(crate) async fn admin_seed(State(shop): State<Shop>, Json(req): Json<SeedRequest>) -> Response {
    shop.data().seed(req.products, req.customers, req.orders);
    admin_stats(State(shop)).await
}

#[derive(Deserialize)]
pub(crate) struct FailRequest {
    count: u64,
}

pub(crate) async fn admin_fail(State(shop): State<Shop>, Json(req): Json<FailRequest>) -> Response {
    shop.data().fail_next = req.count;
    Json(json!({ "fail_next": req.count })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct SlowRequest {
    create_ms: u64,
}

/// Creates store the record, then wait `create_ms` before answering (0 to
/// switch off): the window a test kills a worker in, between the remote
/// create and the bind. At most a minute, so a typo cannot hang a suite.
pub(crate) async fn admin_slow(State(shop): State<Shop>, Json(req): Json<SlowRequest>) -> Response {
    let ms = req.create_ms.min(60_000);
    shop.data().create_delay_ms = ms;
    Json(json!({ "create_ms": ms })).into_response()
}

pub(crate) async fn admin_stats(State(shop): State<Shop>) -> Response {
    let data = shop.data();
    let counts: BTreeMap<&str, usize> = KINDS.iter().map(|k| (*k, data.count(k))).collect();
    Json(json!({
        "counts": counts, "requests": data.requests, "writes": data.writes,
        "replayed": data.replayed, "fail_next": data.fail_next,
        "create_ms": data.create_delay_ms,
    }))
    .into_response()
}

#[derive(Deserialize)]
pub(crate) struct RedirectQuery {
    to: String,
}

pub(crate) async fn test_redirect(Query(q): Query<RedirectQuery>) -> Response {
    (StatusCode::FOUND, [(axum::http::header::LOCATION, q.to)]).into_response()
}

#[derive(Deserialize)]
pub(crate) struct HugeQuery {
    bytes: usize,
}

/// The request's headers and query as JSON text (to see what a client sent).
pub(crate) async fn test_echo(headers: HeaderMap, uri: Uri) -> String {
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    json!({ "headers": headers, "query": uri.query() }).to_string()
}

/// At most 256 MiB, so that a typo cannot take the test machine's memory.
pub(crate) async fn test_huge(Query(q): Query<HugeQuery>) -> Response {
    vec![b'x'; q.bytes.min(256 << 20)].into_response()
}
