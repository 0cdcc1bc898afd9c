//! Bad input is refused with a clear message, and a misbehaving guest fails its
//! own job while the host goes on with the next.

use ferry::store::{JobFilter, JobState, NewJob};
use ferry::{Error, Ferry, FerryOptions};
use ferry_tests::*;
use serde_json::{Value, json};

async fn job(ferry: &Ferry, name: &str, payload: Value) -> i64 {
    let mut job = NewJob::new("lab", name, &payload);
    job.max_retries = 0;
    ferry.enqueue(&job).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_manifest_is_refused_naming_file_key_and_reason() {
    let (dir, ferry) = fresh(|_| {}).await;
    let shop = built("shop");
    let text = std::fs::read_to_string(&shop.manifest).unwrap();
    let bad = dir.path().join("connector.toml");
    std::fs::write(
        &bad,
        text.replace("parent = \"shop\"", "parent = \"shop@@1\""),
    )
    .unwrap();
    let err = ferry
        .install(&bad, &shop.wasm)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("connector.toml")
            && err.contains("[[backend]] #2 parent")
            && err.contains("shop@@1"),
        "{err}"
    );

    std::fs::write(&bad, text.replace("priority = 4", "priority = \"urgent\"")).unwrap();
    let err = ferry
        .install(&bad, &shop.wasm)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("connector.toml") && err.contains("line") && err.contains("priority"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_components_are_refused() {
    let (dir, ferry) = fresh(|_| {}).await;
    let manifest = built("shop").manifest;
    let random = dir.path().join("random.wasm");
    std::fs::write(&random, b"definitely not wasm").unwrap();
    let err = ferry.install(&manifest, &random).await.unwrap_err();
    assert!(matches!(err, Error::NotAComponent { .. }), "{err}");
    assert!(err.to_string().contains("random.wasm"), "{err}");

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let err = ferry
        .install(&manifest, &core)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("core WebAssembly module") && err.contains("wasm32-wasip2"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_of_another_world_is_refused() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let hostile = built("hostile");
    let other_world = hostile.wasm.with_file_name("not-a-connector.wasm");
    assert!(
        other_world.exists(),
        "the hostile crate also builds a wasi:cli program"
    );
    let err = ferry
        .install(&hostile.manifest, &other_world)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongWorld { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("ferry:connector/guest@0.1.3") && text.contains("wasi:cli/run"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_that_promises_a_missing_job_is_refused() {
    let (dir, ferry) = fresh(|_| {}).await;
    let hostile = built("hostile");
    let manifest = dir.path().join("connector.toml");
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\n[[subscription]]\nevent = \"record.updated\"\njob = \"does-not-exist\"\n"),
    )
    .unwrap();
    let err = ferry.install(&manifest, &hostile.wasm).await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_guest_fails_its_job_with_the_message_and_the_next_job_runs() {
    let (_dir, ferry) = hostile_lab().await;
    let panic = job(&ferry, "panic", json!({ "why": "testing" })).await;
    let ok = job(&ferry, "ok", json!({ "n": 1 })).await;
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 1));
    let failed = ferry.store().job(panic).await.unwrap();
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.unwrap();
    assert!(
        error.contains("hostile guest panicked on purpose: testing"),
        "{error}"
    );
    let done = ferry.store().job(ok).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result.as_deref(), Some(r#"{"echo":{"n":1}}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bombs_and_endless_loops_are_stopped_with_a_reason() {
    let (_dir, ferry) = hostile_lab().await;
    let grow = job(&ferry, "grow", json!({})).await;
    let spin = job(&ferry, "spin", json!({})).await;
    let ok = job(&ferry, "ok", json!({})).await;
    drain(&ferry, |_| {}).await.unwrap();
    let grow = ferry.store().job(grow).await.unwrap();
    assert!(
        grow.error
            .as_deref()
            .unwrap_or_default()
            .contains("memory limit 32 MiB exceeded"),
        "{grow:?}"
    );
    let spin = ferry.store().job(spin).await.unwrap();
    assert!(
        spin.error
            .as_deref()
            .unwrap_or_default()
            .contains("time budget"),
        "{spin:?}"
    );
    assert_eq!(ferry.store().job(ok).await.unwrap().state, JobState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_grants_no_network_env_or_files() {
    let (_dir, ferry) = hostile_lab().await;
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let fetch = job(
        &ferry,
        "fetch",
        json!({ "url": format!("{url}/_admin/stats") }),
    )
    .await;
    let env = job(&ferry, "read-env", json!({})).await;
    drain(&ferry, |_| {}).await.unwrap();
    let fetch = ferry.store().job(fetch).await.unwrap();
    assert_eq!(fetch.error_kind.as_deref(), Some("denied"), "{fetch:?}");
    assert!(fetch.error.unwrap().contains("allowed_hosts"));
    let env = ferry.store().job(env).await.unwrap();
    assert_eq!(
        env.result.as_deref(),
        Some(r#"{"env":[],"read_file":false}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_that_nothing_answers_names_the_chain() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 1, 0, 0).await;
    let err = ferry
        .enqueue(&NewJob::new("acme", "no-such-job", &json!({})))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("shop@2.0 → shop@1.7 → shop") && err.contains("no-such-job"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_can_be_added_and_removed_at_runtime() {
    let (_dir, ferry) = hostile_lab().await;
    let sub = job(&ferry, "subscribe", json!({})).await;
    drain(&ferry, |_| {}).await.unwrap();
    let id: Value =
        serde_json::from_str(&ferry.store().job(sub).await.unwrap().result.unwrap()).unwrap();

    ferry
        .create_record("note", json!({ "text": "hello" }), "test")
        .await
        .unwrap();
    let queued = ferry
        .store()
        .list_jobs(&JobFilter {
            state: Some(JobState::Pending),
            instance: Some("lab".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        queued.len(),
        1,
        "record.created on note enqueued the subscribed job"
    );
    assert_eq!((queued[0].name.as_str(), queued[0].priority), ("ok", 3));
    drain(&ferry, |_| {}).await.unwrap();

    job(&ferry, "unsubscribe", json!({ "id": id["id"] })).await;
    drain(&ferry, |_| {}).await.unwrap();
    ferry
        .create_record("note", json!({ "text": "again" }), "test")
        .await
        .unwrap();
    assert_eq!(
        ferry.store().count_jobs(JobState::Pending).await.unwrap(),
        0,
        "nothing subscribed any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_search_local_records_and_no_export_writes_fire_nothing() {
    let (_dir, ferry) = hostile_lab().await;
    job(&ferry, "subscribe", json!({})).await;
    drain(&ferry, |_| {}).await.unwrap();
    let notes = job(&ferry, "notes", json!({ "count": 7 })).await;
    drain(&ferry, |_| {}).await.unwrap();
    let done = ferry.store().job(notes).await.unwrap();
    assert_eq!(
        done.result.as_deref(),
        Some(r#"{"even_above_1":[2,4,6]}"#),
        "{done:?}"
    );
    // The notes were created with no-export: the subscription did not fire.
    let ok_jobs = ferry
        .store()
        .list_jobs(&JobFilter {
            instance: Some("lab".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ok_jobs.iter().all(|j| j.name != "ok"), "{ok_jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_installed_by_another_process_is_picked_up_without_a_restart() {
    let (dir, worker_side) = fresh(|_| {}).await;
    // Another `ferry install`, on the same data directory and database.
    let mut options = FerryOptions::new(dir.path());
    options.database_url = Some(worker_side.store().url().to_string());
    let installer = Ferry::open_with(options).await.unwrap();
    install(&installer, &["hostile"]).await;
    installer
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    assert!(
        worker_side
            .enqueue(&NewJob::new("lab", "ok", &json!({})))
            .await
            .is_err(),
        "not seen yet"
    );
    assert!(
        worker_side.refresh().await.unwrap(),
        "the change is noticed"
    );
    assert!(!worker_side.refresh().await.unwrap(), "and loaded once");
    let id = worker_side
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    drain(&worker_side, |_| {}).await.unwrap();
    assert_eq!(
        worker_side.store().job(id).await.unwrap().state,
        JobState::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_job_reads_its_payload_or_fails_naming_the_field() {
    let (_dir, ferry) = ferry_tests::hostile_lab().await;
    let done =
        ferry_tests::run_lab_job(&ferry, "typed-sum", json!({ "numbers": [1, 2, 39] })).await;
    assert_eq!(
        done.result.as_deref(),
        Some("{\"sum\":42}"),
        "{:?}",
        done.error
    );
    let bad = ferry_tests::run_lab_job(&ferry, "typed-sum", json!({ "numbers": "many" })).await;
    let error = bad.error.unwrap_or_default();
    assert!(
        error.contains("job `typed-sum`: the payload does not fit")
            && error.contains("expected a sequence"),
        "{error}"
    );
    assert_eq!(bad.error_kind.as_deref(), Some("final"));
}
