//! Conflicts reported by connectors (a record changed on both sides) and
//! resolved by people: one open conflict per record, the field diff, the job
//! of the side taken enqueued once, merged values written without an export,
//! resolving twice refused with how it was resolved; conflict policies. Through
//! the library, the admin API and the `ferry` binary, on SQLite and (with
//! `FERRY_TEST_DATABASE`) PostgreSQL.

use ferry::admin::{Admin, Remote};
use ferry::serve::ServeOptions;
use ferry::store::{
    ConflictFilter, ConflictPolicy, ConflictState, JobFilter, JobRef, NewConflict, Take,
};
use ferry::tokens::Role;
use ferry::{Error, Ferry, FerryOptions};
use ferry_tests::*;
use serde_json::{Map, Value, json};
use tempfile::TempDir;

/// A fresh installation with backend instance `acme`, and the global
/// arguments that point the `ferry` binary at it (`--data-dir`, `--database`).
pub(crate) async fn installation() -> (TempDir, Ferry, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = FerryOptions::new(dir.path());
    options.database_url = test_database().await;
    let mut args = vec!["--data-dir".to_string(), dir.path().display().to_string()];
    if let Some(url) = &options.database_url {
        args.extend(["--database".to_string(), url.clone()]);
    }
    let ferry = Ferry::open_with(options).await.expect("open ferry");
    ferry
        .store()
        .add_instance("acme", "shop", &Map::new())
        .await
        .expect("add instance");
    (dir, ferry, args)
}

/// What a run of the `ferry` binary printed.
pub(crate) struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Run the `ferry` binary with `global` then `args`.
pub(crate) async fn cli(global: &[String], args: &[&str]) -> Run {
    let out = tokio::process::Command::new(tokio::task::spawn_blocking(ferry_bin).await.unwrap())
        .args(global)
        .args(args)
        .env_remove("FERRY_SERVER")
        .env_remove("FERRY_TOKEN")
        .env_remove("FERRY_DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run ferry");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("a JSON object")
}

/// A conflict on `product` `local_id` of `acme` with these two versions.
fn conflict(local_id: i64, local: Value, remote: Value) -> NewConflict {
    NewConflict {
        instance: "acme".into(),
        model: "product".into(),
        local_id,
        external_id: format!("P-{local_id}"),
        local: object(local),
        remote: object(remote),
        take_local: JobRef {
            name: "export-record".into(),
            payload: json!({ "model": "product", "id": local_id, "force": true }),
        },
        take_remote: JobRef {
            name: "import-record".into(),
            payload: json!({ "model": "product", "external_id": format!("P-{local_id}") }),
        },
        job_id: Some(7),
        reported_by: "job:7".into(),
    }
}

fn open() -> ConflictFilter {
    ConflictFilter {
        state: Some(ConflictState::Open),
        ..Default::default()
    }
}

