//! The `meta` and `blobs` stores: a guest reaches only the keys under the
//! prefixes its manifest grants, writes only when it says `write = true`,
//! and never leaves a blob store's directory; the store's type (local
//! database, Redis, a directory) is the operator's, set with `ferry store`.

use ferry::store::{JobRow, JobState};
use ferry::stores::{StoreSettings, StoreSpec};
use ferry_tests::{ferry_bin, hostile_lab, run_lab_job};
use redis::AsyncCommands;
use serde_json::{Value, json};

/// Run job `store` of `lab` with one operation.
async fn op(ferry: &ferry::Ferry, payload: Value) -> JobRow {
    run_lab_job(ferry, "store", payload).await
}

/// The result of a job that must have succeeded.
fn result(job: &JobRow) -> Value {
    assert_eq!(job.state, JobState::Done, "{:?}", job.error);
    serde_json::from_str(job.result.as_deref().unwrap_or("null")).unwrap()
}

/// The error of a job that must have failed.
fn failure(job: &JobRow) -> String {
    assert_eq!(job.state, JobState::Failed, "{:?}", job.result);
    job.error.clone().unwrap_or_default()
}

async fn set_store(ferry: &ferry::Ferry, store: &str, kind: &str, settings: StoreSettings) {
    let spec = StoreSpec {
        instance: "lab".into(),
        store: store.into(),
        kind: kind.into(),
        settings,
    };
    ferry::stores::set(ferry.store(), &spec, "test")
        .await
        .expect("set the store");
}

