//! Type `redis`: a stream read through a consumer group (Redis on
//! 127.0.0.1:6379).

use super::behaviour;
use super::harness::unique;
use ferry::triggers::sources::{SourceKind, SourceSettings};

fn settings(address: &str, stream: &str) -> SourceSettings {
    SourceSettings {
        url: format!("redis://{address}/0"),
        stream: Some(stream.into()),
        batch: Some(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_entries_become_a_thousand_done_jobs_through_kill_nine() {
    let stream = unique("ferry_test_stream");
    behaviour::thousand_messages_through_kill_nine(
        SourceKind::Redis,
        settings("127.0.0.1:6379", &stream),
        &stream,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_entries_go_to_dead_letters_and_the_source_keeps_consuming() {
    let stream = unique("ferry_test_stream");
    behaviour::bad_messages_become_dead_letters(
        SourceKind::Redis,
        settings("127.0.0.1:6379", &stream),
        &stream,
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_redis_goes_away() {
    let stream = unique("ferry_test_stream");
    behaviour::reconnects_when_the_broker_goes_away(
        SourceKind::Redis,
        settings("127.0.0.1:6379", &stream),
        &stream,
        "127.0.0.1:6379",
        |proxy| settings(proxy, &stream),
    )
    .await;
}
