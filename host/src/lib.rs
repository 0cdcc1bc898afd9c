//! # Ferry: a WebAssembly plugin host for data connectors
//!
//! A connector moves records between the local side (the records Ferry's users
//! own) and an external system. Ferry runs connectors as sandboxed WebAssembly
//! components that implement backends with versions (`shop@2.0`); whatever a
//! module does not implement falls back to its parent backend's module. The
//! host gives them the session, events, jobs, links and units APIs of the WIT
//! contract in `wit/`.
//!
//! The data flows one way: trigger ([`triggers`], [`events`]) → [`queue`] →
//! [`invoke`] (engine, fresh store) → guest → host API ([`capabilities`]) → [`store`].
//! A webhook is the one trigger answered at once: its call goes straight to
//! [`invoke`]. [`serve`] is the HTTP side (webhooks, admin API); [`admin`]
//! holds the operators' operations, local or remote.
//!
//! ```no_run
//! # async fn demo() -> ferry::Result<()> {
//! use ferry::{Ferry, queue::WorkerConfig, store::NewJob};
//! use std::path::Path;
//!
//! let ferry = Ferry::open(".ferry").await?;
//! ferry.install(Path::new("shop/connector.toml"), Path::new("shop.wasm")).await?;
//! let params = serde_json::json!({ "url": "http://127.0.0.1:8790" });
//! ferry.add_instance("acme", "shop@1.7", params.as_object().unwrap().clone()).await?;
//! ferry.enqueue(&NewJob::new("acme", "import-batch", &serde_json::json!({ "model": "product" }))).await?;
//! ferry.run_worker(&WorkerConfig { until_idle: true, ..Default::default() }, |_| {}).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod admin;
pub mod audit;
pub mod backend;
pub mod bindings;
pub mod builder;
pub mod capabilities;
pub mod cassette;
#[cfg(feature = "demo")]
pub mod demo;
pub mod engine;
pub mod error;
pub mod events;
mod ferry;
pub mod install;
pub mod invoke;
mod job_executor;
pub mod limits;
pub mod manifest;
pub mod metrics;
pub mod profiles;
pub mod queue;
pub mod relay;
pub mod scaffold;
pub mod scenarios;
pub mod secrets;
pub mod serve;
pub mod service_url;
mod steps;
pub mod store;
pub mod stores;
pub mod tokens;
pub mod triggers;

pub use error::{Error, FailureKind, Result};
pub use ferry::{Ferry, FerryOptions, Runner};
pub use install::{Installed, Modules};
