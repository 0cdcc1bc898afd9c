//! Profiles as operators reach them: the `ferry profile` commands, the admin
//! API with its roles, and schedules that run a profile.

use super::{cli, jobs, lab, nightly, text};
use ferry::admin::Admin;
use ferry::serve::ServeOptions;
use ferry::store::JobState;
use ferry::tokens::Role;
use ferry_tests::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_api_viewers_read_profiles_and_developers_make_and_run_them() {
    let lab = lab().await;
    let url = start_server(&lab.ferry, ServeOptions::default()).await;
    let client = reqwest::Client::new();
    let call = async |method: reqwest::Method, path: &str, role: Role, body: Value| {
        let token = api_token(&lab.ferry, role).await;
        let response = client
            .request(method, format!("{url}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    use reqwest::Method;
    let create = json!({
        "name": "nightly", "instance": "acme", "job": "import-batch",
        "text_params": { "model": "product", "limit": "20" },
    });
    let (status, _) = call(Method::POST, "/api/profiles", Role::Viewer, create.clone()).await;
    assert_eq!(status, 403);
    let bad = json!({ "name": "bad", "instance": "acme", "job": "import-batch", "params": { "model": 3 } });
    let (status, body) = call(Method::POST, "/api/profiles", Role::Developer, bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("profile `bad`: parameter `model`")
    );
    let (status, body) = call(Method::POST, "/api/profiles", Role::Developer, create).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["params"]["limit"], 20);

    let (status, body) = call(Method::GET, "/api/profiles", Role::Viewer, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["name"], "nightly");
    let (status, body) = call(
        Method::GET,
        "/api/profiles/nightly",
        Role::Viewer,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["effective"]["window"], "2d");

    let run = "/api/profiles/nightly/run";
    let (status, _) = call(Method::POST, run, Role::Viewer, json!({})).await;
    assert_eq!(status, 403);
    let (status, body) = call(
        Method::POST,
        run,
        Role::Manager,
        json!({ "params": { "limit": 5000 } }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(
        Method::POST,
        run,
        Role::Developer,
        json!({ "text_params": { "window": "15m" } }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["payload"]["window"], "15m");
    let job = Admin::Local(lab.ferry.clone())
        .job(body["job_id"].as_i64().unwrap())
        .await
        .unwrap();
    let payload: Value = serde_json::from_str(&job.job.payload).unwrap();
    assert_eq!(payload["limit"], 20);
    assert_eq!(jobs(&lab.ferry).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_can_run_a_profile() {
    use ferry::triggers::cron;
    const MIN: i64 = 60_000;
    let lab = lab().await;
    let (store, registry) = (lab.ferry.store(), lab.ferry.registry());
    let admin = Admin::Local(lab.ferry.clone());
    admin
        .create_profile(
            &nightly(text(&[("model", "product"), ("limit", "7")])),
            "test",
        )
        .await
        .unwrap();
    let now = ferry::store::now_ms();
    cron::tick(store, &registry, now).await.unwrap(); // first seen: counts from now
    let every_minute: cron::Setting = "* * * * *".parse().unwrap();
    let e = cron::set_with_profile(
        store,
        &registry,
        "acme",
        "import-products",
        &"off".parse().unwrap(),
        Some("nightly"),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("give the schedule it runs on"),
        "{e}"
    );
    let entry = cron::set_with_profile(
        store,
        &registry,
        "acme",
        "import-products",
        &every_minute,
        Some("nightly"),
    )
    .await
    .unwrap();
    assert_eq!(entry.profile.as_deref(), Some("nightly"));
    let ids = cron::tick(store, &registry, now + 2 * MIN).await.unwrap();
    assert_eq!(ids.len(), 1);
    let job = admin.job(ids[0]).await.unwrap();
    let payload: Value = serde_json::from_str(&job.job.payload).unwrap();
    assert_eq!(
        payload,
        json!({ "model": "product", "limit": 7, "window": "2d" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_commands_save_show_and_run_a_profile() {
    let lab = lab().await;
    let out = cli(
        &lab,
        &[
            "profile",
            "create",
            "nightly",
            "--instance",
            "acme",
            "--job",
            "import-batch",
            "--param",
            "model=product",
            "--param",
            "since=0",
            "--param",
            "tags=a,b",
            "--param-json",
            "dry=true",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&lab, &["--json", "profile", "show", "nightly"]).await;
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["params"]["tags"], json!(["a", "b"]));
    assert_eq!(shown["params"]["dry"], true);
    assert_eq!(shown["effective"]["window"], "2d");

    let out = cli(&lab, &["profile", "run", "nightly", "--param", "limit=0"]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("profile `nightly`: parameter `limit`: 0 is less than the minimum 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(jobs(&lab.ferry).await.is_empty());
    let out = cli(
        &lab,
        &[
            "--json", "profile", "run", "nightly", "--param", "limit=9", "--wait",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = jobs(&lab.ferry).await;
    let batch = listed.iter().find(|j| j.name == "import-batch").unwrap();
    assert_eq!(batch.state, JobState::Done);
    assert_eq!(lab.ferry.store().count_records("product").await.unwrap(), 5);

    let out = cli(&lab, &["profile", "remove", "nightly"]).await;
    assert!(out.status.success());
    let out = cli(&lab, &["profile", "list"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("no profiles"));
}
