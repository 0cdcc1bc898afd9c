//! `GET /api/openapi.json`: an OpenAPI 3 document that names every route of
//! the admin API, each of which answers (no 404 for a missing route, no 405).

use ferry::serve::{API_ROUTES, ServeOptions};
use ferry::tokens::Role;
use ferry_tests::*;
use serde_json::Value;

/// What the server answers for a path it has no route for.
const NO_ROUTE: &str = "no such endpoint";

/// `path` with each `{param}` given a value (`1` for ids, `x` otherwise).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{id}" => "1",
            "{action}" => "requeue",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_every_route_and_every_route_answers() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let client = reqwest::Client::new();

    // No token: the document describes the API and holds no data.
    let response = client
        .get(format!("{url}/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_str(&text).expect("the document parses as OpenAPI");
    let document: Value = serde_json::from_str(&text).unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        document["openapi"]
    );
    assert_eq!(parsed.info.title, "Ferry admin API");

    // Every route of the table is documented, and nothing else.
    let paths = document["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if let Some(operation) = item.get(method) {
                assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()));
                assert!(operation["responses"]["200"].is_object());
                documented.push((method.to_string(), path.clone()));
            }
        }
    }
    let mut routes: Vec<(String, String)> = API_ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    documented.sort();
    routes.sort();
    assert_eq!(documented, routes);
    assert!(routes.len() >= 45, "{}", routes.len());

    // Every documented route answers, for a manager: a missing route would be
    // the server's "no such endpoint" 404 (the API's own 404s say what was
    // not found) or a 405.
    let token = api_token(&ferry, Role::Manager).await;
    for (method, path) in &documented {
        let target = format!("{url}{}", concrete(path));
        let request = match method.as_str() {
            "get" => client.get(&target),
            "post" => client.post(&target),
            "put" => client.put(&target),
            _ => client.delete(&target),
        };
        let response = request.bearer_auth(&token).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}");
        if status == 404 {
            let error: Value = serde_json::from_str(&body).unwrap_or_default();
            let said = error["error"].as_str().unwrap_or_default();
            assert!(
                !said.is_empty() && said != NO_ROUTE,
                "{method} {path}: {body}"
            );
        }
    }

    // The control: a route that does not exist says so.
    let missing = client
        .get(format!("{url}/api/no-such-route"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], NO_ROUTE);
}
