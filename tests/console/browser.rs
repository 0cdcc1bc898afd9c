//! The console in a real browser: headless Chromium driven through
//! chromedriver (Debian's `chromium` and `chromium-driver`) with fantoccini.
//! A viewer signs in, sees a failing job with its error and log and is not
//! offered requeue; a filter by module and trigger narrows the list; a
//! developer requeues the job and sees it done without reloading; a running
//! job's progress bar moves. Each page is saved as a 1366×768 screenshot:
//! to `docs/screenshots/` with `FERRY_SCREENSHOTS=1`, else to the target dir.
//!
//! Without chromium and chromedriver the test says so and skips, unless
//! `FERRY_BROWSER_TESTS=required` (CI), where it fails.

use fantoccini::{Client, ClientBuilder, Locator};
use ferry::queue::WorkerConfig;
use ferry::serve::ServeOptions;
use ferry::store::{JobState, NewJob};
use ferry::tokens::Role;
use ferry_tests::*;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A chromedriver this test started, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first of `names` found on the PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver and chromium, or the reason the browser tests cannot run.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let driver = on_path(&["chromedriver"]).ok_or("chromedriver is not on the PATH")?;
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("chromium is not on the PATH")?;
    Ok((driver, chromium))
}

async fn start_driver(path: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    eventually(
        Duration::from_secs(30),
        "chromedriver listens",
        async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await;
    driver
}

async fn open_browser(driver: &Driver, chromium: &PathBuf) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1366,768"],
        }),
    );
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session");
    client
        .set_window_size(1366, 768)
        .await
        .expect("window size");
    client
}

