//! Webhooks on `ferry serve`: a checked call is answered by the guest at once;
//! a refused one (bad signature or token, too large, not JSON, unknown) never
//! reaches the guest and enqueues nothing; a guest that traps costs one 500.

use ferry::Ferry;
use ferry::serve::ServeOptions;
use ferry::store::{JobFilter, JobState};
use ferry_tests::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "s3cret-for-tests";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Backend instance `notify` on `backend`, on a shop of its own with
/// `products`, its webhook secret set. The shop is returned to keep it running.
async fn notify_instance(ferry: &Ferry, backend: &str, products: u64) -> shop_simulator::Shop {
    let (shop, shop_url) = start_shop(products, 0, 0).await.unwrap();
    ferry
        .add_instance("notify", backend, shop_params(backend, &shop_url))
        .await
        .unwrap();
    set_secret(ferry, "notify", "webhook_secret", SECRET).await;
    shop
}

/// Backend instance `hooks` of the hostile connector, with its webhook
/// secrets set (as a param for `echo`, sealed for `signed`).
async fn hooks_instance(ferry: &Ferry) {
    let params = json!({ "webhook_secret": SECRET });
    ferry
        .add_instance("hooks", "hostile", params.as_object().unwrap().clone())
        .await
        .unwrap();
    set_secret(ferry, "hooks", "webhook_secret", SECRET).await;
}

/// The hostile connector with instance `hooks` (its webhook secret set) and
/// `unset` (none), served.
async fn hostile_server(options: ServeOptions) -> (tempfile::TempDir, Ferry, String) {
    let (dir, ferry) = fresh(tight).await;
    install(&ferry, &["hostile"]).await;
    hooks_instance(&ferry).await;
    ferry
        .add_instance("unset", "hostile", Default::default())
        .await
        .unwrap();
    let url = start_server(&ferry, options).await;
    (dir, ferry, url)
}

