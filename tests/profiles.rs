//! Job profiles and typed parameters: the `shop` component with its
//! `import-batch` and `import-record` jobs given parameters in its manifest
//! (`[jobs.NAME.params.KEY]`), against the shop simulator, on SQLite or (with
//! `FERRY_TEST_DATABASE`) PostgreSQL. Bad parameters are refused naming the
//! rule before anything is stored, wherever they come from: a profile, a
//! one-off override, `ferry run`, the admin API, a guest's enqueue, a backend
//! instance's params.

use ferry::admin::Admin;
use ferry::profiles::{NewProfile, ParamInput, ProfileEdit};
use ferry::store::{JobFilter, JobState, NewJob};
use ferry::{Ferry, FerryOptions};
use ferry_tests::*;
use serde_json::{Value, json};
use tempfile::TempDir;

mod operators;

/// The parameters the tests declare for the shop's jobs. `since` is what the
/// shop's batch reads (ms); the others it ignores, and are there to be checked.
const JOBS: &str = r#"
[jobs.import-batch]
description = "Import what changed in the shop"
[jobs.import-batch.params.model]
type = "enum"
required = true
one_of = ["product", "customer", "order"]
[jobs.import-batch.params.since]
type = "integer"
minimum = 0
[jobs.import-batch.params.window]
type = "duration"
default = "2d"
[jobs.import-batch.params.limit]
type = "integer"
minimum = 1
maximum = 1000
[jobs.import-batch.params.ref]
type = "string"
pattern = "[A-Z]{3}-[0-9]+"
[jobs.import-batch.params.tags]
type = "list"
maximum = 3
[jobs.import-batch.params.notify]
type = "url"
[jobs.import-batch.params.from]
type = "date"
[jobs.import-batch.params.dry]
type = "boolean"

[jobs.import-record.params.model]
type = "enum"
required = true
one_of = ["product", "customer", "order"]
[jobs.import-record.params.external_id]
type = "string"
"#;

struct Lab {
    dir: TempDir,
    database: Option<String>,
    ferry: Ferry,
    _shop: shop_simulator::Shop,
}

/// An installation with the shop module (its jobs declared by [`JOBS`]) and
/// instance `acme` on a shop of 5 products.
async fn lab() -> Lab {
    lab_with(JOBS).await
}

/// [`lab`] with the jobs declared by `jobs`.
async fn lab_with(jobs: &str) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database().await;
    let mut options = FerryOptions::new(dir.path());
    options.database_url = database.clone();
    let ferry = Ferry::open_with(options).await.unwrap();
    let shop = tokio::task::block_in_place(|| built("shop"));
    let text = std::fs::read_to_string(&shop.manifest).unwrap();
    let manifest = dir.path().join("connector.toml");
    std::fs::write(&manifest, format!("{text}\n{jobs}")).unwrap();
    ferry.install(&manifest, &shop.wasm).await.unwrap();
    let (simulator, url) = start_shop(5, 0, 0).await.unwrap();
    ferry
        .add_instance("acme", "shop@1.7", shop_params("shop@1.7", &url))
        .await
        .unwrap();
    Lab {
        dir,
        database,
        ferry,
        _shop: simulator,
    }
}

/// Run the `ferry` binary on the lab's installation.
async fn cli(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--data-dir".to_string(),
        lab.dir.path().display().to_string(),
    ];
    if let Some(db) = &lab.database {
        all.extend(["--database".into(), db.clone()]);
    }
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::process::Command::new(tokio::task::spawn_blocking(ferry_bin).await.unwrap())
        .args(&all)
        .env_remove("FERRY_SERVER")
        .env_remove("FERRY_TOKEN")
        .env_remove("FERRY_DATABASE_URL")
        .output()
        .await
        .unwrap()
}

