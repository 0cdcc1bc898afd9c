//! Type `postgres`: a table the source drains, woken by `NOTIFY`
//! (PostgreSQL on 127.0.0.1:5432, database `test`).

use super::behaviour;
use super::harness::unique;
use ferry::triggers::sources::{SourceKind, SourceSettings};
use ferry_tests::brokers::create_source_table;

/// A new table to drain (and the channel that wakes the source).
async fn settings(address: &str) -> SourceSettings {
    let table = unique("ferry_test_inbox");
    create_source_table("postgres://postgres@127.0.0.1:5432/test", &table)
        .await
        .expect("create the table");
    with_address(address, &table)
}

fn with_address(address: &str, table: &str) -> SourceSettings {
    SourceSettings {
        url: format!("postgres://postgres@{address}/test"),
        table: Some(table.into()),
        channel: Some(table.into()),
        batch: Some(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_rows_become_a_thousand_done_jobs_through_kill_nine() {
    let settings = settings("127.0.0.1:5432").await;
    behaviour::thousand_messages_through_kill_nine(SourceKind::Postgres, settings, "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_go_to_dead_letters_and_the_source_keeps_draining() {
    let settings = settings("127.0.0.1:5432").await;
    behaviour::bad_messages_become_dead_letters(SourceKind::Postgres, settings, "", true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_reconnects_when_postgresql_goes_away() {
    let settings = settings("127.0.0.1:5432").await;
    let table = settings.table.clone().expect("table");
    behaviour::reconnects_when_the_broker_goes_away(
        SourceKind::Postgres,
        settings,
        "",
        "127.0.0.1:5432",
        |proxy| with_address(proxy, &table),
    )
    .await;
}