async fn all_jobs(ferry: &Ferry) -> Vec<ferry::store::JobRow> {
    ferry
        .store()
        .list_jobs(&JobFilter::default())
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_answers_with_its_status_headers_and_body() {
    let (_dir, _ferry, url) = hostile_server(ServeOptions::default()).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{url}/hooks/hooks/echo?x=1&y=two"))
        .header("x-hook-token", SECRET)
        .header("content-type", "text/plain")
        .body("hello, hook")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("x-echo-method"), "POST");
    assert_eq!(header("x-echo-path"), "/hooks/hooks/echo");
    assert_eq!(header("x-echo-query"), "x=1&y=two");
    assert_eq!(header("x-echo-instance"), "hooks");
    assert_eq!(header("content-type"), "text/plain");
    assert_eq!(
        header("x-echo-token-seen"),
        "false",
        "the host keeps the token from the guest"
    );
    assert_eq!(response.text().await.unwrap(), "hello, hook");

    // `Bearer` before the token is accepted too; a signed JSON hook echoes its JSON.
    let response = client
        .post(format!("{url}/hooks/hooks/echo"))
        .header("x-hook-token", format!("Bearer {SECRET}"))
        .body(vec![0u8, 255, 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.bytes().await.unwrap().as_ref(), [0u8, 255, 1]);
    let body = br#"{"a": [1, 2]}"#;
    let response = client
        .post(format!("{url}/hooks/hooks/signed"))
        .header("x-ferry-signature", sign(body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer, json!({ "got": { "a": [1, 2] } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_notifies_a_changed_product_and_its_import_is_enqueued() {
    let (_dir, ferry, _shop) = shop_setup("shop@1.7", 5, 0, 0).await;
    // The hook is declared by the `shop` module: an instance on shop@2.0 finds
    // it up its chain.
    let _shop2 = notify_instance(&ferry, "shop@2.0", 5).await;
    let url = start_server(&ferry, ServeOptions::default()).await;

    let body = br#"{"id": 3}"#;
    let call = || async {
        reqwest::Client::new()
            .post(format!("{url}/hooks/notify/product-changed"))
            .header("x-shop-signature", sign(body))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    };
    let response = call().await;
    assert_eq!(response.status().as_u16(), 202);
    let answer: Value = response.json().await.unwrap();
    let id = answer["job"].as_i64().expect("the answer names the job");

    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.instance, "notify");
    assert_eq!(job.name, "import-record");
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(
        serde_json::from_str::<Value>(&job.payload).unwrap(),
        json!({ "model": "product", "external_id": "3" })
    );
    assert_eq!(job.user, "webhook:product-changed");

    // The shop calls again before the import ran: still one job.
    let again: Value = call().await.json().await.unwrap();
    assert_eq!(again["job"].as_i64(), Some(id));
    assert_eq!(all_jobs(&ferry).await.len(), 1);

    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(ferry.store().job(id).await.unwrap().state, JobState::Done);
    let links = ferry
        .store()
        .search_links(Some("notify"), Some("product"), None, None, 0)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].external_id, "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_calls_never_reach_the_guest_and_enqueue_nothing() {
    let (_dir, ferry, _shop) = shop_setup("shop@1.7", 3, 0, 0).await;
    let _shop2 = notify_instance(&ferry, "shop@1.7", 3).await;
    install(&ferry, &["hostile"]).await;
    hooks_instance(&ferry).await;
    let url = start_server(
        &ferry,
        ServeOptions {
            max_body: 1024,
            ..ServeOptions::default()
        },
    )
    .await;
    let client = reqwest::Client::new();
    let hook = format!("{url}/hooks/notify/product-changed");
    let good = br#"{"id": 1}"#;

    // A signature of another body.
    let response = client
        .post(&hook)
        .header("x-shop-signature", sign(br#"{"id": 2}"#))
        .body(good.to_vec())
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 401);
    assert!(reason.contains("does not match"), "{reason}");

    // No signature at all.
    let (status, reason) =
        error_of(client.post(&hook).body(good.to_vec()).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(reason.contains("x-shop-signature"), "{reason}");

    // Signed with another secret.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"not the secret").unwrap();
    mac.update(good);
    let forged = hex::encode(mac.finalize().into_bytes());
    let response = client
        .post(&hook)
        .header("x-shop-signature", forged)
        .body(good.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.0, 401);

    // A wrong token.
    let response = client
        .post(format!("{url}/hooks/hooks/echo"))
        .header("x-hook-token", "guess")
        .body("x")
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 401);
    assert!(reason.contains("x-hook-token"), "{reason}");

    // Larger than the limit, though well signed.
    let big = format!(r#"{{"id": 1, "pad": "{}"}}"#, "x".repeat(2000));
    let response = client
        .post(&hook)
        .header("x-shop-signature", sign(big.as_bytes()))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 413);
    assert!(reason.contains("1024"), "{reason}");

    // Well signed, not JSON.
    let junk = b"id=1";
    let response = client
        .post(&hook)
        .header("x-shop-signature", sign(junk))
        .body(junk.to_vec())
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 400);
    assert!(
        reason.contains("not JSON") && reason.contains("line 1"),
        "{reason}"
    );

    // Unknown instance, unknown hook.
    for path in ["nobody/product-changed", "notify/nothing-changed"] {
        let response = client
            .post(format!("{url}/hooks/{path}"))
            .header("x-shop-signature", sign(good))
            .body(good.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(response).await.0, 404, "{path}");
    }

    assert!(
        all_jobs(&ferry).await.is_empty(),
        "a refused call enqueues nothing"
    );
    // The same call, well signed, does reach the guest.
    let response = client
        .post(&hook)
        .header("x-shop-signature", sign(good))
        .body(good.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(all_jobs(&ferry).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_handler_gets_500_and_the_next_call_works() {
    let (_dir, _ferry, url) = hostile_server(ServeOptions::default()).await;
    let client = reqwest::Client::new();
    let (status, reason) = error_of(
        client
            .post(format!("{url}/hooks/hooks/panic"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 500);
    assert!(
        reason.contains("panicked") && reason.contains("on purpose"),
        "{reason}"
    );
    let (status, reason) = error_of(
        client
            .post(format!("{url}/hooks/hooks/spin"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 500);
    assert!(reason.contains("time budget"), "{reason}");

    let response = client
        .post(format!("{url}/hooks/hooks/echo"))
        .header("x-hook-token", SECRET)
        .body("still here")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.text().await.unwrap(), "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_errors_become_client_or_server_errors() {
    let (_dir, _ferry, url) = hostile_server(ServeOptions::default()).await;
    let client = reqwest::Client::new();
    for (kind, expected) in [
        ("not-found", 404),
        ("denied", 403),
        ("final", 422),
        ("retryable", 503),
    ] {
        let response = client
            .post(format!("{url}/hooks/hooks/fail?kind={kind}"))
            .send()
            .await
            .unwrap();
        let retry_after = response.headers().get("retry-after").cloned();
        assert_eq!(error_of(response).await.0, expected, "{kind}");
        if kind == "retryable" {
            assert_eq!(retry_after.unwrap(), "30");
        }
    }

    // A hook whose instance has no secret is not open: it is not configured.
    let response = client
        .post(format!("{url}/hooks/unset/echo"))
        .header("x-hook-token", "")
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 503);
    assert!(reason.contains("webhook_secret"), "{reason}");
    // Nor is a hook whose sealed secret was never set.
    let response = client
        .post(format!("{url}/hooks/unset/signed"))
        .header("x-ferry-signature", sign(b"{}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, reason) = error_of(response).await;
    assert_eq!(status, 503);
    assert!(
        reason.contains("no secret `webhook_secret` (ferry secret set INSTANCE webhook_secret)"),
        "{reason}"
    );

    // Only POST.
    let response = client
        .get(format!("{url}/hooks/hooks/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}
