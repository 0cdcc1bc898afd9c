//! Type `rabbitmq` against the local RabbitMQ: a thousand messages through
//! `kill -9`, bad messages to dead letters, a broker that goes away.

use super::harness::{
    TcpProxy, assert_each_message_once_and_done, body, kill_nine_rounds, lab_jobs, lab_with_source,
    run_sources, unique, wait_for_jobs,
};
use ferry::triggers::sources::{SourceKind, SourceSettings, manage};
use ferry_tests::eventually;
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use std::collections::BTreeSet;
use std::time::Duration;

const BROKER: &str = "127.0.0.1:5672";

fn settings(url: &str, queue: &str) -> SourceSettings {
    SourceSettings {
        url: url.into(),
        queue: Some(queue.into()),
        batch: Some(20),
        ..Default::default()
    }
}

/// A channel to the broker (guest/guest, as the sources' URL without a
/// user: lapin's default) with `queue` declared as the
/// source declares it.
async fn publisher(queue: &str) -> (Connection, Channel) {
    let connection = Connection::connect(
        &format!("amqp://guest:guest@{BROKER}"),
        ConnectionProperties::default(),
    )
    .await
    .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare the queue");
    (connection, channel)
}

async fn publish(channel: &Channel, queue: &str, body: &[u8], properties: BasicProperties) {
    channel
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await
        .expect("publish")
        .await
        .expect("published");
}

/// The payload numbers of the jobs of `lab`.
async fn job_numbers(ferry: &ferry::Ferry) -> Vec<u64> {
    lab_jobs(ferry)
        .await
        .iter()
        .map(|j| {
            serde_json::from_str::<serde_json::Value>(&j.payload).expect("payload")["n"]
                .as_u64()
                .expect("n")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_messages_become_a_thousand_done_jobs_through_kill_nine() {
    let queue = unique("ferry_rabbit_kill");
    let (dir, ferry, _) = lab_with_source(
        SourceKind::Rabbitmq,
        settings(&format!("amqp://{BROKER}"), &queue),
    )
    .await;
    let (_connection, channel) = publisher(&queue).await;
    for n in 0..1000 {
        publish(&channel, &queue, &body(n), BasicProperties::default()).await;
    }
    kill_nine_rounds(dir.path(), &ferry, 5, 1000).await;
    assert_each_message_once_and_done(&ferry, 1000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let queue = unique("ferry_rabbit_dead");
    let (_dir, ferry, _) = lab_with_source(
        SourceKind::Rabbitmq,
        settings(&format!("amqp://{BROKER}"), &queue),
    )
    .await;
    let (_connection, channel) = publisher(&queue).await;
    let json = || BasicProperties::default().with_content_type("application/json".into());
    publish(&channel, &queue, b"not json", json()).await;
    publish(&channel, &queue, b"{}", json()).await;
    publish(
        &channel,
        &queue,
        &body(1),
        BasicProperties::default().with_content_type("text/plain".into()),
    )
    .await;
    let big = format!(r#"{{"n": 2, "pad": "{}"}}"#, "x".repeat(10 << 20));
    publish(&channel, &queue, big.as_bytes(), json()).await;
    publish(&channel, &queue, &body(3), json()).await;
    let stop = run_sources(&ferry);
    wait_for_jobs(&ferry, 1, Duration::from_secs(60)).await;
    eventually(Duration::from_secs(60), "four dead letters", async || {
        manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
            .await
            .unwrap()
            .len()
            >= 4
    })
    .await;
    stop.cancel();
    let dead = manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
        .await
        .unwrap();
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(dead.len(), 4, "{reasons:?}");
    for expected in ["not JSON", "`n` is missing", "text/plain", "max_bytes"] {
        assert!(
            reasons.iter().any(|r| r.contains(expected)),
            "no dead letter says {expected}: {reasons:?}"
        );
    }
    assert!(dead.iter().any(|d| d.body_size > 10 << 20));
    assert_eq!(job_numbers(&ferry).await, vec![3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let queue = unique("ferry_rabbit_proxy");
    let proxy = TcpProxy::start(BROKER).await;
    let (_dir, ferry, source) = lab_with_source(
        SourceKind::Rabbitmq,
        settings(&format!("amqp://{}", proxy.address), &queue),
    )
    .await;
    let (_connection, channel) = publisher(&queue).await;
    for n in 0..50 {
        publish(&channel, &queue, &body(n), BasicProperties::default()).await;
    }
    let stop = run_sources(&ferry);
    wait_for_jobs(&ferry, 50, Duration::from_secs(60)).await;
    proxy.set_down(true);
    eventually(
        Duration::from_secs(60),
        "the source reports the broken connection",
        async || {
            ferry
                .store()
                .source_statuses()
                .await
                .unwrap()
                .iter()
                .any(|s| s.source_id == source.id && s.state == "failed")
        },
    )
    .await;
    for n in 50..100 {
        publish(&channel, &queue, &body(n), BasicProperties::default()).await;
    }
    proxy.set_down(false);
    wait_for_jobs(&ferry, 100, Duration::from_secs(90)).await;
    // Nothing more comes in late.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let numbers: BTreeSet<u64> = job_numbers(&ferry).await.into_iter().collect();
    assert_eq!(numbers, (0..100).collect::<BTreeSet<u64>>());
    assert_eq!(lab_jobs(&ferry).await.len(), 100, "one job per message");
}
