//! Type `mqtt` against the local Mosquitto: a thousand messages through
//! `kill -9` (the persistent session hands unacked messages to the next
//! worker), bad messages to dead letters, a broker that goes away.
//!
//! MQTT 3.1.1 has no content type: the wrong-content-type case of the other
//! types has no equivalent here.

use super::harness::{
    TcpProxy, assert_each_message_once_and_done, body, kill_nine_rounds, lab_jobs, lab_with_source,
    run_sources, unique, wait_for_jobs,
};
use ferry::triggers::sources::{SourceKind, SourceSettings, manage};
use ferry_tests::eventually;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::BTreeSet;
use std::time::Duration;

const BROKER: (&str, u16) = ("127.0.0.1", 1883);

fn settings(url: &str, topic: &str, client_id: &str) -> SourceSettings {
    SourceSettings {
        url: url.into(),
        subject: Some(format!("{topic}/#")),
        consumer: Some(client_id.into()),
        batch: Some(20),
        ..Default::default()
    }
}

/// A publisher to Mosquitto, its event loop polled in a task.
async fn publisher() -> AsyncClient {
    let mut options = MqttOptions::new(unique("ferry_pub"), BROKER.0, BROKER.1);
    options.set_max_packet_size(32 << 20, 32 << 20);
    options.set_inflight(100);
    let (client, mut eventloop) = AsyncClient::new(options, 100);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    client
}

/// Create the persistent session of `client_id` subscribed to `filter`, so
/// that messages published before the source first connects wait for it.
async fn create_session(client_id: &str, filter: &str) {
    let mut options = MqttOptions::new(client_id, BROKER.0, BROKER.1);
    options.set_clean_session(false);
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    client
        .subscribe(filter, QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    loop {
        match eventloop.poll().await.expect("create the session") {
            Event::Incoming(Packet::SubAck(_)) => break,
            _ => continue,
        }
    }
    client.disconnect().await.expect("disconnect");
    while eventloop.poll().await.is_ok() {}
}

async fn publish(client: &AsyncClient, topic: &str, body: Vec<u8>) {
    client
        .publish(topic, QoS::AtLeastOnce, false, body)
        .await
        .expect("publish");
}

/// The payload numbers of the jobs of `lab`.
async fn job_numbers(ferry: &ferry::Ferry) -> BTreeSet<u64> {
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
    let topic = unique("ferry_mqtt_kill");
    let client_id = unique("ferry_mqtt_client");
    let url = format!("mqtt://{}:{}", BROKER.0, BROKER.1);
    let (dir, ferry, _) =
        lab_with_source(SourceKind::Mqtt, settings(&url, &topic, &client_id)).await;
    create_session(&client_id, &format!("{topic}/#")).await;
    // Published while workers consume and die (paced: Mosquitto queues at
    // most 1 000 messages for a session while it is away).
    let client = publisher().await;
    let publishing = tokio::spawn({
        let topic = topic.clone();
        async move {
            for n in 0..1000 {
                publish(&client, &format!("{topic}/{}", n % 7), body(n)).await;
                if n % 50 == 49 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            // Let the event loop send what is queued.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
    kill_nine_rounds(dir.path(), &ferry, 5, 1000).await;
    publishing.await.expect("publishing");
    assert_each_message_once_and_done(&ferry, 1000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let topic = unique("ferry_mqtt_dead");
    let client_id = unique("ferry_mqtt_client");
    let url = format!("mqtt://{}:{}", BROKER.0, BROKER.1);
    let (_dir, ferry, _) =
        lab_with_source(SourceKind::Mqtt, settings(&url, &topic, &client_id)).await;
    create_session(&client_id, &format!("{topic}/#")).await;
    let client = publisher().await;
    publish(&client, &format!("{topic}/a"), b"not json".to_vec()).await;
    publish(&client, &format!("{topic}/a"), b"{}".to_vec()).await;
    let big = format!(r#"{{"n": 2, "pad": "{}"}}"#, "x".repeat(10 << 20));
    publish(&client, &format!("{topic}/a"), big.into_bytes()).await;
    publish(&client, &format!("{topic}/a"), body(3)).await;
    let stop = run_sources(&ferry);
    wait_for_jobs(&ferry, 1, Duration::from_secs(60)).await;
    eventually(Duration::from_secs(60), "three dead letters", async || {
        manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
            .await
            .unwrap()
            .len()
            >= 3
    })
    .await;
    stop.cancel();
    let dead = manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
        .await
        .unwrap();
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(dead.len(), 3, "{reasons:?}");
    for expected in ["not JSON", "`n` is missing", "max_bytes"] {
        assert!(
            reasons.iter().any(|r| r.contains(expected)),
            "no dead letter says {expected}: {reasons:?}"
        );
    }
    assert_eq!(job_numbers(&ferry).await, BTreeSet::from([3]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let topic = unique("ferry_mqtt_proxy");
    let client_id = unique("ferry_mqtt_client");
    let proxy = TcpProxy::start(&format!("{}:{}", BROKER.0, BROKER.1)).await;
    let url = format!("mqtt://{}", proxy.address);
    let (_dir, ferry, source) =
        lab_with_source(SourceKind::Mqtt, settings(&url, &topic, &client_id)).await;
    create_session(&client_id, &format!("{topic}/#")).await;
    let client = publisher().await;
    for n in 0..50 {
        publish(&client, &format!("{topic}/x"), body(n)).await;
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
        publish(&client, &format!("{topic}/x"), body(n)).await;
    }
    proxy.set_down(false);
    wait_for_jobs(&ferry, 100, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    assert_eq!(
        job_numbers(&ferry).await,
        (0..100).collect::<BTreeSet<u64>>()
    );
    assert_eq!(lab_jobs(&ferry).await.len(), 100, "one job per message");
}