#[tokio::test(flavor = "multi_thread")]
async fn meta_in_the_local_database_under_the_granted_prefix() {
    let (_dir, ferry) = hostile_lab().await;
    for (key, value) in [("granted/b", "2"), ("granted/a", "1"), ("granted/c", "3")] {
        let job = op(
            &ferry,
            json!({ "store": "meta", "op": "set", "key": key, "value": value }),
        )
        .await;
        assert_eq!(result(&job), json!({ "ok": true }));
    }
    let got = op(
        &ferry,
        json!({ "store": "meta", "op": "get", "key": "granted/a" }),
    )
    .await;
    assert_eq!(result(&got), json!({ "value": "1" }));
    let missing = op(
        &ferry,
        json!({ "store": "meta", "op": "get", "key": "granted/z" }),
    )
    .await;
    assert_eq!(result(&missing), json!({ "value": null }));
    // Kept in the database, per instance.
    let stored = ferry.store().meta_get("lab", "granted/b").await.unwrap();
    assert_eq!(stored.as_deref(), Some(&b"2"[..]));

    let listed = op(
        &ferry,
        json!({ "store": "meta", "op": "list", "key": "granted/", "limit": 2 }),
    )
    .await;
    assert_eq!(
        result(&listed),
        json!({ "keys": ["granted/a", "granted/b"] })
    );
    let next = op(
        &ferry,
        json!({ "store": "meta", "op": "list", "key": "granted/", "after": "granted/b" }),
    )
    .await;
    assert_eq!(result(&next), json!({ "keys": ["granted/c"] }));

    let deleted = op(
        &ferry,
        json!({ "store": "meta", "op": "delete", "key": "granted/a" }),
    )
    .await;
    assert_eq!(result(&deleted), json!({ "deleted": true }));
    let again = op(
        &ferry,
        json!({ "store": "meta", "op": "delete", "key": "granted/a" }),
    )
    .await;
    assert_eq!(result(&again), json!({ "deleted": false }));

    // Keys past the grant are denied, naming the manifest's prefixes.
    for payload in [
        json!({ "store": "meta", "op": "get", "key": "private/token" }),
        json!({ "store": "meta", "op": "set", "key": "private/token", "value": "x" }),
        json!({ "store": "meta", "op": "list", "key": "" }),
    ] {
        let error = failure(&op(&ferry, payload).await);
        assert!(
            error.contains("[capabilities.meta] prefixes") && error.contains("granted/"),
            "{error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn meta_on_redis_reads_what_other_systems_write_there() {
    let (_dir, ferry) = hostile_lab().await;
    let prefix = format!("ferry-test:{:x}:", fastrand::u64(..));
    set_store(
        &ferry,
        "meta",
        "redis",
        StoreSettings {
            url: Some("redis://127.0.0.1:6379/0".into()),
            key_prefix: Some(prefix.clone()),
            ..Default::default()
        },
    )
    .await;
    let client = redis::Client::open("redis://127.0.0.1:6379/0").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis
        .set(format!("{prefix}granted/order-7"), "from another system")
        .await
        .unwrap();

    let got = op(
        &ferry,
        json!({ "store": "meta", "op": "get", "key": "granted/order-7" }),
    )
    .await;
    assert_eq!(result(&got), json!({ "value": "from another system" }));
    let set = op(
        &ferry,
        json!({ "store": "meta", "op": "set", "key": "granted/order-8", "value": "seen" }),
    )
    .await;
    assert_eq!(result(&set), json!({ "ok": true }));
    let written: Option<String> = redis.get(format!("{prefix}granted/order-8")).await.unwrap();
    assert_eq!(written.as_deref(), Some("seen"));
    let listed = op(
        &ferry,
        json!({ "store": "meta", "op": "list", "key": "granted/" }),
    )
    .await;
    assert_eq!(
        result(&listed),
        json!({ "keys": ["granted/order-7", "granted/order-8"] })
    );
    // Nothing went to the local database.
    assert_eq!(
        ferry
            .store()
            .meta_get("lab", "granted/order-8")
            .await
            .unwrap(),
        None
    );
    let deleted = op(
        &ferry,
        json!({ "store": "meta", "op": "delete", "key": "granted/order-8" }),
    )
    .await;
    assert_eq!(result(&deleted), json!({ "deleted": true }));
    let _: () = redis.del(format!("{prefix}granted/order-7")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_are_refused_until_an_operator_grants_a_directory() {
    let (_dir, ferry) = hostile_lab().await;
    let job = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "inbox/a" }),
    )
    .await;
    let error = failure(&job);
    assert!(
        error.contains("ferry store set lab blobs --type disk --dir"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_read_what_another_system_dropped_and_never_leave_their_directory() {
    let (dir, ferry) = hostile_lab().await;
    let blobs = dir.path().join("blobs-of-lab");
    set_store(
        &ferry,
        "blobs",
        "disk",
        StoreSettings {
            dir: Some(blobs.clone()),
            ..Default::default()
        },
    )
    .await;
    // Another system drops order documents in the directory.
    std::fs::create_dir_all(blobs.join("inbox/2026")).unwrap();
    std::fs::write(blobs.join("inbox/2026/order-1.json"), br#"{"id":1}"#).unwrap();
    std::fs::write(blobs.join("inbox/2026/order-2.json"), br#"{"id":22}"#).unwrap();
    std::fs::write(dir.path().join("outside.txt"), b"not yours").unwrap();

    let got = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "inbox/2026/order-1.json" }),
    )
    .await;
    assert_eq!(result(&got), json!({ "value": "{\"id\":1}" }));
    let listed = op(
        &ferry,
        json!({ "store": "blobs", "op": "list", "key": "inbox/" }),
    )
    .await;
    assert_eq!(
        result(&listed),
        json!({ "blobs": [
            { "key": "inbox/2026/order-1.json", "size": 8 },
            { "key": "inbox/2026/order-2.json", "size": 9 },
        ] })
    );

    // Read-only: the manifest does not say `write = true`.
    let put = op(
        &ferry,
        json!({ "store": "blobs", "op": "set", "key": "inbox/new", "value": "x" }),
    )
    .await;
    let error = failure(&put);
    assert!(error.contains("write = true"), "{error}");
    assert!(!blobs.join("inbox/new").exists());

    // Keys that would leave the directory are refused before any file is
    // touched, and a link placed in it does not lead out either.
    for key in [
        "inbox/../../outside.txt",
        "/etc/passwd",
        "inbox/..",
        "inbox\\..\\x",
    ] {
        let job = op(&ferry, json!({ "store": "blobs", "op": "get", "key": key })).await;
        assert_eq!(
            job.error_kind.as_deref(),
            Some("final"),
            "{key}: {:?}",
            job.error
        );
    }
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), blobs.join("inbox/link")).unwrap();
    let linked = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "inbox/link" }),
    )
    .await;
    let error = failure(&linked);
    assert!(error.contains("outside the store's directory"), "{error}");
    // Keys outside the granted prefixes are denied.
    let other = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "archive/a" }),
    )
    .await;
    assert!(failure(&other).contains("[capabilities.blobs] prefixes"));
}

