//! Roles of the admin API: every endpoint refuses a call without a valid
//! token (401) and one whose role is too weak (403), and lets the roles at or
//! above its own through. Webhooks are not behind tokens: they check their own
//! secrets (tests/webhooks.rs).

use ferry::Ferry;
use ferry::serve::ServeOptions;
use ferry::store::NewJob;
use ferry::tokens::Role;
use ferry_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

/// One endpoint: method, path, body, and the weakest role that may call it.
struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    text: Option<&'static str>,
    needs: Role,
}

fn endpoint(method: Method, path: impl Into<String>, needs: Role) -> Endpoint {
    Endpoint {
        method,
        path: path.into(),
        body: None,
        text: None,
        needs,
    }
}

/// Every route of the admin API, with a call each role's answer can be judged by.
fn every_endpoint(job: i64) -> Vec<Endpoint> {
    use Role::*;
    let json_body = |mut e: Endpoint, body: Value| {
        e.body = Some(body);
        e
    };
    vec![
        endpoint(Method::GET, "/api/health", Viewer),
        endpoint(Method::GET, "/api/jobs", Viewer),
        endpoint(Method::GET, format!("/api/jobs/{job}"), Viewer),
        endpoint(Method::GET, "/api/instances", Viewer),
        endpoint(Method::GET, "/api/instances/lab", Viewer),
        endpoint(Method::POST, format!("/api/jobs/{job}/requeue"), Developer),
        endpoint(Method::POST, format!("/api/jobs/{job}/cancel"), Developer),
        endpoint(Method::POST, format!("/api/jobs/{job}/stop"), Developer),
        endpoint(Method::POST, format!("/api/jobs/{job}/done"), Developer),
        json_body(
            endpoint(
                Method::POST,
                "/api/instances/lab/buttons/echo-now",
                Developer,
            ),
            json!({ "n": 1 }),
        ),
        json_body(
            endpoint(Method::POST, "/api/instances", Developer),
            json!({ "name": "lab2", "backend": "hostile" }),
        ),
        endpoint(Method::DELETE, "/api/instances/nobody", Developer),
        endpoint(Method::GET, "/api/profiles", Viewer),
        endpoint(Method::GET, "/api/profiles/nobody", Viewer),
        json_body(
            endpoint(Method::POST, "/api/profiles", Developer),
            json!({ "name": "echo", "instance": "lab", "job": "ok" }),
        ),
        json_body(
            endpoint(Method::PUT, "/api/profiles/nobody", Developer),
            json!({ "description": "x" }),
        ),
        endpoint(Method::POST, "/api/profiles/nobody/run", Developer),
        endpoint(Method::DELETE, "/api/profiles/nobody", Developer),
        endpoint(Method::GET, "/api/secrets", Manager),
        endpoint(Method::GET, "/api/instances/lab/secrets", Manager),
        Endpoint {
            text: Some("value-of-the-secret"),
            ..endpoint(Method::PUT, "/api/instances/lab/secrets/api_key", Manager)
        },
        endpoint(
            Method::DELETE,
            "/api/instances/lab/secrets/nothing",
            Manager,
        ),
        endpoint(Method::GET, "/api/tokens", Manager),
        json_body(
            endpoint(Method::POST, "/api/tokens", Manager),
            json!({ "name": "made-by-api", "role": "viewer" }),
        ),
        endpoint(Method::DELETE, "/api/tokens/nobody", Manager),
    ]
}

