//! Type `rabbitmq`: a durable queue, bound to an exchange when one is
//! given (RabbitMQ on 127.0.0.1:5672, guest/guest).

use super::behaviour;
use super::harness::{lab_jobs, lab_with_source, run_sources, unique, wait_for_jobs};
use ferry::triggers::sources::{SourceKind, SourceSettings};
use ferry_tests::brokers::{Outgoing, publish};
use std::time::Duration;

const BROKER: &str = "127.0.0.1:5672";

fn settings(address: &str, queue: &str) -> SourceSettings {
    SourceSettings {
        url: format!("amqp://guest@{address}/%2f"),
        queue: Some(queue.into()),
        batch: Some(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_messages_become_a_thousand_done_jobs_through_kill_nine() {
    let queue = unique("ferry_rabbit_kill");
    behaviour::thousand_messages_through_kill_nine(
        SourceKind::Rabbitmq,
        settings(BROKER, &queue),
        &queue,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let queue = unique("ferry_rabbit_dead");
    behaviour::bad_messages_become_dead_letters(
        SourceKind::Rabbitmq,
        settings(BROKER, &queue),
        &queue,
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let queue = unique("ferry_rabbit_proxy");
    behaviour::reconnects_when_the_broker_goes_away(
        SourceKind::Rabbitmq,
        settings(BROKER, &queue),
        &queue,
        BROKER,
        |proxy| settings(proxy, &queue),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exchange_routes_only_matching_keys_and_a_message_id_is_stored_once() {
    let mut settings = settings(BROKER, &unique("ferry_rabbit_orders"));
    settings.exchange = Some(unique("x_shop"));
    settings.exchange_type = Some("topic".into());
    settings.routing_key = Some("order.*".into());
    let (_dir, ferry, _source) = lab_with_source(SourceKind::Rabbitmq, settings.clone()).await;
    let stop = run_sources(&ferry);
    let with_id = |n: u64, id: &str| Outgoing {
        body: super::harness::body(n),
        id: Some(id.into()),
        ..Default::default()
    };
    publish(
        SourceKind::Rabbitmq,
        &settings,
        "order.created",
        &[with_id(1, "order-1")],
    )
    .await
    .expect("publish");
    // The same message id again (a publisher that retried): no second job.
    publish(
        SourceKind::Rabbitmq,
        &settings,
        "order.created",
        &[with_id(1, "order-1")],
    )
    .await
    .expect("publish again");
    publish(
        SourceKind::Rabbitmq,
        &settings,
        "invoice.created",
        &[with_id(2, "invoice-2")],
    )
    .await
    .expect("publish another key");
    publish(
        SourceKind::Rabbitmq,
        &settings,
        "order.paid",
        &[with_id(3, "order-3")],
    )
    .await
    .expect("publish");
    wait_for_jobs(&ferry, 2, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let jobs = lab_jobs(&ferry).await;
    let ids: Vec<&str> = jobs
        .iter()
        .filter_map(|j| j.identity_key.as_deref())
        .collect();
    assert_eq!(
        jobs.len(),
        2,
        "order-1 once, order-3; invoice not routed: {ids:?}"
    );
    assert!(ids.iter().any(|k| k.ends_with("order-1")), "{ids:?}");
    assert!(ids.iter().any(|k| k.ends_with("order-3")), "{ids:?}");
    stop.cancel();
}
