//! The behaviour every source type must show, written once: each type's
//! file calls these with its settings.

use super::harness::{
    TcpProxy, assert_each_message_once_and_done, body, kill_nine_rounds, lab_jobs, lab_with_source,
    run_sources, wait_for_jobs,
};
use ferry::triggers::sources::{SourceKind, SourceSettings, manage};
use ferry_tests::brokers::{Outgoing, publish};
use ferry_tests::eventually;
use std::collections::BTreeSet;
use std::time::Duration;

/// Messages of the tests that count them.
pub const MESSAGES: u64 = 1_000;

fn numbered(range: std::ops::Range<u64>) -> Vec<Outgoing> {
    range.map(|n| Outgoing::body(body(n))).collect()
}

/// 1 000 messages become 1 000 jobs, all done, while the consuming worker
/// process is killed with SIGKILL at random points 5 times. `settings`
/// should take small batches, so that consumption spans the kills.
pub async fn thousand_messages_through_kill_nine(
    kind: SourceKind,
    settings: SourceSettings,
    subject: &str,
) {
    let (dir, ferry, _source) = lab_with_source(kind, settings.clone()).await;
    if kind == SourceKind::Mqtt {
        // An MQTT broker keeps messages only for a session that subscribed:
        // let the source subscribe once before anything is published.
        let stop = run_sources(&ferry);
        wait_connected(&ferry).await;
        stop.cancel();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Published while the workers are killed, in chunks, so that the kills
    // fall while messages are taken as well as while jobs run.
    let subject = subject.to_string();
    let publisher = tokio::spawn(async move {
        for chunk in numbered(0..MESSAGES).chunks(50) {
            publish(kind, &settings, &subject, chunk)
                .await
                .expect("publish");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    kill_nine_rounds(dir.path(), &ferry, 5, MESSAGES).await;
    publisher.await.expect("publisher");
    assert_each_message_once_and_done(&ferry, MESSAGES).await;
}

/// Wait until the source reports itself connected.
pub async fn wait_connected(ferry: &ferry::Ferry) {
    eventually(
        Duration::from_secs(60),
        "the source is connected",
        async || {
            let list = manage::list(ferry.store()).await.expect("list");
            list[0].nodes.iter().any(|n| n.state == "connected")
        },
    )
    .await;
}

/// Not JSON, a required field missing, a refused content type (where the
/// protocol carries one) and a 10 MB body (where the broker takes one) each become a dead letter with
/// its reason, and the good message after them becomes a job.
pub async fn bad_messages_become_dead_letters(
    kind: SourceKind,
    settings: SourceSettings,
    subject: &str,
    carries_content_type: bool,
) {
    let (_dir, ferry, _source) = lab_with_source(kind, settings.clone()).await;
    let stop = run_sources(&ferry);
    // An MQTT broker keeps messages only for a session that subscribed.
    wait_connected(&ferry).await;
    let mut bad = vec![
        (Outgoing::body("this is not JSON"), "JSON"),
        (Outgoing::body(r#"{"m": 1}"#), "`n`"),
    ];
    // A NATS server refuses a body over its max_payload (1 MiB by default,
    // the listener's max_bytes too) at publish: it never reaches Ferry.
    if kind != SourceKind::Nats {
        bad.push((Outgoing::body(vec![b' '; 10 << 20]), "bytes"));
    }
    if carries_content_type {
        let mut text = Outgoing::body(body(7));
        text.content_type = Some("text/plain".into());
        bad.push((text, "text/plain"));
    }
    let mut messages: Vec<Outgoing> = bad.iter().map(|(m, _)| m.clone()).collect();
    messages.push(Outgoing::body(body(1)));
    publish(kind, &settings, subject, &messages)
        .await
        .expect("publish");
    wait_for_jobs(&ferry, 1, Duration::from_secs(60)).await;
    eventually(
        Duration::from_secs(60),
        "every bad message is a dead letter",
        async || {
            manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
                .await
                .expect("dead letters")
                .len()
                >= bad.len()
        },
    )
    .await;
    let dead = manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 100)
        .await
        .expect("dead letters");
    assert_eq!(dead.len(), bad.len(), "{dead:#?}");
    for (_, why) in &bad {
        assert!(
            dead.iter().any(|d| d.reason.contains(why)),
            "no dead letter says {why:?}: {:#?}",
            dead.iter().map(|d| &d.reason).collect::<Vec<_>>()
        );
    }
    let jobs = lab_jobs(&ferry).await;
    assert_eq!(jobs.len(), 1, "only the good message is a job");
    assert!(jobs[0].payload.contains("\"n\":1"), "{}", jobs[0].payload);
    stop.cancel();
}

/// The source reaches the broker through a proxy that goes down mid-stream:
/// it reconnects when the proxy is back, and every message is one job.
/// `through` gives the settings with the broker's address replaced by the
/// proxy's; `target` is the broker's `host:port`.
pub async fn reconnects_when_the_broker_goes_away(
    kind: SourceKind,
    settings: SourceSettings,
    subject: &str,
    target: &str,
    through: impl Fn(&str) -> SourceSettings,
) {
    let proxy = TcpProxy::start(target).await;
    let proxied = through(&proxy.address);
    let (_dir, ferry, _source) = lab_with_source(kind, proxied).await;
    let stop = run_sources(&ferry);
    wait_connected(&ferry).await;
    let half = MESSAGES / 2;
    publish(kind, &settings, subject, &numbered(0..half))
        .await
        .expect("publish the first half");
    wait_for_jobs(&ferry, half as usize, Duration::from_secs(120)).await;
    proxy.set_down(true);
    eventually(
        Duration::from_secs(60),
        "the source reports the broker gone",
        async || {
            let list = manage::list(ferry.store()).await.expect("list");
            list[0]
                .nodes
                .iter()
                .any(|n| n.errors > 0 || n.state == "failed")
        },
    )
    .await;
    publish(kind, &settings, subject, &numbered(half..MESSAGES))
        .await
        .expect("publish the second half");
    proxy.set_down(false);
    wait_for_jobs(&ferry, MESSAGES as usize, Duration::from_secs(180)).await;
    // Give a late redelivery the time to show up as a second job.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut seen = BTreeSet::new();
    for job in lab_jobs(&ferry).await {
        let payload: serde_json::Value = serde_json::from_str(&job.payload).expect("payload");
        let n = payload["n"].as_u64().expect("n");
        assert!(seen.insert(n), "message {n} became two jobs");
    }
    assert_eq!(seen.len() as u64, MESSAGES, "messages lost");
    stop.cancel();
}
