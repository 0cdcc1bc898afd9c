//! What operators see of a running source: its state, counts and dead
//! letters in `ferry source list` (the library call behind the CLI, the API
//! and the console) and its families in `/metrics`.

use super::harness::{lab_jobs, lab_with_source, run_sources, unique, wait_for_jobs};
use ferry::triggers::sources::{SourceKind, SourceSettings, manage};
use ferry_tests::brokers::{Outgoing, publish};
use ferry_tests::eventually;
use prometheus_parse::{Scrape, Value};
use std::time::Duration;

/// The value of `metric` for source `lab/messages` (and `outcome`, if given).
fn value(scrape: &Scrape, metric: &str, outcome: Option<&str>) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && s.labels.get("source") == Some("lab/messages"))
        .filter(|s| outcome.is_none_or(|o| s.labels.get("outcome") == Some(o)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => panic!("{metric} is not a plain value"),
        })
        .sum()
}

fn scrape(ferry: &ferry::Ferry) -> Scrape {
    let text = ferry.store().metrics().render(&[]);
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_source_shows_its_state_counts_and_dead_letters_in_the_list_and_metrics() {
    let settings = SourceSettings {
        url: "amqp://guest@127.0.0.1:5672/%2f".into(),
        queue: Some(unique("q_observed")),
        ..Default::default()
    };
    let (_dir, ferry, _source) = lab_with_source(SourceKind::Rabbitmq, settings.clone()).await;
    let stop = run_sources(&ferry);
    let mut messages: Vec<Outgoing> = (0..3)
        .map(|n| Outgoing::body(format!(r#"{{"n": {n}}}"#)))
        .collect();
    messages.push(Outgoing::body("not JSON"));
    publish(SourceKind::Rabbitmq, &settings, "", &messages)
        .await
        .expect("publish");
    wait_for_jobs(&ferry, 3, Duration::from_secs(60)).await;

    eventually(
        Duration::from_secs(30),
        "the list shows the source connected with 3 messages taken and 1 dead letter",
        async || {
            let list = manage::list(ferry.store()).await.expect("list");
            let view = &list[0];
            view.state == "connected"
                && view.dead_letters == 1
                && view.nodes.iter().map(|n| n.received).sum::<i64>() >= 3
        },
    )
    .await;
    let scraped = scrape(&ferry);
    assert_eq!(
        value(&scraped, "ferry_source_messages_total", Some("job")),
        3.0
    );
    assert_eq!(
        value(&scraped, "ferry_source_messages_total", Some("dead")),
        1.0
    );
    assert_eq!(value(&scraped, "ferry_source_connected", None), 1.0);
    let dead = manage::dead_letters(ferry.store(), Some(("lab", "messages")), false, 10)
        .await
        .expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("JSON"), "{}", dead[0].reason);

    manage::set_paused(ferry.store(), "lab", "messages", true, "cli")
        .await
        .expect("pause");
    eventually(
        Duration::from_secs(30),
        "a paused source says so and no longer counts as connected",
        async || {
            let list = manage::list(ferry.store()).await.expect("list");
            list[0].state == "paused"
                && value(&scrape(&ferry), "ferry_source_connected", None) == 0.0
        },
    )
    .await;
    // Paused: a message waits at the broker, not in Ferry.
    publish(
        SourceKind::Rabbitmq,
        &settings,
        "",
        &[Outgoing::body(r#"{"n": 3}"#)],
    )
    .await
    .expect("publish while paused");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        lab_jobs(&ferry).await.len(),
        3,
        "nothing taken while paused"
    );
    manage::set_paused(ferry.store(), "lab", "messages", false, "cli")
        .await
        .expect("resume");
    wait_for_jobs(&ferry, 4, Duration::from_secs(60)).await;
    stop.cancel();
}
