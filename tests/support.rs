//! Shared set-up of the integration tests: real components (built once per test
//! binary), a fresh Ferry installation per test, the shop simulator on a free port.

use ferry::builder::Built;
use ferry::engine::EngineConfig;
use ferry::serve::ServeOptions;
use ferry::{Ferry, FerryOptions};
use shop_simulator::Shop;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

pub use ferry::demo::{drain, enqueue_import, shop_params, start_shop};

pub mod brokers;
pub mod proxy;
pub mod s3;

/// Build an example connector once per test binary.
pub fn built(name: &str) -> Built {
    static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    let cache = BUILT.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            ferry::demo::build_example(name).unwrap_or_else(|e| panic!("building {name}: {e}"))
        })
        .clone()
}

/// Ferry's `rest` module (runs declarative connectors), built once per test binary.
pub fn rest_runtime() -> Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            ferry::demo::build_rest_runtime().unwrap_or_else(|e| panic!("building rest: {e}"))
        })
        .clone()
}

/// Install Ferry's `rest` module (the runtime of declarative connectors) in `ferry`.
pub async fn install_rest_runtime(ferry: &Ferry) {
    let runtime = rest_runtime();
    ferry
        .install(&runtime.manifest, &runtime.wasm)
        .await
        .expect("install the rest runtime");
}

/// A fresh installation in a temporary directory, with these limits, on a
/// fresh database: SQLite in the directory, or, when `FERRY_TEST_DATABASE`
/// names a PostgreSQL database, a new schema of its own there.
pub async fn fresh(configure: impl FnOnce(&mut EngineConfig)) -> (TempDir, Ferry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = FerryOptions::new(dir.path());
    options.database_url = test_database().await;
    options.engine.cache_dir = shared_compiled_cache();
    configure(&mut options.engine);
    let ferry = Ferry::open_with(options).await.expect("open ferry");
    (dir, ferry)
}

/// The compiled cache every [`fresh`] installation shares: a component is
/// compiled once per test run, not once per test (the Python and JavaScript
/// ones take seconds). Entries are keyed by the component's hash and the
/// engine's settings, so a test with other limits compiles its own.
pub fn shared_compiled_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-compiled-cache")
}

/// The PostgreSQL database tests run on, if any (`FERRY_TEST_DATABASE`).
pub fn postgres_url() -> Option<String> {
    std::env::var("FERRY_TEST_DATABASE")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A database URL for one test: on PostgreSQL, a new schema (named
/// `ferry_t_…`, so that CI can drop them) selected through `search_path`.
pub async fn test_database() -> Option<String> {
    use sqlx::{Connection, Executor};
    let base = postgres_url()?;
    let schema = format!(
        "ferry_t_{}_{}",
        std::process::id(),
        SCHEMAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to FERRY_TEST_DATABASE");
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, std::sync::atomic::Ordering::Relaxed) {
        drop_schemas_of_ended_runs(&mut admin).await;
    }
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create the test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{sep}application_name={schema}&options=-c%20search_path%3D{schema}"
    ))
}

static SCHEMAS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Drop the schemas left by test processes that have ended, one schema per
/// transaction: dropping hundreds at once takes more locks than PostgreSQL's
/// lock table holds by default.
async fn drop_schemas_of_ended_runs(admin: &mut sqlx::PgConnection) {
    use sqlx::Executor;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'ferry\\_t\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        let alive = std::path::Path::new("/proc").join(pid).exists();
        if !alive {
            // Another binary may be sweeping the same schema: losing that race is fine.
            let _ = admin
                .execute(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE").as_str())
                .await;
        }
    }
}

/// Set secret `name` of `instance` to `value`, sealed with the installation's key.
pub async fn set_secret(ferry: &Ferry, instance: &str, name: &str, value: &str) {
    let key_file = ferry::secrets::key_file(ferry.data_dir());
    let key = ferry::secrets::MasterKey::load(&key_file).expect("master key");
    ferry::secrets::set(ferry.store(), &key, instance, name, value, "test")
        .await
        .unwrap_or_else(|e| panic!("setting secret {name} of {instance}: {e}"));
}

/// A new API token of `role` for `ferry` (named after the role and a counter).
pub async fn api_token(ferry: &Ferry, role: ferry::tokens::Role) -> String {
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ferry::tokens::create(ferry.store(), &format!("{role}-{n}"), role, "test")
        .await
        .expect("make an API token")
        .token
}

/// The `ferry` binary (built on first use, with the profile of the tests).
pub fn ferry_bin() -> std::path::PathBuf {
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "ferry-host", "--bin", "ferry"])
            .current_dir(&root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the ferry binary failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target.join("debug").join("ferry")
    })
    .clone()
}

