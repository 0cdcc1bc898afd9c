//! Record triggers: watched fields, filters and timed conditions decide which
//! record events become jobs, with real components.

use crate::cron::{DAY, MIN, jobs_in, lab_with, payload};
use ferry::store::{JobState, now_ms};
use ferry_tests::drain;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_fields_decide_whether_an_update_fires() {
    let (_dir, ferry) = lab_with(
        r#"
[[subscription]]
event = "record.updated"
models = ["ticket"]
job = "ok"
fields = ["status", "assignee"]
"#,
    )
    .await;
    let ticket = ferry
        .create_record("ticket", json!({ "status": "new", "note": "" }), "test")
        .await
        .unwrap();
    ferry
        .write_record(
            "ticket",
            ticket.id,
            json!({ "note": "called back" }),
            "test",
        )
        .await
        .unwrap();
    assert!(
        jobs_in(&ferry, JobState::Pending).await.is_empty(),
        "not watched"
    );

    ferry
        .write_record(
            "ticket",
            ticket.id,
            json!({ "status": "open", "note": "again" }),
            "test",
        )
        .await
        .unwrap();
    let pending = jobs_in(&ferry, JobState::Pending).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        payload(&pending[0])["changed_fields"],
        json!(["note", "status"])
    );
    // Like a job enqueued by hand, it runs on the module version that answers it now.
    let pin = pending[0].pin.as_ref().expect("an event's job is pinned");
    let module = ferry.registry().module("hostile").unwrap().clone();
    assert_eq!(
        (pin.module.as_str(), &pin.hash),
        ("hostile", &module.content_hash)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_decide_which_records_fire() {
    let (_dir, ferry) = lab_with(
        r#"
[[subscription]]
event = "record.created"
models = ["ticket"]
job = "ok"
filter = [["priority", ">=", 3], ["kind", "in", ["bug", "incident"]]]
"#,
    )
    .await;
    for (values, fires) in [
        (json!({ "priority": 5, "kind": "bug" }), true),
        (json!({ "priority": 1, "kind": "bug" }), false),
        (json!({ "priority": 3, "kind": "question" }), false),
        (json!({ "kind": "incident" }), false),
        (json!({ "priority": 3.0, "kind": "incident" }), true),
    ] {
        let before = jobs_in(&ferry, JobState::Pending).await.len();
        ferry
            .create_record("ticket", values.clone(), "test")
            .await
            .unwrap();
        let after = jobs_in(&ferry, JobState::Pending).await.len();
        assert_eq!(after - before, usize::from(fires), "{values}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_condition_runs_after_its_field_and_follows_the_record() {
    let (_dir, ferry) = lab_with(
        r#"
[[subscription]]
event = "record.timed"
models = ["ticket"]
job = "ok"
after = { field = "closed_at", delay = "1d" }
filter = { status = "closed" }
"#,
    )
    .await;
    let store = ferry.store();
    let ticket = ferry
        .create_record("ticket", json!({ "status": "open" }), "test")
        .await
        .unwrap();
    assert!(
        jobs_in(&ferry, JobState::Pending).await.is_empty(),
        "no time yet"
    );

    let closed = now_ms() + 2 * DAY;
    let write = |values: Value| ferry.write_record("ticket", ticket.id, values, "test");
    write(json!({ "status": "closed", "closed_at": closed }))
        .await
        .unwrap();
    let pending = jobs_in(&ferry, JobState::Pending).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].eta, Some(closed + DAY), "a day after closed_at");
    assert_eq!(payload(&pending[0])["name"], json!("record.timed"));
    let planned = pending[0].id;

    // The time changes: the planned job is replaced.
    let reclosed = closed + 3 * 60 * MIN;
    write(json!({ "closed_at": reclosed })).await.unwrap();
    let pending = jobs_in(&ferry, JobState::Pending).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].eta, Some(reclosed + DAY));
    assert_eq!(store.job(planned).await.unwrap().state, JobState::Cancelled);

    // Another change: same time, the job carries the record's new values.
    write(json!({ "note": "customer happy" })).await.unwrap();
    let again = jobs_in(&ferry, JobState::Pending).await;
    assert_eq!((again.len(), again[0].id), (1, pending[0].id));
    assert_eq!(
        payload(&again[0])["payload"]["note"],
        json!("customer happy")
    );

    // Cleared, or no longer matching the filter: cancelled.
    write(json!({ "closed_at": null })).await.unwrap();
    assert!(jobs_in(&ferry, JobState::Pending).await.is_empty());
    write(json!({ "closed_at": reclosed })).await.unwrap();
    assert_eq!(jobs_in(&ferry, JobState::Pending).await.len(), 1);
    write(json!({ "status": "open" })).await.unwrap();
    assert!(jobs_in(&ferry, JobState::Pending).await.is_empty());

    // Due already: it runs now, once, however often the record changes after.
    let long_ago = now_ms() - 3 * DAY;
    write(json!({ "status": "closed", "closed_at": long_ago }))
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 0));
    write(json!({ "note": "reopened the file" })).await.unwrap();
    assert!(
        jobs_in(&ferry, JobState::Pending).await.is_empty(),
        "fired once"
    );

    // Deleted: its planned job goes with it.
    write(json!({ "closed_at": closed })).await.unwrap();
    assert_eq!(jobs_in(&ferry, JobState::Pending).await.len(), 1);
    ferry
        .unlink_record("ticket", ticket.id, "test")
        .await
        .unwrap();
    assert!(jobs_in(&ferry, JobState::Pending).await.is_empty());
}
