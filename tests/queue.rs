//! Queue semantics a user relies on: nothing acknowledged is lost, identity keys
//! hold through retries, deleting a local record lets it be imported again.

use ferry::store::{Completion, FailedTry, JobState, NewJob, Recorded, now_ms};
use ferry_tests::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_is_run_again_when_its_lease_expires() {
    let (_dir, ferry) = hostile_lab().await;
    let id = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 7 })))
        .await
        .unwrap();
    // A worker claims it for a minute, then dies without recording anything.
    let claimed = claim(&ferry, 1, Duration::from_secs(60)).await;
    assert_eq!(claimed[0].id, id);
    assert_eq!(
        ferry.store().job(id).await.unwrap().state,
        JobState::Enqueued
    );
    assert_eq!(
        ferry.store().rescue_expired().await.unwrap(),
        0,
        "lease still valid"
    );

    // A run whose lease ran out is rescued, counted as a try, and the next
    // worker finishes the job.
    ferry.store().cancel_job(id).await.unwrap();
    ferry.store().requeue_job(id).await.unwrap();
    let claimed = claim(&ferry, 1, Duration::ZERO).await;
    let stale_token = claimed[0].lease_token.unwrap();
    ferry
        .store()
        .mark_started(&[(id, stale_token, now_ms())])
        .await
        .unwrap();
    // The lease of zero expires as soon as the clock moves on.
    eventually(
        Duration::from_secs(60),
        "the expired claim is rescued",
        async || ferry.store().rescue_expired().await.unwrap() == 1,
    )
    .await;
    drain(&ferry, |_| {}).await.unwrap();
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 2, "the lost run counts as a try");

    // Fencing: the dead worker's late outcome and progress are refused.
    let late = Completion {
        id,
        token: stale_token,
        result: "\"late\"".into(),
        module: None,
        started_at: now_ms(),
        progress: None,
        cursors: Vec::new(),
        messages: Vec::new(),
    };
    assert_eq!(
        ferry
            .store()
            .record_completions(&[late], &[])
            .await
            .unwrap(),
        vec![id]
    );
    assert!(
        !ferry
            .store()
            .set_job_progress(id, stale_token, 10, 5)
            .await
            .unwrap()
    );
    assert_ne!(
        ferry.store().job(id).await.unwrap().result.as_deref(),
        Some("\"late\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_keys_dedupe_waiting_jobs_and_survive_a_retry() {
    let (_dir, ferry) = hostile_lab().await;
    let keyed = |payload| {
        let mut job = NewJob::new("lab", "ok", &payload);
        job.identity_key = Some("product:5".into());
        job
    };
    let store = ferry.store();
    let a = ferry.enqueue(&keyed(json!(1))).await.unwrap();
    assert_eq!(
        ferry.enqueue(&keyed(json!(2))).await.unwrap(),
        a,
        "a second pending job with the key is not stored"
    );
    let claimed = claim(&ferry, 1, Duration::from_secs(60)).await;
    assert_eq!(
        ferry.enqueue(&keyed(json!(2))).await.unwrap(),
        a,
        "nor while the first is enqueued"
    );

    // Once A runs, B may be queued; if A then fails retryably, B does the work.
    let token = claimed[0].lease_token.unwrap();
    store.mark_started(&[(a, token, now_ms())]).await.unwrap();
    let b = ferry.enqueue(&keyed(json!(3))).await.unwrap();
    assert_ne!(a, b);
    let failed = FailedTry {
        id: a,
        token,
        error: "remote down".into(),
        kind: ferry::error::FailureKind::Retryable,
        retry_at: Some(now_ms()),
        count_try: true,
        snooze_until: None,
        module: None,
        started_at: None,
    };
    assert_eq!(
        store.record_failure(&failed, &[]).await.unwrap(),
        Recorded::Now(JobState::Cancelled)
    );
    assert!(
        store
            .job(a)
            .await
            .unwrap()
            .error
            .unwrap()
            .contains(&format!("job {b}"))
    );
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(store.job(b).await.unwrap().state, JobState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locally_deleted_record_is_imported_again() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 3, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    let link = store
        .link_by_external("acme", "product", "2")
        .await
        .unwrap()
        .unwrap();
    ferry
        .unlink_record("product", link.local_id, "test")
        .await
        .unwrap();
    assert!(
        store
            .link_by_external("acme", "product", "2")
            .await
            .unwrap()
            .is_none(),
        "its link went with it"
    );

    // The next batch reads from its cursor: the shop did not change that
    // product, so an incremental import does not bring it back…
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0);
    assert_eq!(store.count_records("product").await.unwrap(), 2);
    // …a full one does (an explicit `since` leaves the cursor where it is).
    let full = NewJob::new(
        "acme",
        "import-batch",
        &json!({ "model": "product", "since": 0 }),
    );
    ferry.enqueue(&full).await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0);
    assert_eq!(store.count_records("product").await.unwrap(), 3);
    assert!(
        store
            .link_by_external("acme", "product", "2")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_requeue_failed_jobs_and_cancel_pending_ones() {
    let (_dir, ferry) = hostile_lab().await;
    let store = ferry.store();
    let mut failing = NewJob::new("lab", "fail-final", &json!({}));
    failing.max_retries = 0;
    let failed = ferry.enqueue(&failing).await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(store.job(failed).await.unwrap().state, JobState::Failed);

    // Requeued: pending again with its tries reset, and the next worker runs it.
    store.requeue_job(failed).await.unwrap();
    let job = store.job(failed).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Pending, 0));
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(store.job(failed).await.unwrap().attempts, 1);

    // Cancelled while pending: never runs. A job that is not pending cannot be cancelled.
    let pending = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    store.cancel_job(pending).await.unwrap();
    let stopped = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    assert_eq!(store.stop_job(stopped).await.unwrap(), JobState::Cancelled);
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.done, 0);
    assert_eq!(store.job(pending).await.unwrap().state, JobState::Cancelled);
    let err = store.cancel_job(failed).await.unwrap_err().to_string();
    assert!(err.contains("only pending or enqueued jobs"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storing_many_jobs_at_once_answers_each_ones_id_in_order() {
    let (_dir, ferry) = hostile_lab().await;
    // Plain jobs travel in batches of 500; keyed ones one by one: a mix,
    // longer than one batch, with an identity twin of an earlier job.
    let mut jobs: Vec<NewJob> = (0..1203)
        .map(|n| NewJob::new("lab", "ok", &json!({ "n": n })))
        .collect();
    for n in [3, 600, 1202] {
        jobs[n].identity_key = Some(format!("key-{n}"));
    }
    let mut twin = NewJob::new("lab", "ok", &json!({ "n": "twin" }));
    twin.identity_key = Some("key-600".into());
    jobs.push(twin);
    let ids = ferry.store().enqueue_many(&jobs).await.unwrap();
    assert_eq!(ids.len(), jobs.len());
    for (n, id) in ids.iter().enumerate().take(1203) {
        let stored = ferry.store().job(*id).await.unwrap();
        assert_eq!(stored.payload, json!({ "n": n }).to_string(), "job {n}");
    }
    assert_eq!(ids[1203], ids[600], "the twin is the waiting job's id");
    // Ids of a second call follow the first's.
    let more = ferry.store().enqueue_many(&jobs[..2]).await.unwrap();
    assert!(more[0] > *ids.iter().max().unwrap() && more[1] == more[0] + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rounds_started_marks_and_outcomes_are_written_together_and_fenced_alike() {
    let (_dir, ferry) = hostile_lab().await;
    let store = ferry.store();
    let ids = enqueue_ok(&ferry, 3).await;
    let claimed = claim(&ferry, 3, Duration::from_secs(60)).await;
    let token = |id: i64| {
        claimed
            .iter()
            .find(|j| j.id == id)
            .and_then(|j| j.lease_token)
            .expect("claimed with a token")
    };
    let (ran, runs, lost) = (ids[0], ids[1], ids[2]);
    let stale = token(lost) + 1_000;
    let completion = |id: i64, token: i64| Completion {
        id,
        token,
        result: "\"ok\"".into(),
        module: None,
        started_at: now_ms(),
        progress: None,
        cursors: Vec::new(),
        messages: Vec::new(),
    };

    // One round of a worker's recorder: `ran` started and finished, `runs`
    // started, and a worker that lost `lost`'s lease reports for it.
    let fenced = store
        .record_started_and_completions(
            &[
                (ran, token(ran), now_ms()),
                (runs, token(runs), now_ms()),
                (lost, stale, now_ms()),
            ],
            &[completion(ran, token(ran)), completion(lost, stale)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(fenced, vec![lost], "only the stale outcome is refused");
    assert_eq!(store.job(ran).await.unwrap().state, JobState::Done);
    assert_eq!(store.job(runs).await.unwrap().state, JobState::Started);
    let untouched = store.job(lost).await.unwrap();
    assert_eq!(
        untouched.state,
        JobState::Enqueued,
        "a stale started mark changes nothing"
    );
    assert_eq!(untouched.result, None);
}