/// `ferry --json ARGS…` on `dir`'s data; its stdout as JSON, or its stderr.
fn ferry_json(dir: &std::path::Path, ferry: &ferry::Ferry, args: &[&str]) -> Result<Value, String> {
    let out = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir)
        .arg("--database")
        .arg(ferry.store().url())
        .arg("--json")
        .args(args)
        .output()
        .expect("run ferry");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("JSON output"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_set_list_and_remove_stores_from_the_cli() {
    let (dir, ferry) = hostile_lab().await;
    let path = dir.path();
    // By default: meta in the local database, no blobs.
    let listed = ferry_json(path, &ferry, &["store", "list"]).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        (&listed[0]["store"], &listed[0]["kind"]),
        (&json!("meta"), &json!("local"))
    );

    let blobs_dir = path.join("granted");
    let blobs_text = blobs_dir.to_str().unwrap();
    let set = ferry_json(
        path,
        &ferry,
        &[
            "store", "set", "lab", "blobs", "--type", "disk", "--dir", blobs_text,
        ],
    )
    .unwrap();
    assert_eq!(set["kind"], "disk");
    assert!(blobs_dir.is_dir(), "the directory is created when granted");
    ferry_json(
        path,
        &ferry,
        &[
            "store",
            "set",
            "lab",
            "meta",
            "--type",
            "redis",
            "--url",
            "redis://127.0.0.1:6379/0",
        ],
    )
    .unwrap();
    let listed = ferry_json(path, &ferry, &["store", "list", "lab"]).unwrap();
    let kinds: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["store"].as_str().unwrap().into(),
                s["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("meta".into(), "redis".into()),
            ("blobs".into(), "disk".into())
        ]
    );
    // Stores are not topics: the relay's list does not show them.
    assert_eq!(
        ferry_json(path, &ferry, &["topic", "list"]).unwrap(),
        json!([])
    );

    // Refusals say what to do.
    let password = ferry_json(
        path,
        &ferry,
        &[
            "store",
            "set",
            "lab",
            "meta",
            "--type",
            "redis",
            "--url",
            "redis://:pw@127.0.0.1:6379/0",
        ],
    )
    .unwrap_err();
    assert!(password.contains("--password-secret"), "{password}");
    let secret = ferry_json(
        path,
        &ferry,
        &[
            "store",
            "set",
            "lab",
            "meta",
            "--type",
            "redis",
            "--url",
            "redis://127.0.0.1:6379/0",
            "--password-secret",
            "missing",
        ],
    )
    .unwrap_err();
    assert!(secret.contains("ferry secret set lab missing"), "{secret}");
    let kind = ferry_json(
        path,
        &ferry,
        &["store", "set", "lab", "blobs", "--type", "ftp"],
    )
    .unwrap_err();
    assert!(
        kind.contains("unknown type `ftp`") && kind.contains("disk"),
        "{kind}"
    );
    let no_dir = ferry_json(
        path,
        &ferry,
        &["store", "set", "lab", "blobs", "--type", "disk"],
    )
    .unwrap_err();
    assert!(no_dir.contains("needs `--dir`"), "{no_dir}");
    let topic = ferry_json(
        path,
        &ferry,
        &[
            "topic",
            "set",
            "lab",
            "meta",
            "--type",
            "nats",
            "--url",
            "nats://127.0.0.1:4222",
        ],
    )
    .unwrap_err();
    assert!(topic.contains("ferry store set lab meta"), "{topic}");

    ferry_json(path, &ferry, &["store", "remove", "lab", "meta"]).unwrap();
    ferry_json(path, &ferry, &["store", "remove", "lab", "blobs"]).unwrap();
    let listed = ferry_json(path, &ferry, &["store", "list", "lab"]).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["kind"], "local");
    let audit = ferry::audit::list(ferry.store(), &ferry::store::AuditFilter::default())
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == ferry::stores::STORE_SET));
    assert!(
        audit
            .iter()
            .any(|e| e.action == ferry::stores::STORE_REMOVE)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_in_an_s3_bucket_under_a_key_prefix() {
    let s3 = ferry_tests::s3::S3Server::start().await;
    s3.bucket("orders").await;
    let (_dir, ferry) = hostile_lab().await;
    ferry_tests::set_secret(&ferry, "lab", "s3_secret_key", "testing").await;
    set_store(
        &ferry,
        "blobs",
        "s3",
        StoreSettings {
            url: Some(s3.endpoint.clone()),
            bucket: Some("orders".into()),
            access_key_id: Some("testing".into()),
            password_secret: Some("s3_secret_key".into()),
            key_prefix: Some("ferry/lab/".into()),
            ..Default::default()
        },
    )
    .await;
    // Another system drops documents in the bucket, some outside the prefix.
    s3.put("orders", "ferry/lab/inbox/order-1.json", br#"{"id":1}"#)
        .await;
    s3.put("orders", "ferry/lab/inbox/order-2.json", br#"{"id":22}"#)
        .await;
    s3.put("orders", "ferry/other/inbox/order-3.json", b"{}")
        .await;

    let got = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "inbox/order-1.json" }),
    )
    .await;
    assert_eq!(result(&got), json!({ "value": "{\"id\":1}" }));
    let listed = op(
        &ferry,
        json!({ "store": "blobs", "op": "list", "key": "inbox/order-" }),
    )
    .await;
    assert_eq!(
        result(&listed),
        json!({ "blobs": [
            { "key": "inbox/order-1.json", "size": 8 },
            { "key": "inbox/order-2.json", "size": 9 },
        ] })
    );
    let missing = op(
        &ferry,
        json!({ "store": "blobs", "op": "get", "key": "inbox/none" }),
    )
    .await;
    assert_eq!(result(&missing), json!({ "value": null }));

    // What a writing module does, through the same store the capability opens.
    let row = ferry::stores::configured(ferry.store(), "lab", ferry::stores::StoreKind::Blobs)
        .await
        .unwrap()
        .unwrap();
    let clients = ferry::stores::blobs::s3::S3Clients::default();
    let blobs = ferry::stores::blobs::BlobStore::open(&row, Some("testing"), &clients)
        .await
        .unwrap();
    blobs.put("outbox/receipt-1.txt", b"paid").await.unwrap();
    assert!(s3.exists("orders", "ferry/lab/outbox/receipt-1.txt").await);
    assert_eq!(
        blobs.get("outbox/receipt-1.txt").await.unwrap().as_deref(),
        Some(&b"paid"[..])
    );
    assert!(blobs.delete("outbox/receipt-1.txt").await.unwrap());
    assert!(!blobs.delete("outbox/receipt-1.txt").await.unwrap());
    assert!(!s3.exists("orders", "ferry/lab/outbox/receipt-1.txt").await);
    let after = blobs
        .list("inbox/", Some("inbox/order-1.json"), 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].key, "inbox/order-2.json");
}
