//! Topics out: what a guest publishes goes to the outbox with its job's
//! commit, only to the topics its manifest grants, and nothing for a job
//! that failed.

use ferry::store::{JobState, OutboxFilter};
use ferry_tests::{hostile_lab, run_lab_job};
use serde_json::json;

async fn outbox(ferry: &ferry::Ferry) -> Vec<ferry::store::OutboxRow> {
    let mut rows = ferry
        .store()
        .outbox(&OutboxFilter {
            instance: Some("lab".into()),
            unsent: false,
            limit: 1000,
        })
        .await
        .expect("list the outbox");
    rows.reverse();
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn a_done_job_writes_its_messages_to_the_outbox_in_order() {
    let (_dir, ferry) = hostile_lab().await;
    let messages: Vec<_> = (0..5)
        .map(|n| json!({ "topic": "order.imported", "key": format!("k{}", n % 2), "body": { "n": n } }))
        .collect();
    let job = run_lab_job(&ferry, "publish", json!({ "messages": messages })).await;
    assert_eq!(job.state, JobState::Done, "{:?}", job.error);
    let rows = outbox(&ferry).await;
    assert_eq!(rows.len(), 5);
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row.topic, "order.imported");
        assert_eq!(row.key, format!("k{}", n % 2));
        assert_eq!(row.job_id, Some(job.id));
        assert_eq!(row.sent_at, None);
        let body: serde_json::Value = serde_json::from_slice(&row.payload).unwrap();
        assert_eq!(body, json!({ "n": n }));
        assert_eq!(row.headers, vec![("x-test".to_string(), "1".to_string())]);
    }
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_publishes_nothing() {
    let (_dir, ferry) = hostile_lab().await;
    let messages = vec![json!({ "topic": "order.imported", "body": { "n": 1 } })];
    let job = run_lab_job(
        &ferry,
        "publish",
        json!({ "messages": messages, "fail": true }),
    )
    .await;
    assert_eq!(job.state, JobState::Failed);
    assert!(outbox(&ferry).await.is_empty(), "a failed try published");
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_to_an_unlisted_topic_is_denied_naming_the_manifest_key() {
    let (_dir, ferry) = hostile_lab().await;
    let messages = vec![json!({ "topic": "customer.created", "body": {} })];
    let job = run_lab_job(&ferry, "publish", json!({ "messages": messages })).await;
    assert_eq!(job.state, JobState::Failed);
    let error = job.error.unwrap_or_default();
    assert!(
        error.contains("customer.created") && error.contains("`publish` under `[capabilities]`"),
        "{error}"
    );
    assert!(outbox(&ferry).await.is_empty());
}
