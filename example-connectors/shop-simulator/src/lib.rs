//! A small shop with a REST API: the external system of Ferry's demo and tests.
//!
//! It serves the same catalogue (products, customers, orders with lines) in two
//! URL layouts, as a shop that changed its API between versions would:
//!
//! | | v1 (`shop@1.7`) | v2 (`shop@2.0`) |
//! |---|---|---|
//! | auth | `X-Api-Key: KEY` | `Authorization: Bearer TOKEN` |
//! | list | `GET /api/v1/{kind}?updated_since=MS&page=N&per_page=M` → `{items, page, pages, total}` | `GET /v2/catalog/{kind}?changed_since=MS&cursor=C&limit=M` → `{data, next_cursor}` |
//! | one | `GET /api/v1/{kind}/{id}` → record | `GET /v2/catalog/{kind}/{id}` → `{data}` |
//! | create | `POST /api/v1/{kind}` | `POST /v2/catalog/{kind}` |
//! | update | `PUT /api/v1/{kind}/{id}` | `PATCH /v2/catalog/{kind}/{id}` |
//!
//! `kind` is `products`, `customers` or `orders`. A v2 product has `title` where v1
//! has `name`. Admin endpoints for tests and the demo: `POST /_admin/seed`,
//! `POST /_admin/fail` (answer the next N calls with 503 + `Retry-After`),
//! `GET /_admin/stats`. For sandbox tests: `GET /_test/redirect?to=URL` (302 to
//! URL), `GET /_test/huge?bytes=N` (N bytes of `x`) and `GET /_test/echo` (the
//! request's headers and query as JSON).

#![warn(missing_docs)]

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// API key the v1 layout expects by default.
pub const DEFAULT_API_KEY: &str = "demo-key";
/// Bearer token the v2 layout expects by default.
pub const DEFAULT_TOKEN: &str = "demo-token";

const KINDS: [&str; 3] = ["products", "customers", "orders"];

/// What the shop holds, and what happened to it.
#[derive(Debug, Default)]
pub struct ShopData {
    /// Records per kind, by id.
    pub records: BTreeMap<String, BTreeMap<u64, Value>>,
    next_id: u64,
    /// Requests served, per `METHOD layout kind` (e.g. `GET v2 products`).
    pub requests: BTreeMap<String, u64>,
    /// Writes (create + update) received, per kind.
    pub writes: BTreeMap<String, u64>,
    /// The next this many API calls answer 503.
    pub fail_next: u64,
    clock: i64,
}

impl ShopData {
    fn now(&mut self) -> i64 {
        // Strictly increasing, so that `updated_since` filters are exact.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.clock = wall.max(self.clock + 1);
        self.clock
    }

    fn insert(&mut self, kind: &str, mut fields: Map<String, Value>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        fields.insert("id".into(), json!(id));
        fields.insert("updated_at".into(), json!(self.now()));
        let record = Value::Object(fields);
        self.records
            .entry(kind.to_string())
            .or_default()
            .insert(id, record.clone());
        record
    }

    /// Fill the shop with `products`, `customers` and `orders` (each order has
    /// 1 to 3 lines on existing products).
    pub fn seed(&mut self, products: u64, customers: u64, orders: u64) {
        let mut product_ids = Vec::new();
        for i in 1..=products {
            let mut f = Map::new();
            f.insert("name".into(), json!(format!("Product {i}")));
            f.insert("sku".into(), json!(format!("SKU-{i:05}")));
            f.insert(
                "price".into(),
                json!(format!("{}.{:02}", 5 + i % 95, i % 100)),
            );
            f.insert("stock".into(), json!(i % 50));
            f.insert("active".into(), json!(true));
            product_ids.push(
                self.insert("products", f)["id"]
                    .as_u64()
                    .unwrap_or_default(),
            );
        }
        let mut customer_ids = Vec::new();
        for i in 1..=customers {
            let mut f = Map::new();
            f.insert("name".into(), json!(format!("Customer {i}")));
            f.insert("email".into(), json!(format!("customer{i}@example.com")));
            f.insert(
                "city".into(),
                json!(["Lyon", "Berlin", "Porto", "Oslo"][i as usize % 4]),
            );
            customer_ids.push(
                self.insert("customers", f)["id"]
                    .as_u64()
                    .unwrap_or_default(),
            );
        }
        for i in 1..=orders {
            if product_ids.is_empty() || customer_ids.is_empty() {
                break;
            }
            let lines: Vec<Value> = (0..(1 + i % 3))
                .map(|l| {
                    let product = product_ids[((i * 7 + l * 13) as usize) % product_ids.len()];
                    json!({ "product_id": product, "qty": 1 + (i + l) % 4, "price": format!("{}.50", 3 + l) })
                })
                .collect();
            let mut f = Map::new();
            f.insert("number".into(), json!(format!("SO-{i:05}")));
            f.insert(
                "customer_id".into(),
                json!(customer_ids[i as usize % customer_ids.len()]),
            );
            f.insert("lines".into(), Value::Array(lines));
            self.insert("orders", f);
        }
    }

