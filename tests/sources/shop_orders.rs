//! The example of the issue, end to end: the shop announces orders on
//! RabbitMQ; the `shop` connector's `orders` listener imports each one and
//! publishes `order.imported`, which the relay sends to NATS.

use super::harness::unique;
use ferry::relay::{DestinationSettings, TopicSpec};
use ferry::triggers::sources::{SourceKind, SourceSettings, SourceSpec, manage};
use ferry_tests::brokers::{Outgoing, publish};
use ferry_tests::{eventually, shop_setup};
use futures_util::StreamExt;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn orders_announced_on_rabbitmq_are_imported_and_announced_on_nats() {
    let (_dir, ferry, shop) = shop_setup("shop@1.7", 5, 3, 4).await;
    // The simulator numbers every record in one sequence: orders come after
    // the 5 products and 3 customers.
    let orders = [9u64, 11];
    assert!(
        orders
            .iter()
            .all(|id| shop.data().get("orders", *id).is_some())
    );
    let rabbit = SourceSettings {
        url: "amqp://guest@127.0.0.1:5672/%2f".into(),
        exchange: Some(unique("x_shop")),
        exchange_type: Some("topic".into()),
        routing_key: Some("order.*".into()),
        queue: Some(unique("q_acme_orders")),
        ..Default::default()
    };
    manage::add(
        ferry.store(),
        ferry.modules(),
        &SourceSpec {
            instance: "acme".into(),
            listener: "orders".into(),
            kind: SourceKind::Rabbitmq,
            settings: rabbit.clone(),
            max_pending: None,
        },
        "cli",
    )
    .await
    .expect("bind the orders listener");
    ferry::relay::topics::set(
        ferry.store(),
        &TopicSpec {
            instance: "acme".into(),
            topic: "order.*".into(),
            kind: "nats".into(),
            settings: DestinationSettings {
                url: "nats://127.0.0.1:4222".into(),
                ..Default::default()
            },
        },
        "cli",
    )
    .await
    .expect("send order topics to NATS");
    let nats = async_nats::connect("127.0.0.1:4222").await.expect("NATS");
    let mut imported = nats.subscribe("order.imported").await.expect("subscribe");
    nats.flush().await.expect("flush");

    // serve's background: sources, relay and a worker, in this process.
    let stop = tokio_util::sync::CancellationToken::new();
    let background = ferry::triggers::background::start(
        &ferry,
        ferry::triggers::background::Background {
            cron: false,
            sources: true,
            relay: true,
        },
        &ferry::queue::node_name(None),
        &stop,
    );
    let worker = {
        let ferry = ferry.clone();
        let config = ferry::queue::WorkerConfig {
            shutdown: stop.clone(),
            ..Default::default()
        };
        tokio::spawn(async move { ferry.run_worker(&config, |_| {}).await })
    };
    let events: Vec<Outgoing> = orders
        .iter()
        .map(|id| Outgoing::body(format!(r#"{{"id": {id}, "state": "confirmed"}}"#)))
        .collect();
    publish(SourceKind::Rabbitmq, &rabbit, "order.confirmed", &events)
        .await
        .expect("the shop announces two orders");

    // Each announcement is a job; say what became of them if they fail.
    let jobs = async || {
        ferry
            .store()
            .list_jobs(&ferry::store::JobFilter {
                name: Some("import-order-event".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("jobs")
    };
    eventually(
        Duration::from_secs(120),
        "two order imports end",
        async || {
            let jobs = jobs().await;
            jobs.len() == 2
                && jobs.iter().all(|j| {
                    matches!(
                        j.state,
                        ferry::store::JobState::Done | ferry::store::JobState::Failed
                    )
                })
        },
    )
    .await;
    for job in jobs().await {
        assert_eq!(
            job.state,
            ferry::store::JobState::Done,
            "{:?}: {:?}",
            job.payload,
            job.error
        );
    }
    let mut announced = Vec::new();
    while announced.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(120), imported.next())
            .await
            .expect("order.imported within two minutes")
            .expect("subscribed");
        let body: serde_json::Value = serde_json::from_slice(&message.payload).expect("JSON");
        announced.push(body["order_id"].as_str().unwrap_or_default().to_string());
    }
    announced.sort();
    assert_eq!(announced, ["11", "9"]);
    eventually(
        Duration::from_secs(30),
        "both orders are local records",
        async || ferry.store().count_records("order").await.unwrap_or(0) == 2,
    )
    .await;
    stop.cancel();
    background.stopped().await;
    worker.await.expect("worker").expect("worker ran");
}
