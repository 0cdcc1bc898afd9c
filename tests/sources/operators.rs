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
    assert_eq!(listed[0].state, "paused");
    manage::set_paused(ferry.store(), "lab", "messages", false, "cli")
        .await
        .unwrap();
    manage::remove(ferry.store(), "lab", "messages", "cli")
        .await
        .unwrap();
    assert!(manage::list(ferry.store()).await.unwrap().is_empty());
}

/// Run `ferry ARGS --json` against the server at `url` with `token`; its JSON
/// output (or the error text when it fails).
async fn ferry_remote(url: &str, token: &str, args: &[&str]) -> Result<serde_json::Value, String> {
    let bin = tokio::task::spawn_blocking(ferry_tests::ferry_bin)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--server", url, "--token", token, "--json"])
        .args(args)
        .output()
        .await
        .expect("run ferry");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        }))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_bind_list_pause_and_replay_dead_letters_from_the_cli_through_the_api() {
    use ferry::triggers::sources::{Ingest, Message, find_listener};
    let (dir, ferry) = hostile_lab().await;
    let url = ferry_tests::start_server(&ferry, Default::default()).await;
    let token = ferry_tests::api_token(&ferry, ferry::tokens::Role::Developer).await;
    let added = ferry_remote(
        &url,
        &token,
        &[
            "source",
            "add",
            "lab",
            "messages",
            "--type",
            "rabbitmq",
            "--url",
            "amqp://127.0.0.1:5672",
            "--queue",
            "q_cli",
            "--exchange",
            "x_cli",
            "--exchange-type",
            "topic",
            "--routing-key",
            "order.*",
            "--max-pending",
            "50",
        ],
    )
    .await
    .unwrap();
    assert_eq!(added["kind"], "rabbitmq");
    assert_eq!(added["max_pending"], 50);
    assert_eq!(added["config"]["routing_key"], "order.*");
    let refused = ferry_remote(
        &url,
        &token,
        &[
            "source",
            "add",
            "lab",
            "messages",
            "--type",
            "nats",
            "--url",
            "nats://u:secret@127.0.0.1:4222",
            "--subject",
            "s",
        ],
    )
    .await
    .unwrap_err();
    assert!(refused.contains("--password-secret"), "{refused}");

    // Messages that cannot become jobs, as a consumer would hand them over.
    let source = ferry.store().source("lab", "messages").await.unwrap();
    let bound = find_listener(&ferry.registry(), "hostile", "messages").unwrap();
    let ingest = Ingest::new(
        ferry.store().clone(),
        ferry.modules().clone(),
        source,
        bound,
    );
    let message = |id: &str, content_type: &str, body: &str| Message {
        id: id.into(),
        subject: "order.created".into(),
        content_type: Some(content_type.into()),
        headers: Default::default(),
        body: body.as_bytes().to_vec(),
    };
    let taken = ingest
        .take(&[
            message("m1", "text/plain", r#"{"n": 1}"#),
            message("m2", "application/json", r#"{"m": 2}"#),
            message("m3", "application/json", r#"{"n": 3}"#),
            message("m3", "application/json", r#"{"n": 3}"#),
        ])
        .await
        .unwrap();
    assert_eq!((taken.jobs, taken.dead, taken.duplicates), (1, 2, 1));

    let listed = ferry_remote(&url, &token, &["source", "list"])
        .await
        .unwrap();
    assert_eq!(listed[0]["dead_letters"], 2);
    let dead = ferry_remote(&url, &token, &["source", "dead-letters", "lab", "messages"])
        .await
        .unwrap();
    let reasons: Vec<&str> = dead
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("required field `n` is missing")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("content type `text/plain`")),
        "{reasons:?}"
    );

    // Still refused: nothing changed. Then the connector takes text/plain too.
    let text_id = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message_id"] == "m1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let again = ferry_remote(
        &url,
        &token,
        &["source", "dead-letters", "--replay", &text_id.to_string()],
    )
    .await
    .unwrap_err();
    assert!(again.contains("still refused"), "{again}");
    let hostile = tokio::task::block_in_place(|| ferry_tests::built("hostile"));
    let manifest = std::fs::read_to_string(&hostile.manifest).unwrap().replace(
        "description = \"Each message becomes a run of `ok`\"",
        "description = \"Each message becomes a run of `ok`\"\ncontent_types = [\"application/json\", \"text/plain\"]",
    );
    let path = dir.path().join("connector.toml");
    std::fs::write(
        &path,
        manifest.replace("version = \"0.1.0\"", "version = \"0.1.1\""),
    )
    .unwrap();
    ferry.install(&path, &hostile.wasm).await.unwrap();
    let replayed = ferry_remote(
        &url,
        &token,
        &["source", "dead-letters", "--replay", &text_id.to_string()],
    )
    .await
    .unwrap();
    let job = replayed["replayed"][0]["job"].as_i64().unwrap();
    let row = ferry.store().job(job).await.unwrap();
    assert_eq!(row.trigger, ferry::store::Trigger::Source);
    let waiting = ferry_remote(&url, &token, &["source", "dead-letters"])
        .await
        .unwrap();
    assert_eq!(waiting.as_array().unwrap().len(), 1, "{waiting}");

    let paused = ferry_remote(&url, &token, &["source", "pause", "lab", "messages"])
        .await
        .unwrap();
    assert_eq!(paused["paused"], true);
    let audit = ferry.store().audit_log(&Default::default()).await.unwrap();
    for action in ["source.add", "source.replay", "source.pause"] {
        assert!(audit.iter().any(|e| e.action == action), "{action} audited");
    }
    ferry_remote(&url, &token, &["source", "remove", "lab", "messages"])
        .await
        .unwrap();
    let listed = ferry_remote(&url, &token, &["source", "list"])
        .await
        .unwrap();
    assert_eq!(listed, serde_json::json!([]));
}
