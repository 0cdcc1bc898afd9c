//! The operator console: the web dashboard served at `/` by `ferry serve`.
//! Every page reads and acts through [`crate::admin::Admin`], as the CLI and
//! the admin API do.

use super::app::App;
use axum::Router;

/// The console's routes.
pub(super) fn routes(_app: &App) -> Router<App> {
    Router::new()
}
