//! A small shop with a REST API: the external system of Ferry's demo and tests.
//!
//! It serves the same catalogue (products, customers, orders with lines) in two
//! URL layouts, as a shop that changed its API between versions would:
//!
//! | | v1 (`shop@1.7`) | v2 (`shop@2.0`) |
//! |---|---|---|
//! | auth | `X-Api-Key: KEY` | `Authorization: Bearer TOKEN` |
//! | list | `GET /api/v1/{kind}?updated_since=MS&page=N&per_page=M` → `{items, page, pages, total}` | `GET /v2/catalog/{kind}?changed_since=MS&cursor=C&limit=M&external_ref=REF` → `{data, next_cursor}` |
//! | one | `GET /api/v1/{kind}/{id}` → record | `GET /v2/catalog/{kind}/{id}` → `{data}` |
//! | create | `POST /api/v1/{kind}` (`Idempotency-Key`: a key seen before answers 200 with the record it made, nothing new) | `POST /v2/catalog/{kind}` (an `external_ref` field is kept, and lists filter on it) |
//! | update | `PUT /api/v1/{kind}/{id}` (`If-Match`) | `PATCH /v2/catalog/{kind}/{id}` (`If-Match`) |
//!
//! `kind` is `products`, `customers` or `orders`. A v2 product has `title` where v1
//! has `name`. A record's version is its `updated_at` (ms, strictly increasing
//! across the shop): every answer about one record carries it as
//! `ETag: "{updated_at}"`, and an update with `If-Match` (quoted or bare; `*`
//! for any) is refused with 412 and a JSON error unless the record is still at
//! that version.
//!
//! Admin endpoints for tests and the demo: `POST /_admin/seed`,
//! `POST /_admin/fail` `{count}` (answer the next N calls with 503 +
//! `Retry-After`), `POST /_admin/slow` `{create_ms}` (creates store the record,
//! then wait that long before answering), `GET /_admin/stats` (counts,
//! requests, writes, creates `replayed` by idempotency key). For sandbox tests:
//! `GET /_test/redirect?to=URL` (302 to URL), `GET /_test/huge?bytes=N` (N
//! bytes of `x`) and `GET /_test/echo` (the request's headers and query as
//! JSON).

#![warn(missing_docs)]

mod admin;
mod api;
mod data;
mod shop;
#[cfg(test)]
mod tests;

pub use data::ShopData;
pub use shop::{DEFAULT_API_KEY, DEFAULT_TOKEN, Shop};

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;

impl Shop {
    /// The HTTP routes of the shop.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/{kind}", get(api::v1_list).post(api::v1_create))
            .route("/api/v1/{kind}/{id}", get(api::v1_read).put(api::v1_update))
            .route("/v2/catalog/{kind}", get(api::v2_list).post(api::v2_create))
            .route(
                "/v2/catalog/{kind}/{id}",
                get(api::v2_read).patch(api::v2_update),
            )
            .route("/_admin/seed", post(admin::admin_seed))
            .route("/_admin/fail", post(admin::admin_fail))
            .route("/_admin/slow", post(admin::admin_slow))
            .route("/_admin/stats", get(admin::admin_stats))
            .route("/_test/redirect", get(admin::test_redirect))
            .route("/_test/huge", get(admin::test_huge))
            .route("/_test/echo", get(admin::test_echo))
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
