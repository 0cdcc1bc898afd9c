//! Jobs made of steps run by workers against the shop simulator: the
//! `export-products` item step over thousands of local products (counts and
//! warnings exact), a worker killed with `kill -9` mid-step (the job resumes
//! from its last committed chunk, nothing is sent or warned twice), and an
//! operator's stop, pause and resume at chunk boundaries. Run on SQLite, and
//! on PostgreSQL with `FERRY_TEST_DATABASE`.

use ferry::Ferry;
use ferry::store::{JobState, NewJob, StepRow, StepStatus};
use ferry_tests::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// `n` local products, every `invalid_every`th one with an empty name (the
/// shop would refuse it): how many are invalid. Created in the store
/// directly: no export job follows.
async fn products(ferry: &Ferry, n: usize, invalid_every: usize) -> usize {
    let mut invalid = 0;
    for i in 0..n {
        let bad = i % invalid_every == invalid_every - 1;
        invalid += usize::from(bad);
        let name = if bad { String::new() } else { format!("P{i}") };
        ferry
            .store()
            .create_record("product", json!({ "name": name, "list_price": 10.0 }))
            .await
            .unwrap();
    }
    invalid
}

async fn step(ferry: &Ferry, id: i64, name: &str) -> Option<StepRow> {
    let steps = ferry.store().job_steps(id).await.unwrap();
    steps.into_iter().find(|s| s.step == name)
}

async fn enqueue(ferry: &Ferry, name: &str, payload: serde_json::Value) -> i64 {
    ferry
        .enqueue(&NewJob::new("acme", name, &payload))
        .await
        .expect("enqueue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_step_over_ten_thousand_products_killed_mid_step_resumes_from_its_last_committed_chunk()
 {
    let (dir, ferry, shop) = shop_setup("shop", 0, 0, 0).await;
    let invalid = products(&ferry, 10_000, 270).await;
    assert_eq!(invalid, 37);
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    let started = Instant::now();
    let id = enqueue(&ferry, "export-products", json!({})).await;

    let mut worker = spawn_worker(dir.path(), &ferry, &["--lease", "1s"]);
    eventually(
        Duration::from_secs(300),
        "ten chunks committed",
        async || {
            step(&ferry, id, "export")
                .await
                .is_some_and(|s| s.chunks >= 10)
        },
    )
    .await;
    worker.kill().expect("kill -9");
    worker.wait().unwrap();
    let at_kill = step(&ferry, id, "export").await.unwrap();
    assert!(at_kill.chunks < 100, "killed before the end: {at_kill:?}");

    finish(spawn_worker(
        dir.path(),
        &ferry,
        &["--lease", "3s", "--until-idle", "--wait-leases"],
    ))
    .await;
    eprintln!(
        "exported 10 000 products in {:?}, killed after chunk {}",
        started.elapsed(),
        at_kill.chunks
    );
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    assert!(job.attempts >= 2, "a second try resumed it");
    assert_eq!(job.progress_done, Some(10_000));
    let s = step(&ferry, id, "export").await.unwrap();
    assert_eq!(s.status, StepStatus::Completed);
    assert_eq!(
        (s.read, s.written, s.skipped, s.filtered),
        (10_000, 9_963, 37, 0)
    );
    assert_eq!(s.chunks, 100, "chunks of 100, none committed twice");
    let (kept, dropped) = ferry.store().count_step_warnings(id).await.unwrap();
    assert_eq!((kept, dropped), (37, 0), "no chunk warned twice");
    let data = shop.data();
    assert_eq!(data.count("products"), 9_963, "every product exactly once");
    eprintln!(
        "creates replayed by idempotency key after the kill: {:?}",
        data.replayed.get("products")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pauses_resumes_and_stops_a_step_job_at_chunk_boundaries() {
    let (dir, ferry, shop) = shop_setup("shop", 0, 0, 0).await;
    products(&ferry, 600, 1_000).await;
    shop.data().create_delay_ms = 5;
    let id = enqueue(&ferry, "export-products", json!({ "chunk_size": 20 })).await;
    let store = ferry.store();

    let worker = spawn_worker(dir.path(), &ferry, &["--lease", "2s", "--until-idle"]);
    eventually(
        Duration::from_secs(120),
        "two chunks committed",
        async || {
            step(&ferry, id, "export")
                .await
                .is_some_and(|s| s.chunks >= 2)
        },
    )
    .await;
    store.pause_job(id).await.unwrap();
    eventually(Duration::from_secs(60), "the job paused", async || {
        store.job(id).await.unwrap().state == JobState::Paused
    })
    .await;
    finish(worker).await;
    let paused = step(&ferry, id, "export").await.unwrap();
    assert_eq!(paused.status, StepStatus::Paused);
    assert!(paused.chunks < 30, "{paused:?}");
    assert_eq!(
        shop.data().count("products") as i64,
        paused.written,
        "what the paused step wrote is in the shop, nothing more"
    );

    // Resumed: it continues from its position; then it is stopped.
    assert_eq!(store.resume_job(id).await.unwrap(), JobState::Pending);
    let worker = spawn_worker(dir.path(), &ferry, &["--lease", "2s", "--until-idle"]);
    eventually(Duration::from_secs(120), "two more chunks", async || {
        step(&ferry, id, "export")
            .await
            .is_some_and(|s| s.chunks >= paused.chunks + 2)
    })
    .await;
    store.stop_job(id).await.unwrap();
    finish(worker).await;
    let job = store.job(id).await.unwrap();
    assert_eq!(job.state, JobState::Cancelled, "{job:?}");
    let stopped = step(&ferry, id, "export").await.unwrap();
    assert_eq!(stopped.status, StepStatus::Stopped);
    assert!(stopped.chunks < 30, "stopped before the end: {stopped:?}");

    // Requeued, it finishes from there: every product sent once.
    store.requeue_job(id).await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let done = store.job(id).await.unwrap();
    assert_eq!(done.state, JobState::Done, "{done:?}");
    let s = step(&ferry, id, "export").await.unwrap();
    assert_eq!(
        (s.status, s.read, s.written, s.chunks),
        (StepStatus::Completed, 600, 600, 30)
    );
    assert_eq!(shop.data().count("products"), 600);
}
