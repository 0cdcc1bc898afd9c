//! `GET /metrics`: the Prometheus text exposition of this process (see
//! [`crate::metrics`]), behind the viewer role on `ferry serve`'s address,
//! and without a token on the separate listener of `--metrics-addr`
//! ([`serve_metrics`]), meant for a scraper on a private network.

use super::app::{App, error};
use super::auth::{Gate, gate};
use crate::Ferry;
use crate::error::{Error, Result};
use crate::tokens::Role;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

/// The metrics route, for callers with a viewer token or above.
pub(super) fn routes(app: &App) -> Router<App> {
    let gate_state = Gate {
        app: app.clone(),
        role: Role::Viewer,
    };
    Router::new()
        .route("/metrics", get(|State(app): State<App>| scrape(app.ferry)))
        .route_layer(from_fn_with_state(gate_state, gate))
}

/// The text of `/metrics`, or a 500 that says why (the database is gone).
async fn scrape(ferry: Ferry) -> Response {
    match ferry.metrics_text().await {
        Ok(text) => ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::error!("/metrics: cannot read the queue depth: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the queue depth from the database: {e}"),
            )
        }
    }
}

/// Serve `GET /metrics` of `ferry` without authentication on `listener`
/// (`--metrics-addr`) until `shutdown`; anything else is a 404.
pub async fn serve_metrics(
    ferry: Ferry,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> Result<()> {
    let address = listener.local_addr().ok();
    let app = Router::new()
        .route("/metrics", get(move || scrape(ferry.clone())))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "this listener serves only GET /metrics".into(),
            )
        });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(|e| Error::io(format!("metrics listener {address:?}"), e))
}
