//! Job log lines across jobs (`Admin::logs`, `GET /api/logs`, `ferry logs`):
//! each filter, the level threshold, grep, paging back with `before`,
//! following with `after`, and the same answers through the real router.

use crate::console_fixture::{History, history, line};
use ferry::Ferry;
use ferry::admin::{Admin, Remote};
use ferry::serve::ServeOptions;
use ferry::store::{JobState, LogFilter, LogLevel, LogRecord, Trigger};
use ferry::tokens::Role;
use ferry_tests::*;

/// The messages of `records`, in their order.
fn messages(records: &[LogRecord]) -> Vec<&str> {
    records.iter().map(|r| r.message.as_str()).collect()
}

async fn messages_for(admin: &Admin, filter: LogFilter) -> Vec<String> {
    let records = admin.logs(&filter).await.unwrap();
    messages(&records).into_iter().map(String::from).collect()
}

/// Every filter, on `admin`, against the fixture's lines.
async fn filters_hold(admin: &Admin, h: &History) {
    let all = admin.logs(&LogFilter::default()).await.unwrap();
    assert_eq!(
        messages(&all),
        [
            "Fetched 3 ORDERS before the error",
            "connecting",
            "HTTP 500 from the shop",
            "slow answer from the shop",
            "page 2 of 2",
            "fetched 10 orders",
        ],
        "newest first"
    );
    let first = &all[0];
    assert_eq!(first.job_id, h.retrying);
    assert_eq!(first.instance, "beta");
    assert_eq!(first.job_name, "import");
    assert_eq!(first.trigger, Trigger::Webhook);
    assert_eq!(first.state, JobState::Pending);
    assert_eq!(
        (first.level.as_str(), first.module.as_str()),
        ("info", "shop")
    );
    assert_eq!(first.attempt, 1);

    let only = |f: fn(&mut LogFilter)| {
        let mut filter = LogFilter::default();
        f(&mut filter);
        filter
    };
    assert_eq!(
        messages_for(admin, only(|f| f.instance = Some("acme".into()))).await,
        [
            "HTTP 500 from the shop",
            "slow answer from the shop",
            "page 2 of 2",
            "fetched 10 orders"
        ]
    );
    assert_eq!(
        messages_for(admin, only(|f| f.level = Some(LogLevel::Warn))).await,
        ["HTTP 500 from the shop", "slow answer from the shop"],
        "warn and above"
    );
    assert_eq!(
        messages_for(admin, only(|f| f.level = Some(LogLevel::Info)))
            .await
            .len(),
        4,
        "info and above: every line but trace and debug"
    );
    assert_eq!(
        messages_for(admin, only(|f| f.level = Some(LogLevel::Trace)))
            .await
            .len(),
        6
    );
    assert_eq!(
        messages_for(admin, only(|f| f.grep = Some("orders".into()))).await,
        ["Fetched 3 ORDERS before the error", "fetched 10 orders"],
        "grep ignores case"
    );
    assert_eq!(
        messages_for(admin, only(|f| f.grep = Some("100%".into()))).await,
        Vec::<String>::new(),
        "a % in grep is a plain character"
    );
    assert_eq!(
        messages_for(admin, only(|f| f.trigger = Some(Trigger::Cron)))
            .await
            .len(),
        3
    );
    assert_eq!(
        messages_for(admin, only(|f| f.job_name = Some("export".into()))).await,
        ["HTTP 500 from the shop"]
    );
    assert_eq!(
        messages_for(admin, only(|f| f.state = Some(JobState::Failed))).await,
        ["HTTP 500 from the shop"]
    );
    assert_eq!(
        messages_for(admin, only(|f| f.module = Some("host".into()))).await,
        ["HTTP 500 from the shop"],
        "module: the line's writer (no job here ran on a module)"
    );
    let mut of_job = LogFilter {
        job: Some(h.imported),
        ..LogFilter::default()
    };
    assert_eq!(admin.logs(&of_job).await.unwrap().len(), 3);
    of_job.job = Some(h.waiting);
    assert!(admin.logs(&of_job).await.unwrap().is_empty());

    // since / until are on the line's time.
    let at = all[2].at;
    let window = LogFilter {
        since: Some(at),
        until: Some(at + 1),
        ..LogFilter::default()
    };
    assert!(
        messages_for(admin, window)
            .await
            .contains(&"HTTP 500 from the shop".to_string())
    );
    let future = LogFilter {
        since: Some(at + 3_600_000),
        ..LogFilter::default()
    };
    assert!(admin.logs(&future).await.unwrap().is_empty());

    // Paging back: each page starts below the last one's smallest id.
    let mut page = LogFilter {
        limit: 4,
        ..LogFilter::default()
    };
    let one = admin.logs(&page).await.unwrap();
    page.before = one.last().map(|r| r.id);
    let two = admin.logs(&page).await.unwrap();
    let mut seen = messages(&one);
    seen.extend(messages(&two));
    assert_eq!(seen, messages(&all), "two pages hold every line once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_narrows_the_lines_locally_and_through_the_api() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let h = history(&ferry).await;
    filters_hold(&Admin::Local(ferry.clone()), &h).await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let remote = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(viewer)));
    filters_hold(&remote, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_returns_each_new_line_once_in_order() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let h = history(&ferry).await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let remote = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(viewer)));
    let newest = remote.logs(&LogFilter::default()).await.unwrap()[0].id;
    let mut follow = LogFilter {
        after: Some(newest),
        limit: 2,
        ..LogFilter::default()
    };
    assert!(remote.logs(&follow).await.unwrap().is_empty());
    let store = ferry.store();
    store
        .append_job_logs(
            h.waiting,
            &[
                line("info", "shop", "one"),
                line("info", "shop", "two"),
                line("info", "shop", "three"),
            ],
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    loop {
        let batch = remote.logs(&follow).await.unwrap();
        if batch.is_empty() {
            break;
        }
        follow.after = batch.last().map(|r| r.id);
        got.extend(batch.into_iter().map(|r| r.message));
    }
    assert_eq!(got, ["one", "two", "three"], "oldest first, none skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_filter_values_are_refused_with_the_known_ones() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let client = reqwest::Client::new();
    for (query, accepted) in [
        ("level=loud", "warn"),
        ("state=asleep", "pending"),
        ("trigger=magic", "webhook"),
        ("job=seven", "invalid digit"),
    ] {
        let response = client
            .get(format!("{url}/api/logs?{query}"))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(accepted), "{query}: {error}");
    }
    let anonymous = client.get(format!("{url}/api/logs")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

/// `ferry ARGS` on `ferry`'s installation: (success, stdout, stderr).
async fn ferry_cli(ferry: &Ferry, args: &[&str]) -> (bool, String, String) {
    let bin = tokio::task::block_in_place(ferry_bin);
    let mut command = tokio::process::Command::new(bin);
    command.arg("--data-dir").arg(ferry.data_dir());
    if ferry.store().url().starts_with("postgres") {
        command.arg("--database").arg(ferry.store().url());
    }
    for var in ["FERRY_SERVER", "FERRY_TOKEN", "FERRY_LOG", "RUST_LOG"] {
        command.env_remove(var);
    }
    let out = command.args(args).output().await.expect("run ferry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_logs_filters_locally_and_on_a_server() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let h = history(&ferry).await;
    let (ok, text, err) = ferry_cli(&ferry, &["logs", "--level", "warn"]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("ERROR") && lines[0].contains("acme/export"),
        "{text}"
    );
    assert!(lines[0].contains(&format!("#{}", h.exported)), "{text}");
    assert!(
        lines[1].contains("WARN") && lines[1].contains("slow answer"),
        "{text}"
    );

    let (ok, text, err) = ferry_cli(
        &ferry,
        &["--json", "logs", "--instance", "beta", "--grep", "ORDERS"],
    )
    .await;
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 1, "{text}");
    assert_eq!(listed[0]["job_id"], h.retrying);
    assert_eq!(listed[0]["trigger"], "webhook");

    let (ok, _, err) = ferry_cli(&ferry, &["logs", "--level", "loud"]).await;
    assert!(!ok);
    assert!(
        err.contains("loud") && err.contains("trace, debug, info, warn, error"),
        "{err}"
    );
    let (ok, _, err) = ferry_cli(&ferry, &["jobs", "--trigger", "magic"]).await;
    assert!(!ok);
    assert!(err.contains("cron, webhook, button"), "{err}");

    // The same through a server (remote mode).
    let url = start_server(&ferry, ServeOptions::default()).await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let (ok, text, err) = ferry_cli(
        &ferry,
        &[
            "--server",
            &url,
            "--token",
            &viewer,
            "--json",
            "logs",
            "--job-name",
            "import",
            "--trigger",
            "cron",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 3, "{text}");
    assert!(listed.iter().all(|r| r["job_id"] == h.imported));
    let (ok, text, err) = ferry_cli(
        &ferry,
        &[
            "--server",
            &url,
            "--token",
            &viewer,
            "--json",
            "jobs",
            "--job-name",
            "sync",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 1, "{text}");
    assert_eq!(listed[0]["id"], h.waiting);
}