/// The jobs of `acme`, oldest first.
async fn jobs(ferry: &Ferry) -> Vec<ferry::store::JobRow> {
    let filter = JobFilter {
        instance: Some("acme".into()),
        ..Default::default()
    };
    let mut jobs = ferry.store().list_jobs(&filter).await.expect("jobs");
    jobs.reverse();
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_report_of_a_record_replaces_its_open_conflict_and_the_diff_names_each_field() {
    let (_dir, ferry, _) = installation().await;
    let store = ferry.store();
    let first = store
        .report_conflict(&conflict(
            1,
            json!({"name": "Chair", "list_price": 10}),
            json!({"name": "Stool", "list_price": 10}),
        ))
        .await
        .unwrap();
    let second = store
        .report_conflict(&conflict(
            1,
            json!({"name": "Chair", "list_price": 10, "sku": "C-1"}),
            json!({"name": "Stool", "list_price": 12, "color": "red"}),
        ))
        .await
        .unwrap();
    let other = store
        .report_conflict(&conflict(2, json!({"name": "A"}), json!({"name": "B"})))
        .await
        .unwrap();

    let open = store.conflicts(&open()).await.unwrap();
    let ids: Vec<i64> = open.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [other, second],
        "one open conflict per record, newest first"
    );
    let replaced = store.conflict(first).await.unwrap();
    assert_eq!(replaced.state, ConflictState::Resolved);
    assert_eq!(replaced.resolution.as_deref(), Some("superseded"));
    assert_eq!(replaced.resolved_by.as_deref(), Some("job:7"));

    // Every field of the remote version whose value differs (one the local
    // record lacks as null); equal ones not at all, nor fields only the local
    // side keeps (`sku` here: the sync does not carry it).
    let diff = Value::Object(store.conflict(second).await.unwrap().diff);
    assert_eq!(
        diff,
        json!({
            "name": {"local": "Chair", "remote": "Stool"},
            "list_price": {"local": 10, "remote": 12},
            "color": {"local": null, "remote": "red"},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_enqueues_the_job_of_the_side_taken_once_and_a_second_resolve_says_how_it_was() {
    let (_dir, ferry, _) = installation().await;
    let store = ferry.store();
    let a = store
        .report_conflict(&conflict(1, json!({"name": "A"}), json!({"name": "B"})))
        .await
        .unwrap();
    let b = store
        .report_conflict(&conflict(2, json!({"name": "C"}), json!({"name": "D"})))
        .await
        .unwrap();

    let local = store
        .resolve_conflict(a, &Take::Local, "cli")
        .await
        .unwrap();
    let remote = store
        .resolve_conflict(b, &Take::Remote, "api:ops")
        .await
        .unwrap();
    let again = store.resolve_conflict(a, &Take::Remote, "api:ops").await;

    let jobs = jobs(&ferry).await;
    assert_eq!(jobs.len(), 2, "one job per resolution: {jobs:?}");
    assert_eq!(
        (jobs[0].id, jobs[0].name.as_str()),
        (local.job, "export-record")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&jobs[0].payload).unwrap(),
        json!({"model": "product", "id": 1, "force": true})
    );
    assert_eq!(
        jobs[0].identity_key.as_deref(),
        Some(&*format!("conflict:{a}"))
    );
    assert_eq!(
        (jobs[1].id, jobs[1].name.as_str()),
        (remote.job, "import-record")
    );
    assert_eq!(jobs[1].user, "api:ops");

    match again {
        Err(Error::Conflict(message)) => {
            assert!(
                message.contains("already resolved") && message.contains("by cli"),
                "{message}"
            );
            assert!(message.contains("took local"), "{message}");
        }
        other => panic!("a second resolve must be refused, got {other:?}"),
    }
    assert!(store.conflicts(&open()).await.unwrap().is_empty());

    // Both resolutions are in the audit log, with who and what.
    let filter = ferry::store::AuditFilter {
        instance: Some("acme".into()),
        limit: 10,
        ..Default::default()
    };
    let audit = ferry::audit::list(store, &filter).await.unwrap();
    let resolves: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.action == ferry::audit::CONFLICT_RESOLVE)
        .map(|e| (e.actor.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(resolves.len(), 2, "{audit:?}");
    assert!(resolves.contains(&("cli", &*format!("conflict {a}"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_writes_the_values_into_the_local_record_without_an_export_event() {
    let (_dir, ferry, _) = installation().await;
    install(&ferry, &["shop"]).await;
    let product = ferry
        .create_record(
            "product",
            json!({"name": "Chair", "list_price": 10.0, "default_code": "C-1"}),
            "test",
        )
        .await
        .unwrap();
    let before = jobs(&ferry).await.len();
    let id = ferry
        .store()
        .report_conflict(&conflict(
            product.id,
            json!({"name": "Chair", "list_price": 10.0}),
            json!({"name": "Stool", "list_price": 12.0}),
        ))
        .await
        .unwrap();

    let merge = Take::Merge(object(json!({"name": "Stool", "list_price": 10.0})));
    let resolved = ferry
        .store()
        .resolve_conflict(id, &merge, "cli")
        .await
        .unwrap();

    let record = ferry
        .store()
        .read_record("product", product.id)
        .await
        .unwrap();
    assert_eq!(record.values["name"], "Stool");
    assert_eq!(
        record.values["default_code"], "C-1",
        "other fields are kept"
    );
    let after = jobs(&ferry).await;
    assert_eq!(
        after.len(),
        before + 1,
        "only the take-local job: {after:?}"
    );
    let job = after.last().unwrap();
    assert_eq!((job.id, job.name.as_str()), (resolved.job, "export-record"));
    assert_eq!(resolved.conflict.resolution.as_deref(), Some("merge"));

    // The same change made by a person does fire the shop's export: the
    // merge was quiet because it is a merge, not for want of a subscriber.
    ferry
        .write_record("product", product.id, json!({"name": "Bench"}), "test")
        .await
        .unwrap();
    assert_eq!(jobs(&ferry).await.len(), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_policies_default_to_manual_and_are_set_per_model() {
    let (_dir, ferry, _) = installation().await;
    let store = ferry.store();
    assert_eq!(
        store.conflict_policy("acme", "product").await.unwrap(),
        ConflictPolicy::Manual
    );
    store
        .set_conflict_policy("acme", "product", ConflictPolicy::RemoteWins, "cli")
        .await
        .unwrap();
    assert_eq!(
        store.conflict_policy("acme", "product").await.unwrap(),
        ConflictPolicy::RemoteWins
    );
    assert_eq!(
        store.conflict_policy("acme", "customer").await.unwrap(),
        ConflictPolicy::Manual,
        "a policy is per model"
    );
    let unknown = store
        .set_conflict_policy("nobody", "product", ConflictPolicy::LocalWins, "cli")
        .await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
    let message = ConflictPolicy::parse("remote").unwrap_err().to_string();
    assert!(
        message.contains("remote-wins, local-wins, newest-wins, manual"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_conflicts_lists_shows_resolves_and_sets_policies() {
    let (_dir, ferry, global) = installation().await;
    let id = ferry
        .store()
        .report_conflict(&conflict(
            3,
            json!({"name": "Chair", "list_price": 10}),
            json!({"name": "Stool", "list_price": 10}),
        ))
        .await
        .unwrap();
    let id_arg = id.to_string();

    let list = cli(&global, &["conflicts", "list"]).await;
    assert!(list.ok, "{}", list.stderr);
    assert!(
        list.stdout.contains("P-3") && list.stdout.contains("name"),
        "{}",
        list.stdout
    );
    let listed = cli(
        &global,
        &["--json", "conflicts", "list", "--model", "product"],
    )
    .await;
    assert_eq!(listed.json()[0]["id"], id);

    let shown = cli(&global, &["conflicts", "show", &id_arg]).await;
    assert!(shown.ok, "{}", shown.stderr);
    for part in ["\"Chair\"", "\"Stool\"", "export-record", "import-record"] {
        assert!(shown.stdout.contains(part), "{part} in:\n{}", shown.stdout);
    }
    let json = cli(&global, &["conflicts", "show", &id_arg, "--json"]).await;
    assert_eq!(json.json()["diff"]["name"]["remote"], "Stool");

    let merge_alone = cli(
        &global,
        &["conflicts", "resolve", &id_arg, "--take", "merge"],
    )
    .await;
    assert!(!merge_alone.ok);
    assert!(
        merge_alone.stderr.contains("--values"),
        "{}",
        merge_alone.stderr
    );

    let resolved = cli(
        &global,
        &["conflicts", "resolve", &id_arg, "--take", "remote"],
    )
    .await;
    assert!(resolved.ok, "{}", resolved.stderr);
    assert!(
        resolved.stdout.contains("enqueued job"),
        "{}",
        resolved.stdout
    );
    let twice = cli(
        &global,
        &["conflicts", "resolve", &id_arg, "--take", "local"],
    )
    .await;
    assert!(!twice.ok);
    assert!(
        twice.stderr.contains("already resolved"),
        "{}",
        twice.stderr
    );
    let open = cli(&global, &["conflicts", "list"]).await;
    assert!(open.stdout.contains("no open conflicts"), "{}", open.stdout);
    let all = cli(&global, &["--json", "conflicts", "list", "--all"]).await;
    assert_eq!(all.json()[0]["resolution"], "remote");

    let default = cli(&global, &["conflicts", "policy", "acme", "product"]).await;
    assert!(default.stdout.contains("manual"), "{}", default.stdout);
    let set = cli(
        &global,
        &["conflicts", "policy", "acme", "product", "newest-wins"],
    )
    .await;
    assert!(set.ok, "{}", set.stderr);
    let shown = cli(&global, &["--json", "conflicts", "policy", "acme"]).await;
    assert_eq!(
        shown.json(),
        json!([{"instance": "acme", "model": "product", "policy": "newest-wins"}])
    );
    let wrong = cli(
        &global,
        &["conflicts", "policy", "acme", "product", "newest"],
    )
    .await;
    assert!(!wrong.ok);
    assert!(
        wrong
            .stderr
            .contains("remote-wins, local-wins, newest-wins, manual"),
        "{}",
        wrong.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_lets_viewers_read_conflicts_and_managers_resolve_them() {
    let (_dir, ferry, _) = installation().await;
    let id = ferry
        .store()
        .report_conflict(&conflict(4, json!({"name": "A"}), json!({"name": "B"})))
        .await
        .unwrap();
    let url = start_server(&ferry, ServeOptions::default()).await;
    let as_role = async |role| {
        let token = api_token(&ferry, role).await;
        Admin::Remote(Remote::new(&url).unwrap().with_token(Some(token)))
    };
    let viewer = as_role(Role::Viewer).await;
    let manager = as_role(Role::Manager).await;

    let listed = viewer.conflicts(&open()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(viewer.conflict(id).await.unwrap().external_id, "P-4");
    assert_eq!(
        viewer
            .conflict_policy("acme", "product")
            .await
            .unwrap()
            .policy,
        ConflictPolicy::Manual
    );
    let refused = viewer.resolve_conflict(id, &Take::Local, "ignored").await;
    assert!(
        matches!(
            refused,
            Err(Error::Remote {
                status: Some(403),
                ..
            })
        ),
        "{refused:?}"
    );

    let merge = Take::Merge(object(json!({"name": "AB"})));
    let missing = manager.resolve_conflict(id, &merge, "ignored").await;
    assert!(
        matches!(
            missing,
            Err(Error::Remote {
                status: Some(404),
                ..
            })
        ),
        "merging into a record that does not exist: {missing:?}"
    );
    let resolved = manager
        .resolve_conflict(id, &Take::Local, "ignored")
        .await
        .unwrap();
    assert!(resolved.conflict.resolved_by.unwrap().starts_with("api:"));
    let twice = manager.resolve_conflict(id, &Take::Local, "ignored").await;
    assert!(
        matches!(
            twice,
            Err(Error::Remote {
                status: Some(409),
                ..
            })
        ),
        "{twice:?}"
    );

    manager
        .set_conflict_policy("acme", "product", ConflictPolicy::LocalWins, "ignored")
        .await
        .unwrap();
    let policies = viewer.conflict_policies("acme").await.unwrap();
    assert_eq!(policies[0].policy, ConflictPolicy::LocalWins);
    let refused = viewer
        .set_conflict_policy("acme", "product", ConflictPolicy::Manual, "ignored")
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Remote {
                status: Some(403),
                ..
            })
        ),
        "{refused:?}"
    );
}
