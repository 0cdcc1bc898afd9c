//! Events are walls between instances: only the host fires `record.*`
//! events; a module emits only the custom events it declares, they reach the
//! subscribers of its own instance (unless a subscription hears them `from =
//! "any"` instance), and every job they give says who emitted them.

use ferry::Ferry;
use ferry::store::{JobFilter, JobRow, JobState};
use ferry_tests::*;
use serde_json::{Value, json};
use tempfile::TempDir;

/// `hostile` with subscriptions that a forged event would trigger, as
/// instances `lab` and `lab2`.
async fn two_labs() -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(tight).await;
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let subscriptions = r#"
[[subscription]]
event = "record.deleted"
models = ["customer"]
job = "ok"

[[subscription]]
event = "record.created"
models = ["customer"]
job = "ok"
filter = { vip = true }

[[subscription]]
event = "record.timed"
models = ["customer"]
job = "ok"
after = { field = "renew_at", delay = "1d" }

[[subscription]]
event = "hostile.ping"
job = "ok"

[[subscription]]
event = "hostile.broadcast"
job = "ok"
from = "any"
"#;
    let manifest = dir.path().join("connector.toml");
    std::fs::write(&manifest, format!("{text}\n{subscriptions}")).unwrap();
    ferry.install(&manifest, &hostile.wasm).await.unwrap();
    for name in ["lab", "lab2"] {
        ferry
            .add_instance(name, "hostile", Default::default())
            .await
            .unwrap();
    }
    (dir, ferry)
}

/// Run job `emit` on `lab` with `payload`; the job when it ended.
async fn emit(ferry: &Ferry, payload: Value) -> JobRow {
    run_lab_job(ferry, "emit", payload).await
}

async fn jobs_named(ferry: &Ferry, name: &str) -> Vec<JobRow> {
    let all = ferry
        .store()
        .list_jobs(&JobFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    all.into_iter().filter(|j| j.name == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_cannot_fire_record_events() {
    let (_dir, ferry) = two_labs().await;
    for name in [
        "record.deleted",
        "record.created",
        "record.updated",
        "record.timed",
    ] {
        let job = emit(
            &ferry,
            json!({
                "name": name, "model": "customer", "id": 42,
                "payload": { "vip": true, "renew_at": "2030-01-01" },
            }),
        )
        .await;
        assert_eq!(job.state, JobState::Failed, "{name}: {job:?}");
        assert_eq!(job.error_kind.as_deref(), Some("denied"), "{name}");
        assert!(
            job.error
                .unwrap_or_default()
                .contains("only the host fires"),
            "{name}"
        );
    }
    assert!(
        jobs_named(&ferry, "ok").await.is_empty(),
        "no subscriber of any instance was reached"
    );
    // The host's own record events still reach every instance.
    ferry
        .create_record("customer", json!({ "vip": true }), "alice")
        .await
        .unwrap();
    let mut reached: Vec<String> = jobs_named(&ferry, "ok")
        .await
        .into_iter()
        .map(|j| j.instance)
        .collect();
    reached.sort();
    assert_eq!(reached, ["lab", "lab2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_emits_only_the_events_it_declares() {
    let (_dir, ferry) = two_labs().await;
    let job = emit(
        &ferry,
        json!({ "name": "shop.order-paid", "model": "order", "payload": {} }),
    )
    .await;
    assert_eq!(job.error_kind.as_deref(), Some("denied"), "{job:?}");
    let error = job.error.unwrap_or_default();
    assert!(
        error.contains("hostile.ping") && error.contains("Connector::emits"),
        "{error}"
    );
    let job = emit(
        &ferry,
        json!({ "name": "bad name\u{1b}[8m", "model": "order", "payload": {} }),
    )
    .await;
    assert_eq!(job.error_kind.as_deref(), Some("final"), "{job:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_events_reach_their_own_instance_unless_heard_from_any() {
    let (_dir, ferry) = two_labs().await;
    let job = emit(
        &ferry,
        json!({ "name": "hostile.ping", "model": "order", "id": 5, "payload": { "n": 1 } }),
    )
    .await;
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let pings = jobs_named(&ferry, "ok").await;
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0].instance, "lab");
    assert_eq!(
        pings[0].description,
        "hostile.ping on order 5 from lab/hostile"
    );
    let payload: Value = serde_json::from_str(&pings[0].payload).unwrap();
    assert_eq!(
        payload["emitted_by"],
        json!({ "instance": "lab", "module": "hostile" })
    );

    emit(
        &ferry,
        json!({ "name": "hostile.broadcast", "model": "order", "payload": {} }),
    )
    .await;
    let mut heard: Vec<(String, Value)> = jobs_named(&ferry, "ok")
        .await
        .into_iter()
        .filter(|j| j.description.starts_with("hostile.broadcast"))
        .map(|j| {
            let payload: Value = serde_json::from_str(&j.payload).unwrap();
            (j.instance, payload["emitted_by"]["instance"].clone())
        })
        .collect();
    heard.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        heard,
        [
            ("lab".to_string(), json!("lab")),
            ("lab2".to_string(), json!("lab"))
        ]
    );
}
