//! What decides when a job runs: priority, eta, retry patterns, channels,
//! dependencies, a remote's Retry-After (the instance is snoozed), an
//! operator's stop, and the module version a job was enqueued for.

use ferry::queue::{Channels, WorkerConfig};
use ferry::store::{JobState, NewJob, PinPolicy, RetryPattern, now_ms};
use ferry_tests::*;
use serde_json::json;
use std::time::Duration;

fn ok(payload: serde_json::Value) -> NewJob {
    NewJob::new("lab", "ok", &payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lower_priority_numbers_run_first_and_etas_are_waited_for() {
    let (_dir, ferry) = hostile_lab().await;
    let mut late = ok(json!("late"));
    late.eta = Some(now_ms() + 3_600_000);
    let late = ferry.enqueue(&late).await.unwrap();
    let mut low = ok(json!("low"));
    low.priority = 20;
    let low = ferry.enqueue(&low).await.unwrap();
    let mut high = ok(json!("high"));
    high.priority = 1;
    let high = ferry.enqueue(&high).await.unwrap();

    let first = claim(&ferry, 1, Duration::from_secs(60)).await;
    assert_eq!(first[0].id, high, "enqueued last, runs first");
    let rest = claim(&ferry, 10, Duration::from_secs(60)).await;
    let ids: Vec<i64> = rest.iter().map(|j| j.id).collect();
    assert_eq!(
        ids,
        vec![low],
        "the job with an eta in an hour is not claimed"
    );
    assert_eq!(
        ferry.store().job(late).await.unwrap().state,
        JobState::Pending
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_a_priority_jobs_run_in_the_order_they_became_due() {
    let (_dir, ferry) = hostile_lab().await;
    let waiting = ferry.enqueue(&ok(json!("waiting"))).await.unwrap();
    let mut overdue = ok(json!("overdue"));
    overdue.eta = Some(now_ms() - 60_000);
    let overdue = ferry.enqueue(&overdue).await.unwrap();
    let mut tomorrow = ok(json!("tomorrow"));
    tomorrow.eta = Some(now_ms() + 86_400_000);
    for _ in 0..50 {
        ferry.enqueue(&tomorrow).await.unwrap();
    }
    let latest = ferry.enqueue(&ok(json!("latest"))).await.unwrap();

    let claimed = claim(&ferry, 10, Duration::from_secs(60)).await;
    let ids: Vec<i64> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(
        ids,
        vec![overdue, waiting, latest],
        "due a minute ago, then enqueued first, then enqueued last; none of the 50 jobs due tomorrow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_pattern_sets_when_a_failed_job_runs_again() {
    let (_dir, ferry) = hostile_lab().await;
    let mut job = NewJob::new("lab", "fail-retryable", &json!({}));
    job.retry_pattern = Some(RetryPattern::parse("1:2h,3:1d").unwrap());
    let id = ferry.enqueue(&job).await.unwrap();
    let before = now_ms();
    ferry
        .run_worker(
            &WorkerConfig {
                until_idle: true,
                idle_horizon: Duration::ZERO,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Pending, 1));
    let delay = job.eta.unwrap() - before;
    // Two hours (the default backoff would have said about ten seconds).
    assert!(
        (7_190_000..=7_300_000).contains(&delay),
        "retry in {delay} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_capacity_caps_jobs_running_at_once_across_workers() {
    let (_dir, ferry) = hostile_lab().await;
    for i in 0..4 {
        let mut job = ok(json!(i));
        job.channel = "root.shop".into();
        ferry.enqueue(&job).await.unwrap();
    }
    let mut other = ok(json!("crm"));
    other.channel = "root.crm".into();
    let other = ferry.enqueue(&other).await.unwrap();
    let channels: Channels = "root.shop:2".parse().unwrap();
    let claim_capped = |worker: &'static str| {
        let (ferry, channels) = (ferry.clone(), channels.clone());
        async move {
            ferry
                .store()
                .claim_jobs_within(worker, 10, Duration::from_secs(60), |load, c| {
                    channels.pick(load, c, 10)
                })
                .await
                .unwrap()
        }
    };
    let a = claim_capped("worker-a").await;
    let shop: Vec<_> = a.iter().filter(|j| j.channel == "root.shop").collect();
    assert_eq!(shop.len(), 2, "two shop jobs fit the channel");
    assert!(
        a.iter().any(|j| j.id == other),
        "other channels are not held back"
    );
    // A second worker finds the channel full: the jobs the first holds count.
    assert!(claim_capped("worker-b").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waits_for_the_jobs_and_groups_it_depends_on() {
    let (_dir, ferry) = hostile_lab().await;
    let mut first = ok(json!("first"));
    first.group = Some("imports".into());
    let first = ferry.enqueue(&first).await.unwrap();
    let mut second = ok(json!("second"));
    second.group = Some("imports".into());
    second.priority = 50;
    let second = ferry.enqueue(&second).await.unwrap();
    let mut after_all = ok(json!("export"));
    after_all.after_groups = vec!["imports".into()];
    after_all.priority = 0;
    let after_all = ferry.enqueue(&after_all).await.unwrap();
    let mut after_first = ok(json!("then"));
    after_first.depends_on = vec![first];
    after_first.priority = 0;
    let after_first = ferry.enqueue(&after_first).await.unwrap();

    // What a job waits for is shown to operators (`ferry jobs show`, the
    // API, the console), with where each dependency stands.
    let admin = ferry::admin::Admin::Local(ferry.clone());
    let waits = admin.job(after_all).await.unwrap().dependencies;
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0].group.as_deref(), Some("imports"));
    assert_eq!(waits[0].group_open, 2, "both imports are pending");
    let waits = admin.job(after_first).await.unwrap().dependencies;
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0].job, Some(first));
    assert_eq!(waits[0].job_state, Some(JobState::Pending));
    assert!(admin.job(first).await.unwrap().dependencies.is_empty());

    // Best priority first, but the dependent jobs are not ready.
    let claimed: Vec<i64> = claim(&ferry, 10, Duration::from_secs(60))
        .await
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(claimed, vec![first, second]);
    ferry.store().cancel_job(second).await.unwrap();
    // A cancelled dependency fails what waits for it, saying why.
    let failed = ferry.store().job(after_all).await.unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(failed.error.unwrap().contains(&format!("job {second}")));
    assert_eq!(
        ferry.store().job(after_first).await.unwrap().state,
        JobState::Pending
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_jobs_runs_in_order() {
    let (_dir, ferry) = hostile_lab().await;
    let a = ferry.enqueue(&ok(json!("a"))).await.unwrap();
    let mut b = ok(json!("b"));
    b.depends_on = vec![a];
    b.priority = 0;
    let b = ferry.enqueue(&b).await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let (a, b) = (
        ferry.store().job(a).await.unwrap(),
        ferry.store().job(b).await.unwrap(),
    );
    assert_eq!((a.state, b.state), (JobState::Done, JobState::Done));
    assert!(
        b.started_at.unwrap() >= a.finished_at.unwrap(),
        "b started after a finished"
    );
}

/// A remote that answers every request 429 with `Retry-After: 86400`; its URL.
async fn remote_asking_to_wait() -> String {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(|| async {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("86400"));
        r
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_asking_to_wait_snoozes_the_whole_instance() {
    let (dir, ferry) = fresh(tight).await;
    let url = remote_asking_to_wait().await;
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let manifest = dir.path().join("connector.toml");
    let text = with_capabilities(&text, &format!("allowed_hosts = [{url:?}]"));
    std::fs::write(&manifest, text).unwrap();
    ferry.install(&manifest, &hostile.wasm).await.unwrap();
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let mut slow = NewJob::new(
        "lab",
        "fetch",
        &json!({ "url": format!("{url}/items"), "check_status": true }),
    );
    slow.priority = 0;
    let slow = ferry.enqueue(&slow).await.unwrap();
    let others: Vec<i64> = {
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(ferry.enqueue(&ok(json!(i))).await.unwrap());
        }
        ids
    };
    let config = WorkerConfig {
        until_idle: true,
        concurrency: 1,
        batch: 1,
        ..Default::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await.unwrap();
    assert_eq!(stats.retried, 1);
    let snoozes = ferry.store().snoozes().await.unwrap();
    assert_eq!(snoozes.len(), 1);
    assert_eq!(snoozes[0].0, "lab");
    let hour = 3_600_000;
    assert!(
        snoozes[0].1 > now_ms() + hour - 100_000 && snoozes[0].1 <= now_ms() + hour,
        "snoozed for max_snooze (an hour), not the day the remote asked"
    );
    // The other jobs of the instance kept their tries: none ran.
    for id in others {
        let job = ferry.store().job(id).await.unwrap();
        assert_eq!(
            (job.state, job.attempts),
            (JobState::Pending, 0),
            "job {id}"
        );
    }
    assert_eq!(ferry.store().job(slow).await.unwrap().attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_stops_cleanly_when_asked() {
    // The default time budget: the job runs until stopped.
    let (_dir, ferry) = hostile_lab_with(|_| {}).await;
    let id = ferry
        .enqueue(&NewJob::new("lab", "until-stopped", &json!({})))
        .await
        .unwrap();
    let worker = {
        let ferry = ferry.clone();
        tokio::spawn(async move {
            let config = WorkerConfig {
                until_idle: true,
                ..Default::default()
            };
            ferry.run_worker(&config, |_| {}).await
        })
    };
    eventually(
        Duration::from_secs(120),
        "the job runs and reports progress",
        async || {
            let job = ferry.store().job(id).await.unwrap();
            job.state == JobState::Started && job.progress_done.unwrap_or(0) > 0
        },
    )
    .await;
    assert_eq!(ferry.store().stop_job(id).await.unwrap(), JobState::Started);
    worker.await.unwrap().unwrap();
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.state, JobState::Done, "{:?}", job.error);
    assert!(job.result.unwrap().contains("stopped_after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_before_an_upgrade_follows_its_pin_policy() {
    let (_dir, ferry) = hostile_lab().await;
    let keep = ferry.enqueue(&ok(json!("keep"))).await.unwrap();
    let mut fail = ok(json!("fail"));
    fail.pin_policy = PinPolicy::Fail;
    let fail = ferry.enqueue(&fail).await.unwrap();
    let mut migrate = ok(json!("migrate"));
    migrate.pin_policy = PinPolicy::Migrate;
    let migrate = ferry.enqueue(&migrate).await.unwrap();
    let old_hash = ferry.store().job(keep).await.unwrap().pin.unwrap().hash;

    // The connector is upgraded (same code, another build: another hash).
    let b = tokio::task::block_in_place(|| built("hostile"));
    let mut bytes = std::fs::read(&b.wasm).unwrap();
    // A custom section changes the content hash, not the behaviour.
    bytes.extend_from_slice(&[0, 8, 7, b'u', b'p', b'g', b'r', b'a', b'd', b'e']);
    let dir = tempfile::tempdir().unwrap();
    let upgraded = dir.path().join("hostile-upgraded.wasm");
    std::fs::write(&upgraded, bytes).unwrap();
    ferry.install(&b.manifest, &upgraded).await.unwrap();

    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    let kept = store.job(keep).await.unwrap();
    assert_eq!(kept.state, JobState::Done);
    assert_eq!(
        kept.module_hash.as_deref(),
        Some(old_hash.as_str()),
        "ran on the version it was enqueued for"
    );
    let failed = store.job(fail).await.unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(failed.error.unwrap().contains("pin policy: fail"));
    let migrated = store.job(migrate).await.unwrap();
    assert_eq!(migrated.state, JobState::Done);
    assert_ne!(migrated.module_hash.as_deref(), Some(old_hash.as_str()));
    let logs = store.job_logs(migrate).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message.contains("pin policy: migrate")),
        "{logs:?}"
    );
}
