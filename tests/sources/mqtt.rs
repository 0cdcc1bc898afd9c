//! Type `mqtt`: QoS 1 subscriptions of a persistent session (Mosquitto on
//! 127.0.0.1:1883). After a `kill -9`, the broker hands the messages the
//! dead worker had not acknowledged to the next one with the same client id.
//! MQTT 3.1.1 carries no content type: the wrong-content-type case of the
//! other types has no equivalent here.

use super::behaviour;
use super::harness::unique;
use ferry::triggers::sources::{SourceKind, SourceSettings};

const BROKER: &str = "127.0.0.1:1883";

fn settings(address: &str, topic: &str, client_id: &str) -> SourceSettings {
    SourceSettings {
        url: format!("mqtt://{address}"),
        subject: Some(format!("{topic}/#")),
        consumer: Some(client_id.into()),
        batch: Some(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_messages_become_a_thousand_done_jobs_through_kill_nine() {
    let topic = unique("ferry_mqtt_kill");
    let client = unique("ferry_mqtt_client");
    behaviour::thousand_messages_through_kill_nine(
        SourceKind::Mqtt,
        settings(BROKER, &topic, &client),
        &format!("{topic}/orders"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_go_to_dead_letters_and_the_source_keeps_consuming() {
    let topic = unique("ferry_mqtt_dead");
    let client = unique("ferry_mqtt_client");
    behaviour::bad_messages_become_dead_letters(
        SourceKind::Mqtt,
        settings(BROKER, &topic, &client),
        &format!("{topic}/orders"),
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_the_broker_goes_away() {
    let topic = unique("ferry_mqtt_proxy");
    let client = unique("ferry_mqtt_client");
    behaviour::reconnects_when_the_broker_goes_away(
        SourceKind::Mqtt,
        settings(BROKER, &topic, &client),
        &format!("{topic}/orders"),
        BROKER,
        |proxy| settings(proxy, &topic, &client),
    )
    .await;
}