async fn call(
    client: &reqwest::Client,
    url: &str,
    e: &Endpoint,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = client.request(e.method.clone(), format!("{url}{}", e.path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = &e.body {
        request = request.json(body);
    }
    if let Some(text) = e.text {
        request = request.body(text);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

async fn lab_with_tokens() -> (tempfile::TempDir, Ferry, String, Vec<(Role, String)>) {
    let (dir, ferry) = hostile_lab().await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, api_token(&ferry, role).await));
    }
    (dir, ferry, url, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_needs_a_token_of_its_role_or_above() {
    let (_dir, ferry, url, tokens) = lab_with_tokens().await;
    let job = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for e in every_endpoint(job) {
        let what = format!("{} {}", e.method, e.path);
        let (status, challenge, body) = call(&client, &url, &e, None).await;
        assert_eq!(status, 401, "{what} without a token: {body}");
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{what}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("needs an API token"),
            "{what}: {body}"
        );
        let forged = "ferry_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let (status, _, body) = call(&client, &url, &e, Some(forged)).await;
        assert_eq!(status, 401, "{what} with an unknown token: {body}");

        for (role, token) in &tokens {
            let (status, _, body) = call(&client, &url, &e, Some(token)).await;
            if role.allows(e.needs) {
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{what} as {role} should be let through, got {status}: {body}"
                );
            } else {
                assert_eq!(status, 403, "{what} as {role}: {body}");
                let message = body["error"].as_str().unwrap();
                assert!(
                    message.contains(&format!("needs role {}", e.needs)),
                    "{what}: {message}"
                );
            }
        }
    }
}

/// `e` called with `token`: its status and its JSON body.
async fn call_as(url: &str, e: Endpoint, token: &str) -> (u16, Value) {
    let (status, _, body) = call(&reqwest::Client::new(), url, &e, Some(token)).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_made_and_revoked_through_the_api_work_at_once() {
    let (_dir, ferry, url, tokens) = lab_with_tokens().await;
    let manager = &tokens[2].1;
    let mut make = endpoint(Method::POST, "/api/tokens", Role::Manager);
    make.body = Some(json!({ "name": "dashboard", "role": "viewer" }));
    let (status, made) = call_as(&url, make, manager).await;
    assert_eq!(status, 201, "{made}");
    let viewer = made["token"].as_str().expect("the new token, shown once");
    assert_eq!(made["role"], "viewer");
    let health = || {
        call_as(
            &url,
            endpoint(Method::GET, "/api/health", Role::Viewer),
            viewer,
        )
    };
    assert_eq!(health().await.0, 200);

    let (_, listed) = call_as(
        &url,
        endpoint(Method::GET, "/api/tokens", Role::Manager),
        manager,
    )
    .await;
    let text = listed.to_string();
    assert!(text.contains("dashboard") && !text.contains(viewer));
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none() && t.get("hash").is_none()),
        "{listed}"
    );

    let revoke = endpoint(Method::DELETE, "/api/tokens/dashboard", Role::Manager);
    assert_eq!(call_as(&url, revoke, manager).await.0, 200);
    assert_eq!(health().await.0, 401);

    // Both are in the audit log, done by the manager's token.
    let filter = ferry::store::AuditFilter {
        limit: 10,
        ..Default::default()
    };
    let audit = ferry.store().audit_log(&filter).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.subject == "dashboard")
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    let tokens = ferry::tokens::list(ferry.store()).await.unwrap();
    let manager_name = &tokens.iter().find(|t| t.role == "manager").unwrap().name;
    let by = format!("api:{manager_name}");
    assert_eq!(
        actions,
        [("token.revoke", by.as_str()), ("token.create", by.as_str())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_set_through_the_api_are_never_shown() {
    let (_dir, ferry, url, tokens) = lab_with_tokens().await;
    let manager = &tokens[2].1;
    let put = |instance: &str| Endpoint {
        text: Some("sup3r-secret-value"),
        ..endpoint(
            Method::PUT,
            format!("/api/instances/{instance}/secrets/api_key"),
            Role::Manager,
        )
    };
    assert_eq!(call_as(&url, put("lab"), manager).await.0, 200);
    for path in [
        "/api/secrets",
        "/api/instances/lab/secrets",
        "/api/instances/lab",
    ] {
        let (_, shown) = call_as(&url, endpoint(Method::GET, path, Role::Manager), manager).await;
        assert!(!shown.to_string().contains("sup3r"), "{path}: {shown}");
    }
    let names = ferry::secrets::list(ferry.store(), Some("lab"))
        .await
        .unwrap();
    assert_eq!(names, vec![("lab".to_string(), "api_key".to_string())]);
    let filter = ferry::store::AuditFilter {
        instance: Some("lab".into()),
        limit: 10,
        ..Default::default()
    };
    let audit = ferry.store().audit_log(&filter).await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0].action.as_str(), audit[0].subject.as_str()),
        ("secret.set", "api_key")
    );
    assert!(audit[0].actor.starts_with("api:manager-"), "{audit:?}");
    assert!(!format!("{audit:?}").contains("sup3r"));

    assert_eq!(call_as(&url, put("nobody"), manager).await.0, 404);
}