    /// A record of `kind` by id, in the v1 shape.
    pub fn get(&self, kind: &str, id: u64) -> Option<&Value> {
        self.records.get(kind).and_then(|r| r.get(&id))
    }

    /// How many records of `kind` there are.
    pub fn count(&self, kind: &str) -> usize {
        self.records.get(kind).map(|r| r.len()).unwrap_or(0)
    }
}

/// Shared state of a running simulator.
#[derive(Clone)]
pub struct Shop {
    data: Arc<Mutex<ShopData>>,
    api_key: String,
    token: String,
}

impl Default for Shop {
    fn default() -> Self {
        Self::new(DEFAULT_API_KEY, DEFAULT_TOKEN)
    }
}

impl Shop {
    /// An empty shop accepting these credentials.
    pub fn new(api_key: &str, token: &str) -> Self {
        Shop {
            data: Arc::default(),
            api_key: api_key.into(),
            token: token.into(),
        }
    }

    /// Lock the data (for tests and the demo: look or change directly).
    pub fn data(&self) -> MutexGuard<'_, ShopData> {
        self.data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The HTTP routes of the shop.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/{kind}", get(v1_list).post(v1_create))
            .route("/api/v1/{kind}/{id}", get(v1_read).put(v1_update))
            .route("/v2/catalog/{kind}", get(v2_list).post(v2_create))
            .route("/v2/catalog/{kind}/{id}", get(v2_read).patch(v2_update))
            .route("/_admin/seed", post(admin_seed))
            .route("/_admin/fail", post(admin_fail))
            .route("/_admin/stats", get(admin_stats))
            .route("/_test/redirect", get(test_redirect))
            .route("/_test/huge", get(test_huge))
            .route("/_test/echo", get(test_echo))
            .with_state(self.clone())
    }

    /// Serve on `addr` (port 0 for any free port); returns the bound address.
    pub async fn serve(
        &self,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("shop simulator stopped: {err}");
            }
        });
        Ok((bound, task))
    }
}

#[derive(Clone, Copy)]
enum Layout {
    V1,
    V2,
}

/// An error answer of the API: status, message and, for 503, `Retry-After`.
struct ApiError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        resp
    }
}

fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError {
        status,
        message: message.to_string(),
    }
}

/// Checks shared by every API call: kind, credentials, the 503 switch.
fn admit(
    shop: &Shop,
    layout: Layout,
    method: &str,
    kind: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if !KINDS.contains(&kind) {
        return Err(error(
            StatusCode::NOT_FOUND,
            &format!("unknown collection `{kind}`"),
        ));
    }
    let authorized = match layout {
        Layout::V1 => {
            headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(shop.api_key.as_str())
        }
        Layout::V2 => {
            headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some(format!("Bearer {}", shop.token).as_str())
        }
    };
    if !authorized {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "bad or missing credentials",
        ));
    }
    let mut data = shop.data();
    let name = match layout {
        Layout::V1 => "v1",
        Layout::V2 => "v2",
    };
    *data
        .requests
        .entry(format!("{method} {name} {kind}"))
        .or_default() += 1;
    if data.fail_next > 0 {
        data.fail_next -= 1;
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the shop is down for maintenance",
        ));
    }
    Ok(())
}

/// v1 record → v2 record (`name` becomes `title` on products).
fn to_v2(kind: &str, record: &Value) -> Value {
    let mut r = record.clone();
    if kind == "products"
        && let Some(obj) = r.as_object_mut()
        && let Some(name) = obj.remove("name")
    {
        obj.insert("title".into(), name);
    }
    r
}

/// v2 fields → v1 fields.
fn from_v2(kind: &str, mut fields: Map<String, Value>) -> Map<String, Value> {
    if kind == "products"
        && let Some(title) = fields.remove("title")
    {
        fields.insert("name".into(), title);
    }
    fields
}

