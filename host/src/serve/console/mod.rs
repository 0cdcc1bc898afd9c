//! The operator console: the web dashboard served at `/` by `ferry serve`.
//! Every page reads and acts through [`crate::admin::Admin`], as the CLI and
//! the admin API do; templates (askama, checked at compile time) only lay
//! out view models built here.
//!
//! Pages are server-rendered and work without JavaScript; a little plain JS
//! (`assets/console.js`, compiled into the binary) polls the admin API with
//! the session cookie to refresh counts, job rows and progress bars.

mod bulk;
mod catalog;
mod filters;
mod instances;
mod jobs;
mod overview;
mod page;
pub(crate) mod session;
mod sources;

use super::app::App;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// The console's routes.
pub(super) fn routes(_app: &App) -> Router<App> {
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/jobs", get(jobs::list))
        .route("/jobs/bulk", post(bulk::bulk))
        .route("/jobs/{id}", get(jobs::detail))
        .route("/jobs/{id}/{action}", post(jobs::act))
        .route("/instances", get(instances::list))
        .route("/instances/{name}", get(instances::detail))
        .route("/instances/{name}/buttons/{button}", post(instances::press))
        .route("/connectors", get(catalog::connectors))
        .route("/transmissions", get(catalog::transmissions))
        .route("/audit", get(catalog::audit))
        .route("/checkpoints", get(catalog::checkpoints))
        .route("/checkpoints/clear", post(catalog::clear_checkpoints))
        .route("/links", get(catalog::links))
        .route("/logs", get(catalog::logs))
        .route("/sources", get(sources::page))
        .route(
            "/sources/{instance}/{listener}/{action}",
            post(sources::act),
        )
        .route("/dead-letters/{id}/replay", post(sources::replay))
        .route("/profiles", get(instances::profiles))
        .route("/profiles/{name}/run", post(instances::run_profile))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
}

/// The stylesheet, compiled into the binary (no build step, no CDN).
async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../assets/console.css"),
    )
}

/// The live-update script, compiled into the binary.
async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../assets/console.js"),
    )
}
