//! The shop's REST API in its two layouts (v1 and v2): lists, reads,
//! creates (idempotent by key in v1) and updates (conditional on `If-Match`).

use crate::shop::Shop;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The collections the shop serves.
pub(crate) const KINDS: [&str; 3] = ["products", "customers", "orders"];

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
                .insert("retry-after", HeaderValue::from_static("1"));
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

/// The version of a record as its ETag carries it: its `updated_at`.
fn version(record: &Value) -> String {
    record["updated_at"].to_string()
}

/// An answer about one record, with its version as `ETag: "{updated_at}"`.
fn one(status: StatusCode, body: Value, record: &Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", version(record))) {
        resp.headers_mut().insert("etag", etag);
    }
    resp
}

/// The version `If-Match` asks for, quoted or bare (a weak `W/` prefix is
/// ignored); `None` when the header is absent (the write is unconditional).
fn if_match(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("if-match")?.to_str().ok()?.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    Some(value.trim_matches('"').to_string())
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

fn changed_since(shop: &Shop, kind: &str, since: Option<i64>) -> Vec<Value> {
    let since = since.unwrap_or(i64::MIN);
    shop.data()
        .records
        .get(kind)
        .map(|r| {
            r.values()
                .filter(|v| v["updated_at"].as_i64().unwrap_or(0) > since)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
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

/// Create a record; with an idempotency key seen before, answer the record
/// that create made (200) and store nothing. Then wait the slow-create delay
/// (the record is stored already: what a crash of the caller meanwhile meets).
async fn create(
    shop: &Shop,
    kind: &str,
    fields: Map<String, Value>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let (answer, delay) = {
        let mut data = shop.data();
        let delay = data.create_delay_ms;
        match key.and_then(|k| data.by_key(kind, k).cloned()) {
            Some(first) => {
                *data.replayed.entry(kind.to_string()).or_default() += 1;
                ((StatusCode::OK, first), delay)
            }
            None => {
                *data.writes.entry(kind.to_string()).or_default() += 1;
                let record = data.insert(kind, fields);
                if let (Some(key), Some(id)) = (key, record["id"].as_u64()) {
                    data.remember_key(kind, key, id);
                }
                ((StatusCode::CREATED, record), delay)
            }
        }
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    answer
}

/// Update a record, only over the version `If-Match` names when it names one.
fn update(
    shop: &Shop,
    kind: &str,
    id: u64,
    fields: Map<String, Value>,
    expected: Option<String>,
) -> Result<Value, ApiError> {
    let mut data = shop.data();
    let current = data
        .get(kind, id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")))?;
    if let Some(expected) = expected
        && expected != "*"
        && expected != version(current)
    {
        return Err(error(
            StatusCode::PRECONDITION_FAILED,
            &format!(
                "{kind} {id} changed: If-Match asks for version {expected}, it is at {}",
                version(current)
            ),
        ));
    }
    *data.writes.entry(kind.to_string()).or_default() += 1;
    data.update(kind, id, fields)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")))
}

#[derive(Deserialize)]
pub(crate) struct V1ListQuery {
    updated_since: Option<i64>,
    page: Option<usize>,
    per_page: Option<usize>,
}

pub(crate) async fn v1_list(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Query(q): Query<V1ListQuery>,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V1, "GET", &kind, &headers) {
        return e.into_response();
    }
    let all = changed_since(&shop, &kind, q.updated_since);
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

pub(crate) async fn v1_read(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V1, "GET", &kind, &headers) {
        return e.into_response();
    }
    let found = shop.data().get(&kind, id).cloned();
    match found {
        Some(r) => one(StatusCode::OK, r.clone(), &r),
        None => error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")).into_response(),
    }
}

pub(crate) async fn v1_create(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let fields =
        match admit(&shop, Layout::V1, "POST", &kind, &headers).and_then(|_| body_fields(body)) {
            Ok(f) => f,
            Err(e) => return e.into_response(),
        };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty());
    let (status, record) = create(&shop, &kind, fields, key).await;
    one(status, record.clone(), &record)
}

pub(crate) async fn v1_update(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V1, "PUT", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| update(&shop, &kind, id, f, if_match(&headers)));
    match result {
        Ok(r) => one(StatusCode::OK, r.clone(), &r),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct V2ListQuery {
    changed_since: Option<i64>,
    cursor: Option<usize>,
    limit: Option<usize>,
    external_ref: Option<String>,
}

pub(crate) async fn v2_list(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Query(q): Query<V2ListQuery>,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V2, "GET", &kind, &headers) {
        return e.into_response();
    }
    let mut all = changed_since(&shop, &kind, q.changed_since);
    if let Some(reference) = &q.external_ref {
        all.retain(|r| r["external_ref"].as_str() == Some(reference.as_str()));
    }
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

pub(crate) async fn v2_read(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = admit(&shop, Layout::V2, "GET", &kind, &headers) {
        return e.into_response();
    }
    let found = shop.data().get(&kind, id).cloned();
    match found {
        Some(r) => one(StatusCode::OK, json!({ "data": to_v2(&kind, &r) }), &r),
        None => error(StatusCode::NOT_FOUND, &format!("no {kind} {id}")).into_response(),
    }
}

pub(crate) async fn v2_create(
    State(shop): State<Shop>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let fields =
        match admit(&shop, Layout::V2, "POST", &kind, &headers).and_then(|_| body_fields(body)) {
            Ok(f) => from_v2(&kind, f),
            Err(e) => return e.into_response(),
        };
    // v2 has no idempotency keys: a client stores its own in `external_ref`.
    let (status, record) = create(&shop, &kind, fields, None).await;
    one(status, json!({ "data": to_v2(&kind, &record) }), &record)
}

pub(crate) async fn v2_update(
    State(shop): State<Shop>,
    Path((kind, id)): Path<(String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let result = admit(&shop, Layout::V2, "PATCH", &kind, &headers)
        .and_then(|_| body_fields(body))
        .and_then(|f| update(&shop, &kind, id, from_v2(&kind, f), if_match(&headers)));
    match result {
        Ok(r) => one(StatusCode::OK, json!({ "data": to_v2(&kind, &r) }), &r),
        Err(e) => e.into_response(),
    }
}
