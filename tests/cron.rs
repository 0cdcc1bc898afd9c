//! Cron schedules: at their tick, never two runs in flight, one catch-up,
//! operators' overrides, one scheduler across nodes, with real components.
//! (The helpers here also serve the record triggers' tests.)

use ferry::Ferry;
use ferry::store::{Completion, FailedTry, JobFilter, JobRow, JobState, now_ms};
use ferry::triggers::cron::{self, SCHEDULER_LEASE, Scheduler};
use ferry_tests::*;
use serde_json::{Value, json};
use std::time::Duration;
use tempfile::TempDir;

pub(crate) const MIN: i64 = 60_000;
pub(crate) const DAY: i64 = 24 * 60 * MIN;

/// A quarter hour well ahead of now: the clock the tests drive the scheduler
/// with, after anything that really happened.
pub(crate) fn quarter_ahead() -> i64 {
    let t = now_ms() + 60 * MIN;
    t - t.rem_euclid(15 * MIN) + 15 * MIN
}

/// The `hostile` connector, its manifest extended with `declarations`, and a
/// backend instance `lab` on it.
pub(crate) async fn lab_with(declarations: &str) -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(tight).await;
    let built = tokio::task::block_in_place(|| built("hostile"));
    let manifest = std::fs::read_to_string(&built.manifest).unwrap() + declarations;
    let path = dir.path().join("hostile-with-triggers.toml");
    std::fs::write(&path, manifest).unwrap();
    ferry.install(&path, &built.wasm).await.unwrap();
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    (dir, ferry)
}

