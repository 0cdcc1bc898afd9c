//! `ferry serve`: webhooks and the admin API over HTTP, with a worker pool in
//! the same process, until Ctrl-C or SIGTERM.

use super::globals::Globals;
use super::output::Output;
use anyhow::{Context, Result};
use clap::Args;
use ferry::serve::ServeOptions;
use std::net::SocketAddr;

#[derive(Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The worker pool of this process.
    #[command(flatten)]
    pool: super::worker::PoolArgs,
    /// Serve only: run no worker in this process.
    #[arg(long)]
    no_worker: bool,
    /// Do not run the cron scheduler in this process (another node runs it).
    #[arg(long)]
    no_cron: bool,
    /// Do not consume broker sources in this process (`ferry source`).
    #[arg(long)]
    no_sources: bool,
    /// Do not relay the outbox to brokers in this process (`ferry topic`).
    #[arg(long)]
    no_relay: bool,
    /// Largest webhook body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = ferry::triggers::webhook::DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Mark the console's session cookie `Secure` (when users reach this
    /// server over HTTPS, through a TLS proxy).
    #[arg(long)]
    secure_cookies: bool,
}

pub(super) async fn run(cli: &Globals, out: &Output, args: &ServeArgs) -> Result<()> {
    let ferry = cli.open_local().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let node = ferry::queue::node_name(None);
    let worker = match args.no_worker {
        true => None,
        false => Some(ferry::queue::WorkerConfig {
            name: Some(node.clone()),
            ..args.pool.config()?
        }),
    };
    out.value(
        &serde_json::json!({ "listening": format!("http://{address}") }),
        &format!(
            "listening on http://{address}: webhooks at /hooks/INSTANCE/HOOK, admin API at /api, metrics at /metrics, console at /{}",
            match &worker {
                Some(w) => format!(", {} job(s) at once", w.concurrency),
                None => ", no worker".into(),
            }
        ),
    );
    if ferry::tokens::list(ferry.store()).await?.is_empty() {
        // Not an error: webhooks work without tokens. But say why /api answers 401.
        eprintln!(
            "note: no API tokens exist, so the admin API refuses every call; make one with \
             `ferry token create NAME --role viewer|developer|manager`"
        );
    }
    let options = ServeOptions {
        max_body: args.max_body,
        secure_cookies: args.secure_cookies,
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        on_signal.cancel();
    });
    // The scheduler runs only while this node holds the scheduler lease;
    // each source where its broker (or a lease) says.
    let background = ferry::triggers::background::start(
        &ferry,
        ferry::triggers::background::Background {
            cron: !args.no_cron,
            sources: !args.no_sources,
            relay: !args.no_relay,
        },
        &node,
        &shutdown,
    );
    let metrics = args
        .pool
        .serve_metrics(&ferry, shutdown.child_token())
        .await?;
    let served = ferry::serve::run(ferry, listener, options, worker, shutdown.clone()).await;
    shutdown.cancel();
    super::worker::metrics_stopped(metrics).await;
    background.stopped().await;
    served?;
    out.message("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
