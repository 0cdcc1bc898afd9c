//! The admin API of `ferry serve`: jobs (list with filters, show with the log,
//! requeue, cancel, stop, done), backend instances, buttons; errors as JSON
//! with 400, 404 or 409.

use ferry::Ferry;
use ferry::serve::ServeOptions;
use ferry::store::{JobState, NewJob, now_ms};
use ferry_tests::*;
use serde_json::{Value, json};

struct Api {
    url: String,
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.expect("JSON"),
        )
    }

    async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.expect("JSON"),
        )
    }

    async fn ids(&self, query: &str) -> Vec<i64> {
        let (status, body) = self.get(&format!("/api/jobs?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        body.as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_i64().unwrap())
            .collect()
    }
}

async fn api(ferry: &Ferry) -> Api {
    Api {
        url: start_server(ferry, ServeOptions::default()).await,
        client: reqwest::Client::new(),
        token: api_token(ferry, ferry::tokens::Role::Developer).await,
    }
}

async fn enqueue(ferry: &Ferry, instance: &str, channel: &str) -> i64 {
    let mut job = NewJob::new(instance, "ok", &json!({}));
    job.channel = channel.into();
    ferry.enqueue(&job).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_listed_with_each_filter() {
    let (_dir, ferry) = hostile_lab().await;
    ferry
        .add_instance("lab2", "hostile", Default::default())
        .await
        .unwrap();
    let a = enqueue(&ferry, "lab", "root.imports").await;
    let b = enqueue(&ferry, "lab2", "root").await;
    let c = enqueue(&ferry, "lab", "root.imports.big").await;
    ferry.store().cancel_job(c).await.unwrap();
    let api = api(&ferry).await;

    assert_eq!(api.ids("").await, vec![c, b, a], "newest first");
    assert_eq!(api.ids("state=cancelled").await, vec![c]);
    assert_eq!(api.ids("state=pending").await, vec![b, a]);
    assert_eq!(api.ids("instance=lab2").await, vec![b]);
    assert_eq!(
        api.ids("channel=root.imports").await,
        vec![c, a],
        "a channel and its sub-channels"
    );
    assert_eq!(
        api.ids(&format!("since={}", now_ms() + 60_000)).await,
        Vec::<i64>::new()
    );
    assert_eq!(api.ids("since=0&limit=2").await, vec![c, b]);
    assert_eq!(api.ids("state=pending&instance=lab").await, vec![a]);

    let (status, body) = api.get("/api/jobs?state=sleeping").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("sleeping"),
        "{body}"
    );

    let (status, health) = api.get("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["jobs"]["pending"], 2);
    assert_eq!(health["jobs"]["cancelled"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_shown_with_its_log() {
    let (_dir, ferry, _shop) = shop_setup("shop@1.7", 3, 0, 0).await;
    let batch = enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let api = api(&ferry).await;

    let (status, shown) = api.get(&format!("/api/jobs/{batch}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["job"]["id"], batch);
    assert_eq!(shown["job"]["state"], "done");
    assert_eq!(shown["job"]["name"], "import-batch");
    let logs = shown["logs"].as_array().unwrap();
    assert!(
        logs.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("enqueued 3 product imports"))
            && l["level"] == "info"),
        "{logs:?}"
    );

    let (status, body) = api.get("/api/jobs/987654").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("987654"), "{body}");
    let (status, _) = api.get("/api/jobs/seven").await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_requeue_cancel_stop_and_finish_jobs() {
    let (_dir, ferry) = hostile_lab().await;
    let id = enqueue(&ferry, "lab", "root").await;
    drain(&ferry, |_| {}).await.unwrap();
    let api = api(&ferry).await;
    let state = |body: &Value| body["state"].as_str().unwrap().to_string();
    let post = |action: &str| format!("/api/jobs/{id}/{action}");

    let (status, body) = api.post(&post("requeue"), "").await;
    assert_eq!((status, state(&body)), (200, "pending".into()), "{body}");
    assert_eq!(
        ferry.store().job(id).await.unwrap().state,
        JobState::Pending
    );
    // A pending job is made due now (it may be waiting to retry).
    let (status, body) = api.post(&post("requeue"), "").await;
    assert_eq!(
        (status, body["was"].as_str()),
        (200, Some("pending")),
        "{body}"
    );
    // A claimed one cannot be requeued: a conflict with its state.
    assert_eq!(
        claim(&ferry, 1, std::time::Duration::from_secs(60))
            .await
            .len(),
        1
    );
    let (status, body) = api.post(&post("requeue"), "").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("is enqueued"),
        "{body}"
    );

    let (status, body) = api.post(&post("cancel"), "").await;
    assert_eq!((status, state(&body)), (200, "cancelled".into()));
    let (status, _) = api.post(&post("cancel"), "").await;
    assert_eq!(status, 409);
    let (status, _) = api.post(&post("done"), "").await;
    assert_eq!(status, 409, "a cancelled job cannot be set done");
    // Stopping a job that does not run says where it is.
    let (status, body) = api.post(&post("stop"), "").await;
    assert_eq!((status, state(&body)), (200, "cancelled".into()));

    let (status, _) = api.post(&post("requeue"), "").await;
    assert_eq!(status, 200);
    let (status, body) = api.post(&post("done"), "").await;
    assert_eq!((status, state(&body)), (200, "done".into()));
    assert_eq!(ferry.store().job(id).await.unwrap().state, JobState::Done);

    let pending = enqueue(&ferry, "lab", "root").await;
    let (status, body) = api.post(&format!("/api/jobs/{pending}/stop"), "").await;
    assert_eq!((status, state(&body)), (200, "cancelled".into()));

    let (status, body) = api.post("/api/jobs/987654/cancel", "").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = api.post(&post("explode"), "").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("requeue"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_show_their_chain_and_triggers_but_not_their_secrets() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 1, 0, 0).await;
    let (_shop2, shop_url) = start_shop(1, 0, 0).await.unwrap();
    let mut params = shop_params("shop@1.7", &shop_url);
    params.insert("api_key".into(), json!("do-not-show"));
    ferry
        .add_instance("notify", "shop@1.7", params)
        .await
        .unwrap();
    set_secret(&ferry, "notify", "webhook_secret", "never-shown").await;
    let api = api(&ferry).await;

    let (status, all) = api.get("/api/instances").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "notify"]);

    let (status, acme) = api.get("/api/instances/acme").await;
    assert_eq!(status, 200);
    let chain: Vec<&str> = acme["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["backend"].as_str().unwrap())
        .collect();
    assert_eq!(chain, ["shop@2.0", "shop@1.7", "shop"]);
    assert_eq!(acme["webhooks"][0]["name"], "product-changed");
    assert_eq!(acme["webhooks"][0]["module"], "shop");
    assert_eq!(acme["webhooks"][0]["configured"], false);
    assert_eq!(acme["buttons"][0]["decl"]["name"], "import");

    let (_, notify) = api.get("/api/instances/notify").await;
    assert_eq!(notify["params"]["api_key"], "***");
    assert_eq!(notify["params"]["url"], shop_url.as_str());
    assert_eq!(notify["webhooks"][0]["configured"], true);
    assert!(!notify.to_string().contains("do-not-show"));
    assert!(!notify.to_string().contains("never-shown"));

    let (status, body) = api.get("/api/instances/nobody").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("nobody"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_pressed_through_the_api_enqueues_its_job_with_the_data() {
    let (_dir, ferry) = hostile_lab().await;
    let api = api(&ferry).await;
    let (status, body) = api
        .post("/api/instances/lab/buttons/echo-now", r#"{"n": 42}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    let job = ferry
        .store()
        .job(body["job"].as_i64().unwrap())
        .await
        .unwrap();
    assert_eq!(job.name, "ok");
    assert_eq!(
        serde_json::from_str::<Value>(&job.payload).unwrap(),
        json!({ "n": 42 })
    );
    assert_eq!((job.priority, job.channel.as_str()), (3, "root.manual"));

    let (status, body) = api.post("/api/instances/lab/buttons/nope", "{}").await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("echo-now"),
        "the error lists the buttons there are: {body}"
    );
    let (status, _) = api.post("/api/instances/lab/buttons/echo-now", "{").await;
    assert_eq!(status, 400);
    let (status, _) = api.get("/api/nothing-here").await;
    assert_eq!(status, 404);
}
