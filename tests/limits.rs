//! What a guest produces is bounded: results, error text, jobs, events,
//! record writes and links per run, names and keys, the snooze a run may
//! cause, the manifest's size. Going over a limit fails with an error that
//! names it; the operator changes the limits in `ferry.toml`.

use ferry::engine::EngineConfig;
use ferry::store::{JobRow, JobState};
use ferry::{Ferry, FerryOptions};
use ferry_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

fn small(config: &mut EngineConfig) {
    tight(config);
    config.limits.max_jobs_per_run = 5;
    config.limits.max_events_per_run = 5;
    config.limits.max_record_writes_per_run = 20;
    config.limits.max_links_per_run = 5;
    config.limits.max_result_bytes = bytesize_kib(64);
}

fn bytesize_kib(n: u64) -> ferry::limits::ByteSize {
    ferry::limits::ByteSize::kib(n)
}

async fn run(ferry: &Ferry, name: &str, payload: Value) -> JobRow {
    run_lab_job(ferry, name, payload).await
}

fn failed_naming(job: &JobRow, limit: &str) {
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert_eq!(job.error_kind.as_deref(), Some("final"), "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(
        error.contains(&format!("`{limit}`")) && error.contains("ferry.toml"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_produces_no_more_than_its_limits() {
    let (_dir, ferry) = hostile_lab_with(small).await;
    let job = run(&ferry, "produce", json!({ "what": "jobs", "count": 50 })).await;
    failed_naming(&job, "max_jobs_per_run");
    assert_eq!(
        ferry.store().count_jobs(JobState::Done).await.unwrap(),
        5,
        "the 5 jobs it could enqueue ran"
    );
    let job = run(&ferry, "produce", json!({ "what": "records", "count": 50 })).await;
    failed_naming(&job, "max_record_writes_per_run");
    assert_eq!(ferry.store().count_records("note").await.unwrap(), 20);
    let job = run(&ferry, "produce", json!({ "what": "links", "count": 50 })).await;
    failed_naming(&job, "max_links_per_run");
    let job = run(&ferry, "produce", json!({ "what": "events", "count": 50 })).await;
    failed_naming(&job, "max_events_per_run");
    let job = run(
        &ferry,
        "produce",
        json!({ "what": "result", "count": 200_000 }),
    )
    .await;
    failed_naming(&job, "max_result_bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_error_is_kept_cut_to_its_limit() {
    let (_dir, ferry) = hostile_lab_with(small).await;
    let job = run(
        &ferry,
        "produce",
        json!({ "what": "error", "count": 10_000_000 }),
    )
    .await;
    assert_eq!(job.state, JobState::Failed);
    let error = job.error.unwrap();
    assert!(error.len() < 9 * 1024, "{} bytes kept", error.len());
    assert!(error.contains("more bytes cut: limit `max_error_bytes`"));
    let logs = ferry.store().job_logs(job.id).await.unwrap();
    assert!(logs.iter().all(|l| l.message.len() < 10 * 1024));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_keys_are_bounded_and_printable() {
    let (_dir, ferry) = hostile_lab_with(small).await;
    for payload in [
        json!({ "what": "jobs", "count": 1, "channel": "root.\u{1b}[8m" }),
        json!({ "what": "jobs", "count": 1, "key": "k".repeat(600) }),
        json!({ "what": "jobs", "count": 1, "key": "line\nbreak" }),
    ] {
        let job = run(&ferry, "produce", payload.clone()).await;
        assert_eq!(
            (job.state, job.error_kind.as_deref()),
            (JobState::Failed, Some("final")),
            "{payload}: {job:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_alone_cannot_snooze_its_instance() {
    let (_dir, ferry) = hostile_lab().await;
    // No remote answered: the delay it asks for holds its own job only.
    let job = run(&ferry, "slow-down", json!({ "retry_after_ms": 86_400_000 })).await;
    assert_eq!(job.state, JobState::Pending);
    assert!(ferry.store().snoozes().await.unwrap().is_empty());
    let other = run(&ferry, "ok", json!({})).await;
    assert_eq!(other.state, JobState::Done, "the instance is not held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_over_its_limit_is_refused_naming_it() {
    let (dir, ferry) = fresh(|_| {}).await;
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let manifest = dir.path().join("connector.toml");
    let padding = format!("# {}\n", "x".repeat(100)).repeat(5_000);
    std::fs::write(&manifest, format!("{text}\n{padding}")).unwrap();
    let e = ferry.install(&manifest, &hostile.wasm).await.unwrap_err();
    assert!(e.to_string().contains("`max_manifest_bytes`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_sets_limits_in_ferry_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ferry.toml"),
        "[limits]\ntime_budget = \"7s\"\nmax_jobs_per_run = 2\nmax_snooze = \"10m\"\n\
         [limits.queries]\nmax_filters = 3\n",
    )
    .unwrap();
    let mut options = FerryOptions::new(dir.path());
    options.database_url = test_database().await;
    let ferry = Ferry::open_with(options).await.unwrap();
    let config = ferry.engine().config();
    assert_eq!(config.time_budget, Duration::from_secs(7));
    assert_eq!(config.limits.max_jobs_per_run, 2);
    assert_eq!(config.limits.max_snooze, Duration::from_secs(600));
    assert_eq!(config.guest_queries.max_filters, 3);
    assert_eq!(config.guest_queries.max_like_bytes, 128, "default kept");
    std::fs::write(dir.path().join("ferry.toml"), "[limits]\nmax_job = 2\n").unwrap();
    let e = Ferry::open(dir.path()).await.err().unwrap().to_string();
    assert!(e.contains("ferry.toml") && e.contains("max_job"), "{e}");
}