fn changed_since(data: &ShopData, kind: &str, since: Option<i64>) -> Vec<Value> {
    let since = since.unwrap_or(i64::MIN);
    data.records
        .get(kind)
        .map(|r| {
            r.values()
                .filter(|v| v["updated_at"].as_i64().unwrap_or(0) > since)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct V1ListQuery {
    updated_since: Option<i64>,
    page: Option<usize>,
    per_page: Option<usize>,
}

async fn v1_list(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Query(q): Query<V1ListQuery>,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V1, "GET", &kind, &headers) {
        return e.into_response();
    }
    let all = changed_since(&shop.data(), &kind, q.updated_since);
    let per_page = q.per_page.unwrap_or(100).clamp(1, 500);
    let page = q.page.unwrap_or(1).max(1);
    let pages = all.len().div_ceil(per_page);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    Json(json!({ "items": items, "page": page, "pages": pages, "total": all.len() }))
        .into_response()
}

async fn v1_read(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V1, "GET", &kind, &headers) {
        return e.into_response();
    }
    match shop.data().get(&kind, id) {
        Some(r) => Json(r.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")).into_response(),
    }
}

fn write(
    shop: &Shop,
    kind: &str,
    id: Option<u64>,
    fields: Map<String, Value>,
) -> Result<Value, ApiError> {
    let mut data = shop.data();
    *data.writes.entry(kind.to_string()).or_default() += 1;
    match id {
        None => Ok(data.insert(kind, fields)),
        Some(id) => {
            let now = data.now();
            let record = data
                .records
                .get_mut(kind)
                .and_then(|r| r.get_mut(&id))
                .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")))?;
            if let Some(obj) = record.as_object_mut() {
                for (k, v) in fields.into_iter().filter(|(k, _)| k != "id") {
                    obj.insert(k, v);
                }
                obj.insert("updated_at".into(), json!(now));
            }
            Ok(record.clone())
        }
    }
}

fn body_fields(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "body must be a JSON object",
        )),
    }
}

async fn v1_create(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V1, "POST", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| write(&shop, &kind, None, f));
    match result {
        Ok(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn v1_update(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V1, "PUT", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| write(&shop, &kind, Some(id), f));
    match result {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct V2ListQuery {
    changed_since: Option<i64>,
    cursor: Option<usize>,
    limit: Option<usize>,
}

async fn v2_list(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Query(q): Query<V2ListQuery>,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V2, "GET", &kind, &headers) {
        return e.into_response();
    }
    let all = changed_since(&shop.data(), &kind, q.changed_since);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let start = q.cursor.unwrap_or(0);
    let data: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|r| to_v2(&kind, r))
        .collect();
    let next = (start + limit < all.len()).then_some(start + limit);
    Json(json!({ "data": data, "next_cursor": next })).into_response()
}

async fn v2_read(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V2, "GET", &kind, &headers) {
        return e.into_response();
    }
    match shop.data().get(&kind, id) {
        Some(r) => Json(json!({ "data": to_v2(&kind, r) })).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")).into_response(),
    }
}

async fn v2_create(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V2, "POST", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| write(&shop, &kind, None, from_v2(&kind, f)));
    match result {
        Ok(r) => (
            StatusCode::CREATED,
            Json(json!({ "data": to_v2(&kind, &r) })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn v2_update(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V2, "PATCH", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| write(&shop, &kind, Some(id), from_v2(&kind, f)));
    match result {
        Ok(r) => Json(json!({ "data": to_v2(&kind, &r) })).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SeedRequest {
    #[serde(default)]
    products: u64,
    #[serde(default)]
    customers: u64,
    #[serde(default)]
    orders: u64,
}

async fn admin_seed(State(shop): State<Shop>, Json(req): Json<SeedRequest>) -> Response {
    shop.data().seed(req.products, req.customers, req.orders);
    admin_stats(State(shop)).await
}

#[derive(Deserialize)]
struct FailRequest {
    count: u64,
}

async fn admin_fail(State(shop): State<Shop>, Json(req): Json<FailRequest>) -> Response {
    shop.data().fail_next = req.count;
    Json(json!({ "fail_next": req.count })).into_response()
}

async fn admin_stats(State(shop): State<Shop>) -> Response {
    let data = shop.data();
    let counts: BTreeMap<&str, usize> = KINDS.iter().map(|k| (*k, data.count(k))).collect();
    Json(json!({ "counts": counts, "requests": data.requests, "writes": data.writes, "fail_next": data.fail_next }))
        .into_response()
}

#[derive(Deserialize)]
struct RedirectQuery {
    to: String,
}

async fn test_redirect(Query(q): Query<RedirectQuery>) -> Response {
    (StatusCode::FOUND, [(axum::http::header::LOCATION, q.to)]).into_response()
}

#[derive(Deserialize)]
struct HugeQuery {
    bytes: usize,
}

/// The request's headers and query as JSON text (to see what a client sent).
async fn test_echo(headers: HeaderMap, uri: axum::http::Uri) -> String {
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    serde_json::json!({ "headers": headers, "query": uri.query() }).to_string()
}

/// At most 256 MiB, so that a typo cannot take the test machine's memory.
async fn test_huge(Query(q): Query<HugeQuery>) -> Response {
    vec![b'x'; q.bytes.min(256 << 20)].into_response()
}
