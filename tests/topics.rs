//! Topics out: what a guest publishes goes to the outbox with its job's
//! commit, only to the topics its manifest grants, and nothing for a job
//! that failed; the relay sends the outbox to the broker set for the
//! topics, in order, and drains it after a crash.

use ferry::store::{JobState, NewJob, OutboxFilter};
use ferry_tests::{hostile_lab, run_lab_job};
use serde_json::json;
use std::time::Duration;

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

/// Where `lab`'s `order.*` topics go: NATS at `address`.
async fn send_orders_to_nats(ferry: &ferry::Ferry, address: &str) {
    ferry::relay::topics::set(
        ferry.store(),
        &ferry::relay::TopicSpec {
            instance: "lab".into(),
            topic: "order.*".into(),
            kind: "nats".into(),
            settings: ferry::relay::DestinationSettings {
                url: format!("nats://{address}"),
                ..Default::default()
            },
        },
        "cli",
    )
    .await
    .expect("set the topic");
}

/// Run the outbox relay of `ferry` in this process until the token is cancelled.
fn run_relay(ferry: &ferry::Ferry) -> tokio_util::sync::CancellationToken {
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(ferry::relay::run(
        ferry.store().clone(),
        ferry::queue::node_name(None),
        ferry.engine().config().secret_key_file.clone(),
        stop.clone(),
    ));
    stop
}

/// `n` messages on a topic no other test uses, and a NATS subscription to it.
async fn orders(n: usize) -> (String, Vec<serde_json::Value>, async_nats::Subscriber) {
    let topic = format!("order.t{}x{:08x}", std::process::id(), fastrand::u32(..));
    let messages = (0..n)
        .map(|i| json!({ "topic": topic, "key": format!("k{}", i % 2), "body": { "n": i } }))
        .collect();
    let client = async_nats::connect("127.0.0.1:4222")
        .await
        .expect("connect to NATS");
    let subscriber = client.subscribe(topic.clone()).await.expect("subscribe");
    client.flush().await.expect("flush");
    (topic, messages, subscriber)
}

/// The next `n` messages of `subscriber`: their `n` and their outbox id.
async fn received(subscriber: &mut async_nats::Subscriber, n: usize) -> Vec<(u64, i64)> {
    use futures_util::StreamExt;
    let mut got = Vec::new();
    while got.len() < n {
        let message = tokio::time::timeout(Duration::from_secs(60), subscriber.next())
            .await
            .expect("a message within a minute")
            .expect("the subscription is open");
        let body: serde_json::Value = serde_json::from_slice(&message.payload).expect("JSON");
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(ferry::relay::OUTBOX_ID_HEADER))
            .map(|v| v.as_str().parse::<i64>().expect("an id"))
            .expect("the outbox id header");
        got.push((body["n"].as_u64().expect("n"), id));
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_sends_a_done_jobs_messages_to_nats_in_order_with_their_outbox_id() {
    let (_dir, ferry) = hostile_lab().await;
    send_orders_to_nats(&ferry, "127.0.0.1:4222").await;
    let (_topic, messages, mut subscriber) = orders(5).await;
    let job = run_lab_job(&ferry, "publish", json!({ "messages": messages })).await;
    assert_eq!(job.state, JobState::Done, "{:?}", job.error);
    let stop = run_relay(&ferry);
    let got = received(&mut subscriber, 5).await;
    let rows = outbox(&ferry).await;
    assert_eq!(
        got,
        rows.iter()
            .enumerate()
            .map(|(n, r)| (n as u64, r.id))
            .collect::<Vec<_>>(),
        "in the order published, each with its outbox id"
    );
    ferry_tests::eventually(
        Duration::from_secs(30),
        "every message is marked sent",
        async || outbox(&ferry).await.iter().all(|r| r.sent_at.is_some()),
    )
    .await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outbox_drains_after_a_crash_between_commit_and_send() {
    let (dir, ferry) = hostile_lab().await;
    let proxy = ferry_tests::proxy::TcpProxy::start("127.0.0.1:4222").await;
    proxy.set_down(true);
    send_orders_to_nats(&ferry, &proxy.address).await;
    let (_topic, messages, mut subscriber) = orders(3).await;
    ferry
        .enqueue(&NewJob::new(
            "lab",
            "publish",
            &json!({ "messages": messages }),
        ))
        .await
        .expect("enqueue");
    // A worker process runs the job (its messages commit with it) and its
    // relay fails to reach the broker; then it dies.
    let mut worker = ferry_tests::spawn_worker(dir.path(), &ferry, &[]);
    ferry_tests::eventually(
        Duration::from_secs(120),
        "the job is done and its relay failed to send",
        async || {
            let rows = outbox(&ferry).await;
            rows.len() == 3 && rows[0].attempts > 0
        },
    )
    .await;
    worker.kill().expect("kill -9");
    let _ = worker.wait();
    let rows = outbox(&ferry).await;
    assert!(rows.iter().all(|r| r.sent_at.is_none()), "nothing was sent");
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("nats")),
        "{:?}",
        rows[0].last_error
    );
    // The broker is back; another node's relay (after the dead one's lease
    // expires) sends everything, in order.
    proxy.set_down(false);
    let stop = run_relay(&ferry);
    let got = received(&mut subscriber, 3).await;
    assert_eq!(
        got,
        rows.iter()
            .enumerate()
            .map(|(n, r)| (n as u64, r.id))
            .collect::<Vec<_>>()
    );
    ferry_tests::eventually(
        Duration::from_secs(30),
        "every message is marked sent",
        async || outbox(&ferry).await.iter().all(|r| r.sent_at.is_some()),
    )
    .await;
    stop.cancel();
}
