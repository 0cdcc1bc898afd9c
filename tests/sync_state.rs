//! Two-way sync state a user relies on (issue 13): a local record's revision
//! tells an exporter the local side changed; a create intent survives a crash
//! between the remote create and the bind, and ends with the bind; a cursor
//! moves only with the completion of the job that set it, never with a
//! failed try or a run whose lease was lost. And a connector built against
//! the 0.1.0 contract still loads and imports.

use ferry::admin::{Admin, Remote};
use ferry::queue::{Execution, Executor, TryFailure, WorkerConfig};
use ferry::store::{Completion, CursorWrite, JobRow, JobState, NewJob, SyncedAt, now_ms};
use ferry::{FailureKind, Ferry};
use ferry_tests::*;
use serde_json::json;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What [`Executor`] answers with (the host's `futures_util::BoxFuture`).
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_changes_a_value_bumps_the_revision_and_a_no_change_write_does_not() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let created = store
        .create_record("product", json!({ "name": "Mug", "price": 5 }))
        .await
        .unwrap();
    assert_eq!(created.revision, 1);

    let changed = store
        .write_record("product", created.id, json!({ "price": 6 }))
        .await
        .unwrap();
    assert_eq!(changed, vec!["price".to_string()]);
    let after = store.read_record("product", created.id).await.unwrap();
    assert_eq!(after.revision, 2);

    // Writing the values it already has changes nothing: same revision.
    let changed = store
        .write_record("product", created.id, json!({ "name": "Mug", "price": 6 }))
        .await
        .unwrap();
    assert!(changed.is_empty());
    let same = store.read_record("product", created.id).await.unwrap();
    assert_eq!(same.revision, 2);
    assert_eq!(same.updated_at, after.updated_at);

    // Searches return it too.
    let found = store.search_records("product", &[], None, 0).await.unwrap();
    assert_eq!(found[0].revision, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_intent_is_resumed_with_its_key_until_a_bind_ends_it() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let record = store
        .create_record("customer", json!({ "email": "a@example.com" }))
        .await
        .unwrap();

    // First try: a fresh intent. A crash before the bind, and the next try
    // resumes it, with the same key to find the remote record by.
    let first = store
        .begin_create("acme", "customer", record.id)
        .await
        .unwrap();
    assert!(!first.resumed);
    assert!(
        first.key.starts_with("ferry-acme-customer-"),
        "{}",
        first.key
    );
    assert!(first.key.len() <= ferry::store::MAX_INTENT_KEY);
    let again = store
        .begin_create("acme", "customer", record.id)
        .await
        .unwrap();
    assert!(again.resumed);
    assert_eq!(again.key, first.key);
    assert_eq!(again.created_at, first.created_at);
    // Another instance exporting the same record has its own intent.
    let other = store
        .begin_create("beta", "customer", record.id)
        .await
        .unwrap();
    assert!(!other.resumed);
    assert_ne!(other.key, first.key);

    // The bind that records the sync ends the intent and stores both versions.
    let link = store
        .bind_synced(
            "acme",
            "customer",
            record.id,
            "C-1",
            synced_at(Some("etag-1"), 1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(link.remote_version.as_deref(), Some("etag-1"));
    assert_eq!(link.synced_revision, Some(1));
    assert!(
        store
            .create_intent("acme", "customer", record.id)
            .await
            .unwrap()
            .is_none()
    );
    let next = store
        .begin_create("acme", "customer", record.id)
        .await
        .unwrap();
    assert!(!next.resumed, "a bound record's next export starts afresh");
    assert_ne!(next.key, first.key);

    // A plain bind ends it too.
    store
        .bind("acme", "customer", record.id, "C-1", None)
        .await
        .unwrap();
    assert!(
        store
            .create_intent("acme", "customer", record.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_state_tells_which_side_changed_since_the_last_sync() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let record = store
        .create_record("product", json!({ "name": "Mug" }))
        .await
        .unwrap();
    assert!(
        store
            .sync_state("acme", "product", record.id)
            .await
            .unwrap()
            .is_none(),
        "no link: no sync state"
    );

    store
        .bind_synced(
            "acme",
            "product",
            record.id,
            "P-9",
            synced_at(Some("v1"), 1),
            None,
        )
        .await
        .unwrap();
    let synced = store
        .sync_state("acme", "product", record.id)
        .await
        .unwrap()
        .expect("linked");
    assert_eq!(synced.revision, 1);
    assert_eq!(synced.link.synced_revision, Some(1));
    assert_eq!(synced.link.remote_version.as_deref(), Some("v1"));

    // The local side changes: its revision moves past the synced one.
    store
        .write_record("product", record.id, json!({ "name": "Big mug" }))
        .await
        .unwrap();
    let changed = store
        .sync_state("acme", "product", record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.revision, 2);
    assert_eq!(changed.link.synced_revision, Some(1));
    assert!(changed.local_updated_at >= synced.local_updated_at);

    // A plain bind to the same external id keeps the versions; to another
    // external record, it forgets them (another version history).
    let same = store
        .bind("acme", "product", record.id, "P-9", Some(json!({ "k": 1 })))
        .await
        .unwrap();
    assert_eq!(same.remote_version.as_deref(), Some("v1"));
    assert_eq!(same.synced_revision, Some(1));
    let moved = store
        .bind("acme", "product", record.id, "P-10", None)
        .await
        .unwrap();
    assert_eq!(moved.remote_version, None);
    assert_eq!(moved.synced_revision, None);

    // Binding as synced a record that does not exist says so.
    let err = store
        .bind_synced(
            "acme",
            "product",
            record.id + 1000,
            "P-11",
            synced_at(None, 1),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("product"), "{err}");

    // A revision the record never had is refused: it would mark its next
    // change as synced.
    let err = store
        .bind_synced(
            "acme",
            "product",
            record.id,
            "P-9",
            synced_at(Some("v2"), 3),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("revision 3"), "{err}");

    // Synced at an older revision than the record's now (a change made while
    // the export was on its way): that change stays unsynced.
    let link = store
        .bind_synced(
            "acme",
            "product",
            record.id,
            "P-9",
            synced_at(Some("v2"), 1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(link.synced_revision, Some(1));
    let state = store
        .sync_state("acme", "product", record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.revision, 2, "the write above is still to export");
}

/// An executor that runs nothing: each job sets cursor `stream` of its
/// instance to its payload's `n`, and succeeds unless the payload says `fail`.
struct SettingCursors;

impl Executor for SettingCursors {
    fn execute<'a>(&'a self, job: &'a JobRow) -> BoxFuture<'a, Execution> {
        Box::pin(async move {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
            let outcome = if payload["fail"] == json!(true) {
                Err(TryFailure {
                    kind: FailureKind::Final,
                    message: "the remote refused the page".into(),
                    retry_after_ms: None,
                })
            } else {
                Ok("{}".into())
            };
            Execution {
                outcome,
                module: None,
                logs: Vec::new(),
                lock_contended: false,
                snooze_cap: None,
                cursors: vec![CursorWrite {
                    instance: job.instance.clone(),
                    name: "import:product".into(),
                    value: payload["n"].to_string(),
                }],
                messages: Vec::new(),
            }
        })
    }

    fn maintain(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

async fn run_setting_cursors(ferry: &Ferry) {
    let config = WorkerConfig {
        until_idle: true,
        concurrency: 1,
        ..Default::default()
    };
    ferry::queue::run_worker(ferry.store(), Arc::new(SettingCursors), &config, |_| {})
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_commits_with_a_done_job_and_not_with_a_failed_try() {
    let (_dir, ferry) = hostile_lab().await;
    let store = ferry.store();
    let failing = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 5, "fail": true })))
        .await
        .unwrap();
    run_setting_cursors(&ferry).await;
    assert_eq!(store.job(failing).await.unwrap().state, JobState::Failed);
    assert_eq!(
        store.cursor("lab", "import:product").await.unwrap(),
        None,
        "a failed try leaves the cursor where it was"
    );

    let done = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 7 })))
        .await
        .unwrap();
    run_setting_cursors(&ferry).await;
    assert_eq!(store.job(done).await.unwrap().state, JobState::Done);
    assert_eq!(
        store.cursor("lab", "import:product").await.unwrap(),
        Some(json!(7))
    );
    let rows = store.cursors("lab").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].job_id,
        Some(done),
        "the cursor says which job set it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_after_a_lost_lease_does_not_move_the_cursor() {
    let (_dir, ferry) = hostile_lab().await;
    let store = ferry.store();
    let id = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    // A worker claims it with a lease that runs out at once, and is rescued.
    let claimed = claim(&ferry, 1, Duration::ZERO).await;
    let stale = claimed[0].lease_token.unwrap();
    store.mark_started(&[(id, stale, now_ms())]).await.unwrap();
    eventually(
        Duration::from_secs(60),
        "the expired claim is rescued",
        async || store.rescue_expired().await.unwrap() == 1,
    )
    .await;
    let fresh_claim = claim(&ferry, 1, Duration::from_secs(60)).await;
    let token = fresh_claim[0].lease_token.unwrap();

    let completion = |token: i64, value: i64| Completion {
        id,
        token,
        result: "{}".into(),
        module: None,
        started_at: now_ms(),
        progress: None,
        cursors: vec![CursorWrite {
            instance: "lab".into(),
            name: "import:order".into(),
            value: value.to_string(),
        }],
        messages: Vec::new(),
    };
    // The first worker's late completion matches no row: no cursor either.
    let fenced = store
        .record_completions(&[completion(stale, 1)], &[])
        .await
        .unwrap();
    assert_eq!(fenced, vec![id]);
    assert_eq!(store.cursor("lab", "import:order").await.unwrap(), None);

    // The worker that holds the lease completes it, with its cursor.
    let fenced = store
        .record_completions(&[completion(token, 2)], &[])
        .await
        .unwrap();
    assert!(fenced.is_empty());
    assert_eq!(store.job(id).await.unwrap().state, JobState::Done);
    assert_eq!(
        store.cursor("lab", "import:order").await.unwrap(),
        Some(json!(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_set_and_clear_cursors_locally_and_on_a_server() {
    let (dir, ferry) = hostile_lab().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = ferry.clone();
    tokio::spawn(async move {
        ferry::serve::run(
            served,
            listener,
            Default::default(),
            None,
            tokio_util::sync::CancellationToken::new(),
        )
        .await
    });
    let token = api_token(&ferry, ferry::tokens::Role::Developer).await;
    let remote = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(token)));
    let local = Admin::Local(ferry.clone());

    // A name with `:` and `/` travels in the URL path.
    let set = remote
        .set_cursor("lab", "import:shop/product", &json!({ "since": 42 }), "x")
        .await
        .unwrap();
    assert_eq!(set.value, json!({ "since": 42 }));
    assert_eq!(set.job_id, None);
    let listed = local.cursors("lab").await.unwrap();
    assert_eq!(listed, remote.cursors("lab").await.unwrap());
    assert_eq!(listed[0].name, "import:shop/product");

    // Refusals an operator can act on.
    let bad = local
        .set_cursor("lab", "has space", &json!(1), "cli")
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("letters, digits"), "{bad}");
    assert!(remote.cursors("nowhere").await.is_err());

    // The CLI clears it (and a second clear finds none).
    let cleared = cli(
        &ferry,
        dir.path(),
        &["cursors", "clear", "lab", "import:shop/product"],
    );
    assert!(cleared.status.success(), "{cleared:?}");
    assert!(local.cursors("lab").await.unwrap().is_empty());
    assert!(
        !cli(
            &ferry,
            dir.path(),
            &["cursors", "clear", "lab", "import:shop/product"]
        )
        .status
        .success()
    );
    let set = cli(
        &ferry,
        dir.path(),
        &["cursors", "set", "lab", "export:x", "\"2026-01-01\""],
    );
    assert!(set.status.success(), "{set:?}");
    let list = cli(&ferry, dir.path(), &["--json", "cursors", "list", "lab"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(listed[0]["value"], json!("2026-01-01"));
    remote.clear_cursor("lab", "export:x", "x").await.unwrap();
    assert!(remote.cursors("lab").await.unwrap().is_empty());

    // Every change is in the audit log, with who made it.
    let audit = ferry
        .store()
        .audit_log(&ferry::store::AuditFilter {
            instance: Some("lab".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert!(
        actions.contains(&(ferry::admin::CURSOR_SET, "cli")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(ferry::admin::CURSOR_CLEAR, "cli")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, who)| *a == ferry::admin::CURSOR_SET && who.starts_with("api:")),
        "{actions:?}"
    );
}

/// Run the `ferry` binary on the installation in `dir`, on its database.
fn cli(ferry: &Ferry, dir: &Path, args: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| {
        std::process::Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(dir)
            .arg("--database")
            .arg(ferry.store().url())
            .args(args)
            .env_remove("FERRY_SERVER")
            .env_remove("FERRY_TOKEN")
            .env_remove("FERRY_DATABASE_URL")
            .output()
            .expect("run ferry")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_built_against_the_0_1_0_contract_still_loads_and_imports() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shop-0.1.0");
    let (_dir, ferry) = fresh(|_| {}).await;
    ferry
        .install(&fixture.join("connector.toml"), &fixture.join("shop.wasm"))
        .await
        .expect("the 0.1.0 component installs");
    let (shop, url) = start_shop(25, 0, 0).await.unwrap();
    ferry
        .add_instance("old", "shop", shop_params("shop", &url))
        .await
        .unwrap();
    enqueue_import(&ferry, "old", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 25);
    let links = ferry
        .store()
        .search_links(Some("old"), Some("product"), None, None, 0)
        .await
        .unwrap();
    assert_eq!(links.len(), 25);
    assert!(shop.data().requests.keys().any(|k| k.contains("products")));
}

/// Synced at `revision`, the remote at `version`.
fn synced_at(version: Option<&str>, revision: i64) -> SyncedAt<'_> {
    SyncedAt {
        remote_version: version,
        revision,
    }
}
