//! Type `nats` against the local NATS server with JetStream.

use super::harness::{
    TcpProxy, assert_each_message_once_and_done, body, kill_nine_rounds, lab_jobs, lab_with_source,
    run_sources, unique, wait_for_jobs,
};
use async_nats::jetstream;
use ferry::triggers::sources::{SourceKind, SourceSettings, manage};
use ferry_tests::eventually;
use std::collections::BTreeSet;
use std::time::Duration;

const NATS: &str = "127.0.0.1:4222";

/// Settings for a fresh stream, subject and consumer through `address`.
fn settings(address: &str, batch: u32) -> SourceSettings {
    SourceSettings {
        url: format!("nats://{address}"),
        subject: Some(unique("ferry.test")),
        stream: Some(unique("ferry_test")),
        consumer: Some(unique("ferry_test")),
        batch: Some(batch),
        ..Default::default()
    }
}

/// A JetStream context on the real server, with the source's stream made.
async fn publisher(settings: &SourceSettings) -> jetstream::Context {
    let client = async_nats::connect(NATS).await.expect("connect to NATS");
    let js = jetstream::new(client);
    js.get_or_create_stream(jetstream::stream::Config {
        name: settings.stream.clone().unwrap(),
        subjects: vec![settings.subject.clone().unwrap()],
        ..Default::default()
    })
    .await
    .expect("create the stream");
    js
}

async fn publish(js: &jetstream::Context, subject: &str, headers: &[(&str, &str)], body: Vec<u8>) {
    let mut map = async_nats::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, *v);
    }
    js.publish_with_headers(subject.to_string(), map, body.into())
        .await
        .expect("publish")
        .await
        .expect("publish acknowledged");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_messages_become_a_thousand_done_jobs_through_kill_nine() {
    let settings = settings(NATS, 20);
    let js = publisher(&settings).await;
    let subject = settings.subject.clone().unwrap();
    let (dir, ferry, _) = lab_with_source(SourceKind::Nats, settings).await;
    for n in 0..1000 {
        publish(&js, &subject, &[], body(n)).await;
    }
    kill_nine_rounds(dir.path(), &ferry, 5, 1000).await;
    assert_each_message_once_and_done(&ferry, 1000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let settings = settings(NATS, 10);
    let js = publisher(&settings).await;
    let subject = settings.subject.clone().unwrap();
    let (_dir, ferry, _) = lab_with_source(SourceKind::Nats, settings).await;
    let stop = run_sources(&ferry);
    publish(&js, &subject, &[], b"not json".to_vec()).await;
    publish(&js, &subject, &[], b"{}".to_vec()).await;
    publish(&js, &subject, &[("Content-Type", "text/plain")], body(1)).await;
    // The server's max_payload (1 MiB by default) refuses bodies over the
    // listener's max_bytes (1 MiB): that case cannot reach Ferry here.
    publish(&js, &subject, &[("Nats-Msg-Id", "good-7")], body(7)).await;
    wait_for_jobs(&ferry, 1, Duration::from_secs(30)).await;
    let mut reasons = Vec::new();
    eventually(Duration::from_secs(30), "3 dead letters", async || {
        reasons = manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.reason)
            .collect();
        reasons.len() == 3
    })
    .await;
    let all = reasons.join(" | ");
    assert!(all.contains("not JSON"), "{all}");
    assert!(all.contains("required field `n`"), "{all}");
    assert!(all.contains("content type `text/plain`"), "{all}");
    let jobs = lab_jobs(&ferry).await;
    assert_eq!(jobs.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&jobs[0].payload).unwrap();
    assert_eq!(payload["n"], 7);
    assert_eq!(payload["message_id"], "good-7", "Nats-Msg-Id is the id");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let proxy = TcpProxy::start(NATS).await;
    let settings = settings(&proxy.address, 20);
    let js = publisher(&settings).await;
    let subject = settings.subject.clone().unwrap();
    let (_dir, ferry, source) = lab_with_source(SourceKind::Nats, settings).await;
    let stop = run_sources(&ferry);
    for n in 0..50 {
        publish(&js, &subject, &[], body(n)).await;
    }
    wait_for_jobs(&ferry, 50, Duration::from_secs(60)).await;
    proxy.set_down(true);
    eventually(
        Duration::from_secs(60),
        "the source reports errors",
        async || {
            ferry
                .store()
                .source_statuses()
                .await
                .unwrap()
                .iter()
                .any(|s| s.source_id == source.id && (s.state == "failed" || s.errors > 0))
        },
    )
    .await;
    for n in 50..100 {
        publish(&js, &subject, &[], body(n)).await;
    }
    proxy.set_down(false);
    wait_for_jobs(&ferry, 100, Duration::from_secs(90)).await;
    // Late redeliveries would add jobs: give them a moment, then count.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let jobs = lab_jobs(&ferry).await;
    let ns: BTreeSet<u64> = jobs
        .iter()
        .map(|j| {
            serde_json::from_str::<serde_json::Value>(&j.payload).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(jobs.len(), 100, "one job per message");
    assert_eq!(ns, (0..100).collect::<BTreeSet<u64>>());
    stop.cancel();
}
