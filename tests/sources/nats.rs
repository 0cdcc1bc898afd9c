//! Type `nats`: a JetStream durable pull consumer (NATS on 127.0.0.1:4222).

use super::behaviour;
use super::harness::unique;
use ferry::triggers::sources::{SourceKind, SourceSettings};

const BROKER: &str = "127.0.0.1:4222";

/// Settings on a new subject, stream and durable consumer (through `address`).
fn settings(address: &str, name: &str) -> SourceSettings {
    SourceSettings {
        url: format!("nats://{address}"),
        subject: Some(format!("ferry.test.{name}")),
        stream: Some(name.into()),
        consumer: Some(name.into()),
        batch: Some(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_messages_become_a_thousand_done_jobs_through_kill_nine() {
    let name = unique("ferry_nats_kill");
    let subject = format!("ferry.test.{name}");
    behaviour::thousand_messages_through_kill_nine(
        SourceKind::Nats,
        settings(BROKER, &name),
        &subject,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let name = unique("ferry_nats_dead");
    let subject = format!("ferry.test.{name}");
    behaviour::bad_messages_become_dead_letters(
        SourceKind::Nats,
        settings(BROKER, &name),
        &subject,
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let name = unique("ferry_nats_proxy");
    let subject = format!("ferry.test.{name}");
    behaviour::reconnects_when_the_broker_goes_away(
        SourceKind::Nats,
        settings(BROKER, &name),
        &subject,
        BROKER,
        |proxy| settings(proxy, &name),
    )
    .await;
}