/// Save what the browser shows as `NAME.png`.
async fn screenshot(client: &Client, name: &str) {
    let dir = if std::env::var("FERRY_SCREENSHOTS").as_deref() == Ok("1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the sign-in page");
    let field = client
        .find(Locator::Css("#token"))
        .await
        .expect("token field");
    field.send_keys(token).await.expect("type the token");
    client
        .find(Locator::Css("form[action='/login'] button"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    client
        .wait()
        .for_element(Locator::Css("header .who"))
        .await
        .expect("signed in");
}

/// The text of the first element matching `css`.
async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("its text")
}

/// Wait (the page is not reloaded) until `check` of the page holds.
async fn until(client: &Client, what: &str, script: &str) {
    let start = std::time::Instant::now();
    loop {
        let value = client.execute(script, vec![]).await.expect("run a script");
        if value == json!(true) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "gave up waiting until {what} (last: {value})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser() {
    let (driver_path, chromium) = match browser() {
        Ok(found) => found,
        Err(why) if std::env::var("FERRY_BROWSER_TESTS").as_deref() == Ok("required") => {
            panic!(
                "FERRY_BROWSER_TESTS=required but {why} (apt-get install chromium chromium-driver)"
            )
        }
        Err(why) => {
            eprintln!(
                "SKIPPED the console's browser tests: {why} (apt-get install chromium chromium-driver)"
            );
            return;
        }
    };
    // A lab: a job that fails for good (its secret is not set), jobs of a
    // second module, and jobs pressed from a button.
    // The default limits: the slow job runs for seconds.
    let (_dir, ferry) = hostile_lab_with(|_| {}).await;
    install(&ferry, &["mirror"]).await;
    let mut params = serde_json::Map::new();
    params.insert("left_url".into(), json!("http://127.0.0.1:9"));
    params.insert("right_url".into(), json!("http://127.0.0.1:9"));
    ferry
        .add_instance("twin", "mirror", params)
        .await
        .expect("add twin");
    let mut failing = NewJob::new("lab", "reveal", &json!({ "name": "signing_key" }));
    failing.max_retries = 0;
    let failing = ferry.enqueue(&failing).await.expect("enqueue");
    let mut mirror = NewJob::new("twin", "mirror", &json!({}));
    mirror.max_retries = 0;
    ferry.enqueue(&mirror).await.expect("enqueue");
    let admin = ferry::admin::Admin::Local(ferry.clone());
    for n in 0..2 {
        admin
            .press("lab", "echo-now", &json!({ "n": n }), "test")
            .await
            .expect("press");
    }
    ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .expect("enqueue");
    let idle = WorkerConfig {
        until_idle: true,
        ..Default::default()
    };
    ferry
        .run_worker(&idle, |_| {})
        .await
        .expect("run the queue");
    assert_eq!(
        ferry.store().job(failing).await.unwrap().state,
        JobState::Failed
    );
    let base = start_server(&ferry, ServeOptions::default()).await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let developer = api_token(&ferry, Role::Developer).await;

    let driver = start_driver(&driver_path).await;
    let client = open_browser(&driver, &chromium).await;
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("sign-in page");
    screenshot(&client, "login").await;

    // A viewer sees the failing job, its error and its log; no requeue.
    sign_in(&client, &base, &viewer).await;
    client
        .goto(&format!("{base}/jobs/{failing}"))
        .await
        .expect("job page");
    assert_eq!(text(&client, "[data-live=state]").await, "failed");
    assert!(text(&client, "pre.error").await.contains("signing_key"));
    assert!(text(&client, "table.log").await.contains("try 1 failed"));
    let offered = client
        .find_all(Locator::Css(".actions button"))
        .await
        .expect("actions");
    assert!(offered.is_empty(), "a viewer is offered no action");
    assert!(!client.source().await.unwrap().contains("Requeue"));
    screenshot(&client, "job-failed").await;

    // A filter by module and trigger narrows the list to the button's jobs.
    client.goto(&format!("{base}/jobs")).await.expect("jobs");
    let all = client
        .find_all(Locator::Css("table.jobs tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(all, 5);
    client
        .find(Locator::Css("#f-module"))
        .await
        .unwrap()
        .send_keys("hostile")
        .await
        .unwrap();
    client
        .find(Locator::Css("#f-trigger option[value=button]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css(".filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &client,
        "the filtered list",
        "return location.search.includes('trigger=button')",
    )
    .await;
    let rows = client
        .find_all(Locator::Css("table.jobs tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "two jobs were pressed from a button");
    for row in rows {
        let cells = row.text().await.unwrap();
        assert!(
            cells.contains("button") && cells.contains("hostile"),
            "{cells}"
        );
    }
    screenshot(&client, "jobs").await;
    for (path, name) in [
        ("/instances", "instances"),
        ("/instances/lab", "instance"),
        ("/connectors", "connectors"),
        ("/transmissions", "transmissions"),
        ("/audit", "audit"),
        ("/checkpoints", "checkpoints"),
        ("/links", "links"),
        ("/logs", "logs"),
        ("/profiles", "profiles"),
    ] {
        client.goto(&format!("{base}{path}")).await.expect(path);
        assert!(text(&client, "h1").await.len() > 2, "{path} has a title");
        screenshot(&client, name).await;
    }
    client
        .find(Locator::Css(".who button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#token"))
        .await
        .expect("signed out");

    // A developer fixes the cause, requeues, and sees the job done with no
    // reload (the page keeps a marker set after it loaded).
    set_secret(&ferry, "lab", "signing_key", "s3cret-key").await;
    let stop = tokio_util::sync::CancellationToken::new();
    let worker = {
        let ferry = ferry.clone();
        let config = WorkerConfig {
            poll_interval: Duration::from_millis(50),
            shutdown: stop.clone(),
            ..Default::default()
        };
        tokio::spawn(async move { ferry.run_worker(&config, |_| {}).await })
    };
    sign_in(&client, &base, &developer).await;
    client
        .goto(&format!("{base}/jobs/{failing}"))
        .await
        .expect("job page");
    client
        .find(Locator::Css("form[action$='/requeue'] button"))
        .await
        .expect("a developer is offered requeue")
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("requeued");
    client
        .execute("window.ferryMarker = 1; return true", vec![])
        .await
        .unwrap();
    until(
        &client,
        "the job shows done",
        "return document.querySelector('[data-live=state]').textContent === 'done'",
    )
    .await;
    until(
        &client,
        "the same page (no reload)",
        "return window.ferryMarker === 1",
    )
    .await;
    screenshot(&client, "job-done").await;

    // A running job's progress bar moves while the page stays.
    let slow = ferry
        .enqueue(&NewJob::new(
            "lab",
            "count-slowly",
            &json!({ "total": 400, "ms": 50 }),
        ))
        .await
        .expect("enqueue");
    eventually(
        Duration::from_secs(60),
        "the slow job reports progress",
        async || {
            ferry
                .store()
                .job(slow)
                .await
                .is_ok_and(|j| j.progress_done.unwrap_or(0) > 0)
        },
    )
    .await;
    client
        .goto(&format!("{base}/jobs/{slow}"))
        .await
        .expect("job page");
    let first: f64 = client
        .execute(
            "return Number(document.querySelector('[data-live=progress] progress').value)",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .expect("a progress value");
    client
        .execute("window.ferryMarker = 2; return true", vec![])
        .await
        .unwrap();
    until(
        &client,
        "the progress bar moves",
        &format!(
            "return window.ferryMarker === 2 && \
             Number(document.querySelector('[data-live=progress] progress').value) > {first}"
        ),
    )
    .await;
    client.goto(&format!("{base}/")).await.expect("overview");
    client
        .wait()
        .for_element(Locator::Css("table.jobs progress"))
        .await
        .expect("a running bar");
    screenshot(&client, "overview").await;
    admin
        .act(slow, ferry::admin::JobAction::Stop)
        .await
        .expect("stop the slow job");
    stop.cancel();
    worker.await.expect("the worker task").expect("the worker");
    client.close().await.expect("close the browser");
}