pub(crate) async fn jobs_in(ferry: &Ferry, state: JobState) -> Vec<JobRow> {
    ferry
        .store()
        .list_jobs(&JobFilter {
            state: Some(state),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
}

pub(crate) fn payload(job: &JobRow) -> Value {
    serde_json::from_str(&job.payload).unwrap()
}

const EVERY_15: &str = r#"
[[cron]]
name = "every-15"
schedule = "*/15 * * * *"
job = "ok"
payload = { n = 1 }
since_key = "since"
priority = 6
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_enqueues_at_its_tick_and_never_twice_in_flight() {
    let (_dir, ferry) = lab_with(EVERY_15).await;
    let store = ferry.store();
    let t0 = quarter_ahead();

    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 - 5 * MIN)
            .await
            .unwrap()
            .is_empty(),
        "first seen: counts from now"
    );
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 - 1)
            .await
            .unwrap()
            .is_empty()
    );
    let first = cron::tick(ferry.store(), &ferry.registry(), t0)
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "at the tick");
    let job = store.job(first[0]).await.unwrap();
    assert_eq!(
        (job.name.as_str(), job.priority, job.user.as_str()),
        ("ok", 6, "cron")
    );
    assert_eq!(job.identity_key.as_deref(), Some("cron:every-15"));
    assert_eq!(
        payload(&job),
        json!({ "n": 1 }),
        "no `since` before a run finished"
    );

    // Pending, then running: the next ticks wait.
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 15 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = claim(&ferry, 1, Duration::from_secs(60)).await;
    let token = claimed[0].lease_token.unwrap();
    store
        .mark_started(&[(first[0], token, now_ms())])
        .await
        .unwrap();
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 30 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.job(first[0]).await.unwrap().state, JobState::Started);

    // Finished: the missed ticks give one catch-up run, for the latest tick.
    let done = Completion {
        id: first[0],
        token,
        result: "{}".into(),
        module: None,
        started_at: now_ms(),
        progress: None,
        cursors: Vec::new(),
        messages: Vec::new(),
    };
    assert!(
        store
            .record_completions(&[done], &[])
            .await
            .unwrap()
            .is_empty()
    );
    let catch_up = cron::tick(ferry.store(), &ferry.registry(), t0 + 31 * MIN)
        .await
        .unwrap();
    assert_eq!(catch_up.len(), 1);
    let job = store.job(catch_up[0]).await.unwrap();
    assert_eq!(
        payload(&job),
        json!({ "n": 1, "since": t0 }),
        "since the run that finished"
    );
    assert!(job.description.contains("every-15"), "{}", job.description);
    drain(&ferry, |_| {}).await.unwrap();
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 44 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(jobs_in(&ferry, JobState::Done).await.len(), 2);

    // A run that failed does not move `since`: its changes are asked for again.
    let third = cron::tick(ferry.store(), &ferry.registry(), t0 + 45 * MIN)
        .await
        .unwrap();
    assert_eq!(
        payload(&store.job(third[0]).await.unwrap())["since"],
        json!(t0 + 30 * MIN)
    );
    let claimed = claim(&ferry, 1, Duration::from_secs(60)).await;
    let failed = FailedTry {
        id: third[0],
        token: claimed[0].lease_token.unwrap(),
        error: "shop down".into(),
        kind: ferry::error::FailureKind::Final,
        retry_at: None,
        count_try: true,
        snooze_until: None,
        module: None,
        started_at: None,
    };
    store.record_failure(&failed, &[]).await.unwrap();
    let fourth = cron::tick(ferry.store(), &ferry.registry(), t0 + 60 * MIN)
        .await
        .unwrap();
    assert_eq!(
        payload(&store.job(fourth[0]).await.unwrap())["since"],
        json!(t0 + 30 * MIN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_change_a_schedule_or_switch_it_off_per_instance() {
    let (dir, ferry) = lab_with(EVERY_15).await;
    let t0 = quarter_ahead();
    cron::tick(ferry.store(), &ferry.registry(), now_ms())
        .await
        .unwrap();

    let listed = cron::list(ferry.store(), &ferry.registry(), None, now_ms())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].instance.as_str(), listed[0].name.as_str()),
        ("lab", "every-15")
    );
    assert_eq!(listed[0].schedule.as_deref(), Some("*/15 * * * *"));
    assert!(!listed[0].overridden);
    // `ferry cron list` shows the same, through the admin operations.
    let cli = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--database")
        .arg(ferry.store().url())
        .args(["--json", "cron", "list"])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let shown: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(
        (
            &shown[0]["instance"],
            &shown[0]["name"],
            &shown[0]["schedule"]
        ),
        (&json!("lab"), &json!("every-15"), &json!("*/15 * * * *"))
    );

    let every_5 = "*/5 * * * *".parse().unwrap();
    let entry = cron::set(
        ferry.store(),
        &ferry.registry(),
        "lab",
        "every-15",
        &every_5,
    )
    .await
    .unwrap();
    assert_eq!(
        (entry.schedule.as_deref(), entry.overridden),
        (Some("*/5 * * * *"), true)
    );
    assert_eq!(entry.declared, "*/15 * * * *");
    assert_eq!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 5 * MIN)
            .await
            .unwrap()
            .len(),
        1,
        "the override's tick"
    );
    drain(&ferry, |_| {}).await.unwrap();

    let entry = cron::set(
        ferry.store(),
        &ferry.registry(),
        "lab",
        "every-15",
        &"off".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(entry.schedule, None);
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 60 * MIN)
            .await
            .unwrap()
            .is_empty(),
        "off"
    );

    cron::set(
        ferry.store(),
        &ferry.registry(),
        "lab",
        "every-15",
        &"default".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 70 * MIN)
            .await
            .unwrap()
            .len(),
        1,
        "back to */15: the tick of t0 + 60 min, due since it was set"
    );
    drain(&ferry, |_| {}).await.unwrap();
    assert!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 74 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cron::tick(ferry.store(), &ferry.registry(), t0 + 75 * MIN)
            .await
            .unwrap()
            .len(),
        1
    );

    let err = cron::set(
        ferry.store(),
        &ferry.registry(),
        "lab",
        "nightly",
        &"off".parse().unwrap(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("lab/nightly") && err.contains("every-15"),
        "{err}"
    );
    assert!(
        cron::set(
            ferry.store(),
            &ferry.registry(),
            "nowhere",
            "every-15",
            &"off".parse().unwrap()
        )
        .await
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_scheduler_holds_the_lease_across_nodes() {
    let (dir, first_node) = lab_with(EVERY_15).await;
    let mut options = ferry::FerryOptions::new(dir.path());
    options.database_url = Some(first_node.store().url().to_string());
    let second_node = Ferry::open_with(options).await.unwrap();
    let (a, b) = (Scheduler::new(), Scheduler::new());
    let t = now_ms();

    assert!(
        a.step(first_node.store(), first_node.modules(), t)
            .await
            .unwrap()
            .is_some(),
        "takes it"
    );
    assert!(
        b.step(second_node.store(), second_node.modules(), t)
            .await
            .unwrap()
            .is_none(),
        "held"
    );
    assert!(
        a.step(first_node.store(), first_node.modules(), t + 20_000)
            .await
            .unwrap()
            .is_some(),
        "renews it"
    );
    assert!(
        b.step(second_node.store(), second_node.modules(), t + 45_000)
            .await
            .unwrap()
            .is_none(),
        "renewed"
    );
    assert_eq!(
        first_node
            .store()
            .lease_holder(SCHEDULER_LEASE, t + 45_000)
            .await
            .unwrap()
            .as_deref(),
        Some(a.holder())
    );
    // The first node stops renewing: the second takes over after the expiry.
    assert!(
        b.step(second_node.store(), second_node.modules(), t + 51_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        a.step(first_node.store(), first_node.modules(), t + 51_000)
            .await
            .unwrap()
            .is_none()
    );
    // Given back: taken at once.
    b.release(second_node.store()).await.unwrap();
    assert!(
        a.step(first_node.store(), first_node.modules(), t + 52_000)
            .await
            .unwrap()
            .is_some()
    );
    a.release(first_node.store()).await.unwrap();

    // The scheduler of `ferry worker` holds it while it runs and gives it back
    // when stopped.
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(cron::run_scheduler(
        first_node.store().clone(),
        first_node.modules().clone(),
        stop.clone(),
    ));
    let store = second_node.store();
    eventually(
        Duration::from_secs(120),
        "the scheduler takes the lease",
        async || {
            store
                .lease_holder(SCHEDULER_LEASE, now_ms())
                .await
                .unwrap()
                .is_some()
        },
    )
    .await;
    assert!(
        b.step(second_node.store(), second_node.modules(), now_ms())
            .await
            .unwrap()
            .is_none()
    );
    stop.cancel();
    running.await.unwrap();
    assert_eq!(
        store.lease_holder(SCHEDULER_LEASE, now_ms()).await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_imports_changed_products_every_quarter_hour() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 5, 0, 0).await;
    let listed = cron::list(ferry.store(), &ferry.registry(), Some("acme"), now_ms())
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|e| (e.name.as_str(), e.job.as_str(), e.schedule.as_deref()))
            .collect::<Vec<_>>(),
        [("import-products", "import-batch", Some("*/15 * * * *"))],
        "declared by the parent module, in effect for a shop@2.0 instance"
    );
    let t0 = quarter_ahead();
    cron::tick(ferry.store(), &ferry.registry(), t0 - MIN)
        .await
        .unwrap();
    let batch = cron::tick(ferry.store(), &ferry.registry(), t0)
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 5);
    assert_eq!(
        ferry.store().job(batch[0]).await.unwrap().result.as_deref(),
        Some(r#"{"enqueued":5}"#)
    );

    // The next run asks only for what changed since the batch's committed
    // cursor (it keeps its own: the schedule passes no `since`).
    let next = cron::tick(ferry.store(), &ferry.registry(), t0 + 15 * MIN)
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let job = ferry.store().job(next[0]).await.unwrap();
    assert_eq!(payload(&job), json!({ "model": "product" }));
    assert_eq!(job.result.as_deref(), Some(r#"{"enqueued":0}"#));

    // Only a change of a field the shop keeps is exported.
    let product = ferry
        .store()
        .search_records("product", &[], Some(1), 0)
        .await
        .unwrap()
        .remove(0);
    ferry
        .write_record(
            "product",
            product.id,
            json!({ "price_band": "clearance" }),
            "test",
        )
        .await
        .unwrap();
    assert!(jobs_in(&ferry, JobState::Pending).await.is_empty());
    ferry
        .write_record(
            "product",
            product.id,
            json!({ "qty_available": 999 }),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        jobs_in(&ferry, JobState::Pending).await[0].name,
        "export-record"
    );
}
