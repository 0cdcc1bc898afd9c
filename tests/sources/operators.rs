//! What operators do with sources: add (checked), list, pause, resume,
//! remove, and the dead letters.

use super::harness::lab_with_source;
use ferry::triggers::sources::{SourceKind, SourceSettings, SourceSpec, manage};
use ferry_tests::hostile_lab;

fn rabbit(queue: &str) -> SourceSettings {
    SourceSettings {
        url: "amqp://127.0.0.1:5672".into(),
        queue: Some(queue.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_is_refused_with_what_to_fix_for_each_mistake() {
    let (_dir, ferry) = hostile_lab().await;
    let add = async |instance: &str, listener: &str, settings: SourceSettings| {
        manage::add(
            ferry.store(),
            ferry.modules(),
            &SourceSpec {
                instance: instance.into(),
                listener: listener.into(),
                kind: SourceKind::Rabbitmq,
                settings,
                max_pending: None,
            },
            "cli",
        )
        .await
        .unwrap_err()
        .to_string()
    };
    let err = add("lab", "orders", rabbit("q")).await;
    assert!(
        err.contains("listener `orders`") && err.contains("its listeners: messages"),
        "{err}"
    );
    let err = add("nowhere", "messages", rabbit("q")).await;
    assert!(err.contains("nowhere"), "{err}");
    let mut with_password = rabbit("q");
    with_password.url = "amqp://guest:guest@127.0.0.1:5672".into();
    let err = add("lab", "messages", with_password).await;
    assert!(err.contains("--password-secret"), "{err}");
    let mut unset = rabbit("q");
    unset.password_secret = Some("rabbit_password".into());
    let err = add("lab", "messages", unset).await;
    assert!(
        err.contains("ferry secret set lab rabbit_password"),
        "{err}"
    );
    assert!(manage::list(ferry.store()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_takes_one_source_and_operators_pause_resume_and_remove_it() {
    let (_dir, ferry, source) = lab_with_source(SourceKind::Rabbitmq, rabbit("q_ops")).await;
    assert_eq!(source.name(), "lab/messages");
    let again = manage::add(
        ferry.store(),
        ferry.modules(),
        &SourceSpec {
            instance: "lab".into(),
            listener: "messages".into(),
            kind: SourceKind::Rabbitmq,
            settings: rabbit("q_other"),
            max_pending: None,
        },
        "cli",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(again.contains("already has a source"), "{again}");
    let paused = manage::set_paused(ferry.store(), "lab", "messages", true, "cli")
        .await
        .unwrap();
    assert!(paused.paused);
    let listed = manage::list(ferry.store()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state(), "paused");
    manage::set_paused(ferry.store(), "lab", "messages", false, "cli")
        .await
        .unwrap();
    manage::remove(ferry.store(), "lab", "messages", "cli")
        .await
        .unwrap();
    assert!(manage::list(ferry.store()).await.unwrap().is_empty());
}