/// `ferry ARGS…` on `ferry`'s data, with these environment variables: its
/// status, stdout and stderr.
pub fn ferry_cli(ferry: &Ferry, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(ferry.data_dir())
        .arg("--database")
        .arg(ferry.store().url())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run ferry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Claim up to `max` jobs as worker `test` would, with a lease of `lease`.
pub async fn claim(ferry: &Ferry, max: usize, lease: Duration) -> Vec<ferry::store::JobRow> {
    ferry
        .store()
        .claim_jobs("test", max, lease)
        .await
        .expect("claim")
}

/// Install example connectors into `ferry`.
pub async fn install(ferry: &Ferry, names: &[&str]) {
    for name in names {
        let b = tokio::task::block_in_place(|| built(name));
        ferry
            .install(&b.manifest, &b.wasm)
            .await
            .unwrap_or_else(|e| panic!("installing {name}: {e}"));
    }
}

/// A fresh installation with `shop` and `shop-v2`, a shop with this data, and a
/// backend instance `acme` on `backend` pointing at it.
pub async fn shop_setup(
    backend: &str,
    products: u64,
    customers: u64,
    orders: u64,
) -> (TempDir, Ferry, Shop) {
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["shop", "shop-v2"]).await;
    let (shop, url) = start_shop(products, customers, orders)
        .await
        .expect("start shop");
    ferry
        .add_instance("acme", backend, shop_params(backend, &url))
        .await
        .expect("add instance");
    (dir, ferry, shop)
}

/// A fresh installation (short limits) with the `hostile` connector and a
/// backend instance `lab` on it.
pub async fn hostile_lab() -> (TempDir, Ferry) {
    hostile_lab_with(tight).await
}

/// [`hostile_lab`] with other limits.
pub async fn hostile_lab_with(configure: impl FnOnce(&mut EngineConfig)) -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(configure).await;
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .expect("add instance");
    (dir, ferry)
}

/// Enqueue `n` jobs `ok` of the `lab` instance (payloads `{"n": 0}`,
/// `{"n": 1}`…): their ids, in order.
pub async fn enqueue_ok(ferry: &Ferry, n: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let job = ferry::store::NewJob::new("lab", "ok", &serde_json::json!({ "n": i }));
        ids.push(ferry.enqueue(&job).await.expect("enqueue"));
    }
    ids
}

/// `manifest` with `entries` (lines like `allowed_hosts = [...]`) added to its
/// `[capabilities]` table, which is created when the manifest has none (a
/// TOML table cannot be opened twice).
pub fn with_capabilities(manifest: &str, entries: &str) -> String {
    let entries = entries.trim_end();
    if manifest.contains("\n[capabilities]\n") {
        manifest.replacen(
            "\n[capabilities]\n",
            &format!("\n[capabilities]\n{entries}\n"),
            1,
        )
    } else {
        format!("{manifest}\n[capabilities]\n{entries}\n")
    }
}

/// Short limits for hostile guests.
pub fn tight(config: &mut EngineConfig) {
    config.memory_limit = 32 << 20;
    config.time_budget = Duration::from_secs(3);
}

/// `ferry serve` (no worker) for `ferry` on a free port of 127.0.0.1; its base URL.
/// The server runs until the test's runtime ends.
pub async fn start_server(ferry: &Ferry, options: ServeOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    let ferry = ferry.clone();
    tokio::spawn(async move {
        let served = ferry::serve::run(
            ferry,
            listener,
            options,
            None,
            tokio_util::sync::CancellationToken::new(),
        )
        .await;
        if let Err(e) = served {
            eprintln!("server stopped: {e}");
        }
    });
    url
}

/// Enqueue job `name` of instance `lab` with `payload`, run the queue until
/// nothing is runnable now, and return the job as it ended (or waits).
pub async fn run_lab_job(
    ferry: &Ferry,
    name: &str,
    payload: serde_json::Value,
) -> ferry::store::JobRow {
    let id = ferry
        .enqueue(&ferry::store::NewJob::new("lab", name, &payload))
        .await
        .expect("enqueue");
    let config = ferry::queue::WorkerConfig {
        until_idle: true,
        ..Default::default()
    };
    ferry
        .run_worker(&config, |_| {})
        .await
        .expect("run the queue");
    ferry.store().job(id).await.expect("the job")
}

/// Polls `check` until it holds, for at most `limit` (generous: tests run on
/// slow, busy machines); panics naming `what` when it never does. The one way
/// tests wait for something another task or process does: no fixed sleeps.
pub async fn eventually(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    while !check().await {
        assert!(
            start.elapsed() < limit,
            "gave up after {limit:?} waiting until {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Start `ferry worker` on the same data directory and database as `ferry`.
pub fn spawn_worker(dir: &std::path::Path, ferry: &Ferry, args: &[&str]) -> std::process::Child {
    std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir)
        .arg("--database")
        .arg(ferry.store().url())
        .arg("worker")
        .args(args)
        .env("FERRY_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start a ferry worker")
}

/// Wait for a worker process to exit, at most `limit` (then kill it and fail).
pub fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the worker's status") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the worker did not finish within {limit:?}");
        }
        // A blocking wait on a process (no async child here): poll its status.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait (off the async runtime) for a worker process to end well, within 10 minutes.
pub async fn finish(mut worker: std::process::Child) {
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut worker, Duration::from_secs(600)))
            .await
            .expect("the waiting task");
    assert!(status.success(), "the worker ended with {status}");
}