fn text(pairs: &[(&str, &str)]) -> ParamInput {
    ParamInput {
        text_params: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn nightly(params: ParamInput) -> NewProfile {
    NewProfile {
        name: "nightly".into(),
        instance: "acme".into(),
        job: "import-batch".into(),
        description: "Products every night".into(),
        params,
    }
}

async fn jobs(ferry: &Ferry) -> Vec<ferry::admin::JobInfo> {
    Admin::Local(ferry.clone())
        .list_jobs(&JobFilter::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_bad_parameter_is_refused_naming_the_rule() {
    let lab = lab().await;
    let admin = Admin::Local(lab.ferry.clone());
    let cases: [(&[(&str, &str)], &str); 11] = [
        (
            &[("model", "product"), ("modle", "x")],
            "parameter `modle`: not declared (the declared parameters: dry, from, limit, model, notify, ref, since, tags, window)",
        ),
        (
            &[("since", "0")],
            "parameter `model`: required, and not given",
        ),
        (
            &[("model", "invoice")],
            "parameter `model`: `invoice` is not one of product, customer, order",
        ),
        (
            &[("model", "product"), ("window", "tomorrow")],
            "parameter `window`: `tomorrow` is not a duration (90s, 15m, 2h, 2d, 1w)",
        ),
        (
            &[("model", "product"), ("limit", "many")],
            "parameter `limit`: `many` is not an integer",
        ),
        (
            &[("model", "product"), ("limit", "0")],
            "parameter `limit`: 0 is less than the minimum 1",
        ),
        (
            &[("model", "product"), ("limit", "5000")],
            "parameter `limit`: 5000 is more than the maximum 1000",
        ),
        (
            &[("model", "product"), ("ref", "abc-1")],
            "parameter `ref`: `abc-1` does not match the pattern `[A-Z]{3}-[0-9]+`",
        ),
        (
            &[("model", "product"), ("tags", "a,b,c,d")],
            "parameter `tags`: 4 is more than the maximum 3",
        ),
        (
            &[("model", "product"), ("notify", "not-a-url")],
            "parameter `notify`: `not-a-url` is not an absolute http or https URL",
        ),
        (
            &[("model", "product"), ("dry", "yes")],
            "parameter `dry`: `yes` is not true or false",
        ),
    ];
    for (params, rule) in cases {
        let e = admin
            .create_profile(&nightly(text(params)), "test")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, format!("profile `nightly`: {rule}"), "{params:?}");
    }
    let e = admin
        .create_profile(
            &nightly(text(&[("model", "product"), ("from", "03/12/2026")])),
            "test",
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`03/12/2026` is not a date"), "{e}");
    assert!(admin.profiles().await.unwrap().is_empty(), "nothing stored");
    assert!(jobs(&lab.ferry).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_runs_its_job_with_defaults_and_checked_overrides() {
    let lab = lab().await;
    let admin = Admin::Local(lab.ferry.clone());
    let saved = admin
        .create_profile(
            &nightly(text(&[
                ("model", "product"),
                ("since", "0"),
                ("tags", "a, b"),
                ("dry", "false"),
            ])),
            "test",
        )
        .await
        .unwrap();
    // Text is read by the declared type; defaults are not stored.
    assert_eq!(
        Value::Object(saved.params.clone()),
        json!({ "model": "product", "since": 0, "tags": ["a", "b"], "dry": false })
    );
    let shown = admin.profile("nightly").await.unwrap();
    assert_eq!(shown.effective.as_ref().unwrap()["window"], "2d");
    assert_eq!(shown.problem, None);

    // A bad one-off override stores no job; a good one is merged in.
    let e = admin
        .run_profile("nightly", &text(&[("limit", "0")]), "test")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "profile `nightly`: parameter `limit`: 0 is less than the minimum 1"
    );
    assert!(jobs(&lab.ferry).await.is_empty());
    let ran = admin
        .run_profile("nightly", &text(&[("limit", "10")]), "test")
        .await
        .unwrap();
    let job = admin.job(ran.job_id).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&job.job.payload).unwrap(),
        json!({ "model": "product", "since": 0, "window": "2d", "limit": 10, "tags": ["a", "b"], "dry": false })
    );
    assert!(
        job.job.description.contains("profile `nightly`"),
        "{}",
        job.job.description
    );

    // The job is a real batch: it imports the shop's products.
    drain(&lab.ferry, |_| {}).await.unwrap();
    assert_eq!(
        admin.job(ran.job_id).await.unwrap().job.state,
        JobState::Done
    );
    assert_eq!(lab.ferry.store().count_records("product").await.unwrap(), 5);

    // Edits are checked too; unset brings the default back.
    let e = admin
        .edit_profile(
            "nightly",
            &ProfileEdit {
                params: text(&[("window", "soon")]),
                ..Default::default()
            },
            "test",
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`soon` is not a duration"), "{e}");
    let edited = admin
        .edit_profile(
            "nightly",
            &ProfileEdit {
                params: text(&[("window", "1w")]),
                unset: vec!["tags".into()],
                description: Some("Weekly window".into()),
            },
            "test",
        )
        .await
        .unwrap();
    assert_eq!(edited.params["window"], "1w");
    assert!(!edited.params.contains_key("tags"));

    // Each change is audited.
    let audit = ferry::audit::list(
        lab.ferry.store(),
        &ferry::store::AuditFilter {
            instance: Some("acme".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["profile.edit", "profile.run", "profile.create"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_enqueue_is_checked_and_a_refused_one_stores_no_job() {
    // Imports of products refused: a product batch's enqueues break the rule.
    let lab = lab_with(&JOBS.replace(
        r#"one_of = ["product", "customer", "order"]
[jobs.import-record.params.external_id]"#,
        r#"one_of = ["customer"]
[jobs.import-record.params.external_id]"#,
    ))
    .await;
    let ferry = &lab.ferry;
    // Through the library (what `ferry run`, buttons and the API call).
    let e = ferry
        .enqueue(&NewJob::new(
            "acme",
            "import-batch",
            &json!({ "model": "product", "limit": "ten" }),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "job `import-batch`: parameter `limit`: `ten` is not an integer"
    );
    // A button's data: the shop's `import` button runs import-batch.
    let e = Admin::Local(ferry.clone())
        .press("acme", "import", &json!({ "model": "invoice" }), "test")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`invoice` is not one of"), "{e}");
    assert!(jobs(ferry).await.is_empty());

    // A guest's enqueue: the batch enqueues import-record for products, which
    // the declaration here refuses; the batch fails for good, storing nothing.
    let id = ferry
        .enqueue(&NewJob::new(
            "acme",
            "import-batch",
            &json!({ "model": "product", "since": 0 }),
        ))
        .await
        .unwrap();
    drain(ferry, |_| {}).await.unwrap();
    let batch = Admin::Local(ferry.clone()).job(id).await.unwrap();
    assert_eq!(batch.job.state, JobState::Failed, "{batch:?}");
    let logged = serde_json::to_string(&batch).unwrap();
    assert!(
        logged.contains("job `import-record`: parameter `model`: `product` is not one of customer"),
        "{logged}"
    );
    assert_eq!(jobs(ferry).await.len(), 1, "only the batch");

    // `ferry run` with an undeclared parameter: refused, nothing stored.
    let out = cli(
        &lab,
        &[
            "run",
            "acme",
            "import-batch",
            "--payload",
            r#"{"model": "product", "modle": 1}"#,
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("job `import-batch`: parameter `modle`: not declared"),
        "{stderr}"
    );
    assert_eq!(jobs(ferry).await.len(), 1, "still only the batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_params_are_checked_when_an_instance_is_added() {
    let lab = lab().await;
    let ferry = &lab.ferry;
    let params = |v: Value| v.as_object().cloned().unwrap();
    let e = ferry
        .add_instance(
            "typo",
            "shop@1.7",
            params(json!({ "url": "http://127.0.0.1:1", "tokn": "x" })),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "backend instance `typo`: parameter `tokn`: not declared (the declared parameters: api_key, url)"
    );
    let e = ferry
        .add_instance("bad", "shop@1.7", params(json!({ "url": "not-a-url" })))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "backend instance `bad`: parameter `url`: `not-a-url` is not an absolute http or https URL"
    );
    let e = ferry
        .add_instance("none", "shop@1.7", params(json!({})))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`url`: required"), "{e}");
    let names: Vec<String> = ferry
        .store()
        .instances()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["acme"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_whose_instance_is_gone_says_so_when_run() {
    let lab = lab().await;
    let admin = Admin::Local(lab.ferry.clone());
    admin
        .create_profile(&nightly(text(&[("model", "customer")])), "test")
        .await
        .unwrap();
    admin.remove_instance("acme").await.unwrap();
    let e = admin
        .run_profile("nightly", &ParamInput::default(), "test")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("backend instance `acme` not found (named by profile `nightly`"),
        "{e}"
    );
    let shown = admin.profile("nightly").await.unwrap();
    assert!(shown.problem.unwrap().contains("`acme` not found"));
    admin.remove_profile("nightly", "test").await.unwrap();
    let e = admin.profile("nightly").await.unwrap_err();
    assert_eq!(ferry::admin::http_status(&e), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_must_declare_jobs_the_component_has_with_its_types() {
    let (dir, ferry) = fresh(|_| {}).await;
    let shop = tokio::task::block_in_place(|| built("shop"));
    let text = std::fs::read_to_string(&shop.manifest).unwrap();
    let manifest = dir.path().join("connector.toml");
    let install = async |jobs: &str| {
        std::fs::write(&manifest, format!("{text}\n{jobs}")).unwrap();
        ferry.install(&manifest, &shop.wasm).await.map(|_| ())
    };
    let e = install("[jobs.import-all.params.model]\ntype = \"string\"")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "[jobs.import-all] declares a job the component does not export (it exports: import-batch, import-record, export-record, import-order-event, export-products, import-products)"
        ),
        "{e}"
    );
    let e = install("[jobs.import-batch.params.model]\ntype = \"enum\"")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("job `import-batch`: parameter `model`: an `enum` needs `one_of`"),
        "{e}"
    );
    assert!(
        ferry.registry().modules().next().is_none(),
        "nothing installed"
    );
    install(JOBS).await.unwrap();
}
