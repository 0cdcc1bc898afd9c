//! `GET /metrics`: the Prometheus text exposition of this process.

use super::app::App;
use axum::Router;

/// The metrics route.
pub(super) fn routes(_app: &App) -> Router<App> {
    Router::new()
}
