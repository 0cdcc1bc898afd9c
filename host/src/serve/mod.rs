//! `ferry serve`: the HTTP server (webhooks and the admin API) and, in the same
//! process, a worker pool.
//!
//! [`router`] builds the routes, so that tests run them on an ephemeral port;
//! [`run`] serves them until a shutdown signal, then stops accepting calls,
//! finishes the calls in progress and returns. [`serve_metrics`] serves
//! `/metrics` alone on another address (`--metrics-addr`).

mod api;
mod app;
mod auth;
mod console;
mod hooks;
mod metrics;

pub use api::{API_ROUTES, ApiRoute, openapi};
pub use app::ServeOptions;
pub use metrics::serve_metrics;

use crate::Ferry;
use crate::error::{Error, Result};
use crate::queue::WorkerConfig;
use app::{App, error};
use axum::Router;
use axum::http::StatusCode;
use tokio_util::sync::CancellationToken;

/// The routes of `ferry serve` with the default options.
pub fn router(ferry: Ferry) -> Router {
    router_with(ferry, ServeOptions::default())
}

/// The routes of `ferry serve`: `POST /hooks/{instance}/{hook}` (each hook
/// checks its own secret) and `/api/…` (API tokens with roles, [`crate::tokens`]).
pub fn router_with(ferry: Ferry, options: ServeOptions) -> Router {
    let app = App {
        admin: crate::admin::Admin::Local(ferry.clone()),
        ferry,
        options,
    };
    Router::new()
        .merge(hooks::routes())
        .merge(api::routes(&app))
        .merge(metrics::routes(&app))
        .merge(console::routes(&app))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint".into()) })
        .with_state(app)
}

/// Serve on `listener` until `shutdown` resolves, with a worker pool of
/// `worker` in the same process (none: only the server). Calls in progress
/// finish before it returns; jobs a worker was running are left `started` and
/// run again by the next worker (at-least-once).
pub async fn run(
    ferry: Ferry,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    worker: Option<WorkerConfig>,
    shutdown: CancellationToken,
) -> Result<()> {
    // Webhooks and direct calls run guests: the instance pool is made now,
    // so that one this machine cannot hold fails the start, not a call.
    ferry.engine().start()?;
    let address = listener.local_addr().ok();
    let app = router_with(ferry.clone(), options);
    let stop = shutdown.clone();
    let server = async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .map_err(|e| Error::io(format!("{address:?}"), e))
    };
    match worker {
        None => server.await,
        Some(mut config) => {
            // One signal stops both: the server stops accepting, the worker
            // stops claiming and lets running jobs finish (its grace period).
            config.shutdown = shutdown.clone();
            let (served, worked) = tokio::join!(
                async {
                    let served = server.await;
                    shutdown.cancel();
                    served
                },
                async {
                    let worked = ferry.run_worker(&config, |_| {}).await;
                    shutdown.cancel();
                    worked
                }
            );
            served?;
            worked.map(|_| ())
        }
    }
}
