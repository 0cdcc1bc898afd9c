//! The operator console served at `/` by `ferry serve`, through the real
//! router over HTTP: signing in (session cookie, CSRF, Origin), every page,
//! actions by role, and bad input answered with a clear page, never a 500.
//! The browser tests (headless Chromium) are in `console/browser.rs`.

mod browser;
mod client;

use client::{Console, http, sign_in};
use ferry::Ferry;
use ferry::serve::ServeOptions;
use ferry::store::JobState;
use ferry::tokens::Role;
use ferry_tests::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use serde_json::json;

/// A lab with a failed job (`fail-final`) and a done one (`ok`), served.
async fn served_lab() -> (tempfile::TempDir, Ferry, String, i64, i64) {
    let (dir, ferry) = hostile_lab().await;
    let failed = run_lab_job(&ferry, "fail-final", json!({})).await;
    assert_eq!(failed.state, JobState::Failed);
    let done = run_lab_job(&ferry, "ok", json!({ "n": 1 })).await;
    assert_eq!(done.state, JobState::Done);
    let base = start_server(&ferry, ServeOptions::default()).await;
    (dir, ferry, base, failed.id, done.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_signs_in_and_reads_every_page() {
    let (_dir, ferry, base, failed, done) = served_lab().await;
    let viewer = api_token(&ferry, Role::Viewer).await;
    let console = sign_in(&base, &viewer).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            console.set_cookie.contains(attribute),
            "{}",
            console.set_cookie
        );
    }
    assert!(
        !console.set_cookie.contains("Secure"),
        "plain HTTP: no Secure"
    );
    assert!(
        !console.set_cookie.contains(&viewer),
        "the token is not the cookie"
    );
    let pages = [
        ("/", "Failing jobs"),
        ("/jobs", "fail-final"),
        (&format!("/jobs/{failed}") as &str, "bad data, do not retry"),
        ("/instances", "lab"),
        ("/instances/lab", "Backend chain"),
        ("/connectors", "hostile"),
        ("/transmissions", "Transmissions"),
        ("/audit", "token.create"),
        ("/checkpoints", "Checkpoints"),
        ("/links", "Links"),
        ("/logs", "Logs"),
        ("/profiles", "Job profiles"),
    ];
    for (path, expected) in pages {
        let (status, body) = console.page(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        assert!(body.contains(expected), "GET {path} shows {expected:?}");
        assert!(body.contains("viewer"), "GET {path} names the role");
        assert!(!body.contains(&viewer), "GET {path} never shows the token");
    }
    // A viewer is offered no action, and the job list shows both jobs.
    let (_, job) = console.page(&format!("/jobs/{failed}")).await;
    assert!(!job.contains("Requeue"), "a viewer is not offered requeue");
    let (_, list) = console.page("/jobs?state=done").await;
    assert!(
        list.contains(&format!("/jobs/{done}\"")) && !list.contains(&format!("/jobs/{failed}\""))
    );
    // The pages' live updates read the API with the same cookie.
    let api = console.get("/api/jobs?state=failed").await;
    assert_eq!(api.status(), StatusCode::OK);
    let jobs: serde_json::Value = api.json().await.expect("JSON");
    assert_eq!(jobs[0]["id"], failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_requeues_from_the_console_and_a_viewer_is_refused() {
    let (_dir, ferry, base, failed, _) = served_lab().await;
    let viewer = sign_in(&base, &api_token(&ferry, Role::Viewer).await).await;
    let refused = viewer.post(&format!("/jobs/{failed}/requeue"), &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("needs role developer")
    );
    assert_eq!(
        ferry.store().job(failed).await.unwrap().state,
        JobState::Failed
    );

    let developer = sign_in(&base, &api_token(&ferry, Role::Developer).await).await;
    let (_, page) = developer.page(&format!("/jobs/{failed}")).await;
    assert!(page.contains("Requeue"), "a developer is offered requeue");
    let done = developer
        .post(&format!("/jobs/{failed}/requeue"), &[])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ferry.store().job(failed).await.unwrap().state,
        JobState::Pending
    );
    // Bulk: cancel every pending job of the lab.
    let bulk = developer
        .post(
            "/jobs/bulk?state=pending&instance=lab",
            &[("action", "cancel")],
        )
        .await;
    assert_eq!(bulk.status(), StatusCode::SEE_OTHER);
    let to = bulk.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.contains("1+of+1"), "{to}");
    assert_eq!(
        ferry.store().job(failed).await.unwrap().state,
        JobState::Cancelled
    );
    // A button pressed with data enqueues its job, for this token.
    let pressed = developer
        .post(
            "/instances/lab/buttons/echo-now",
            &[("data", r#"{"n": 2}"#)],
        )
        .await;
    assert_eq!(
        pressed.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        pressed.text().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_session_csrf_token_and_this_origin() {
    let (_dir, ferry, base, failed, _) = served_lab().await;
    let developer = sign_in(&base, &api_token(&ferry, Role::Developer).await).await;
    let csrf = developer.csrf().await;
    let post = |origin: &'static str, csrf: String| {
        let c = &developer;
        async move {
            let mut request = c
                .http
                .post(format!("{}/jobs/{failed}/requeue", c.base))
                .header(COOKIE, &c.cookie)
                .form(&[("csrf", csrf)]);
            if !origin.is_empty() {
                request = request.header(ORIGIN, origin);
            }
            request.send().await.unwrap().status()
        }
    };
    assert_eq!(
        post("", csrf.clone()).await,
        StatusCode::FORBIDDEN,
        "no Origin"
    );
    assert_eq!(
        post("http://evil.example", csrf.clone()).await,
        StatusCode::FORBIDDEN
    );
    let origin: &'static str = Box::leak(base.clone().into_boxed_str());
    assert_eq!(post(origin, "forged".into()).await, StatusCode::FORBIDDEN);
    assert_eq!(
        ferry.store().job(failed).await.unwrap().state,
        JobState::Failed
    );
    // The API with the cookie: a write needs the CSRF header too.
    let api = |with_csrf: bool| {
        let c = &developer;
        let csrf = csrf.clone();
        async move {
            let mut request = c
                .http
                .post(format!("{}/api/jobs/{failed}/requeue", c.base))
                .header(COOKIE, &c.cookie)
                .header(ORIGIN, &c.base);
            if with_csrf {
                request = request.header("x-csrf-token", csrf);
            }
            request.send().await.unwrap().status()
        }
    };
    assert_eq!(api(false).await, StatusCode::FORBIDDEN);
    assert_eq!(api(true).await, StatusCode::OK);
    assert_eq!(
        ferry.store().job(failed).await.unwrap().state,
        JobState::Pending
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_page_never_a_500() {
    let (_dir, ferry, base, _, _) = served_lab().await;
    let console = sign_in(&base, &api_token(&ferry, Role::Viewer).await).await;
    let cases = [
        (
            "/jobs?state=exploded",
            StatusCode::BAD_REQUEST,
            "unknown job state `exploded`",
        ),
        (
            "/jobs?trigger=magic",
            StatusCode::BAD_REQUEST,
            "unknown trigger `magic`",
        ),
        (
            "/jobs?before=99999999999999999999999999",
            StatusCode::BAD_REQUEST,
            "must be a job id",
        ),
        (
            "/jobs?limit=1000000",
            StatusCode::BAD_REQUEST,
            "`limit` must be a number",
        ),
        (
            "/jobs?since=someday",
            StatusCode::BAD_REQUEST,
            "neither a UTC time",
        ),
        ("/jobs?before=9223372036854775807", StatusCode::OK, "Jobs"),
        (
            "/jobs?instance=nobody&module=none",
            StatusCode::OK,
            "No job matches",
        ),
        ("/jobs/424242", StatusCode::NOT_FOUND, "424242"),
        ("/jobs/abc", StatusCode::BAD_REQUEST, "not a job id"),
        (
            "/jobs/1?level=loud",
            StatusCode::BAD_REQUEST,
            "log level `loud`",
        ),
        ("/instances/ghost", StatusCode::NOT_FOUND, "ghost"),
        (
            "/transmissions?status=teapot",
            StatusCode::BAD_REQUEST,
            "`status` must be a number",
        ),
        (
            "/links?offset=99999999999",
            StatusCode::BAD_REQUEST,
            "`offset` must be",
        ),
        (
            "/logs?level=shouting",
            StatusCode::BAD_REQUEST,
            "filter `level`",
        ),
        ("/nowhere", StatusCode::NOT_FOUND, "no such endpoint"),
    ];
    for (path, status, reason) in cases {
        let (got, body) = console.page(path).await;
        assert_eq!(got, status, "GET {path}: {body}");
        assert!(body.contains(reason), "GET {path} says {reason:?}: {body}");
    }
    // No session, a forged one, a signed-out one, a revoked token: the
    // sign-in page (401), never the page.
    let anonymous = http().get(format!("{base}/jobs")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.text().await.unwrap().contains("API token"));
    let forged = Console {
        cookie: "ferry_session=forged-session-id".into(),
        ..sign_in(&base, &api_token(&ferry, Role::Viewer).await).await
    };
    let (status, body) = forged.page("/jobs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("your console session has ended"), "{body}");
    let (status, _) = forged.page("/api/jobs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the API refuses it too");

    let name = "doomed";
    let doomed = ferry::tokens::create(ferry.store(), name, Role::Manager, "test")
        .await
        .unwrap();
    let session = sign_in(&base, &doomed.token).await;
    assert_eq!(session.page("/").await.0, StatusCode::OK);
    ferry::tokens::revoke(ferry.store(), name, "test")
        .await
        .unwrap();
    assert_eq!(
        session.page("/").await.0,
        StatusCode::UNAUTHORIZED,
        "revoked: signed out"
    );

    let leaving = sign_in(&base, &api_token(&ferry, Role::Viewer).await).await;
    let out = leaving.post("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(leaving.page("/").await.0, StatusCode::UNAUTHORIZED);

    // A wrong token at sign-in: the form again, with the reason.
    let wrong = http()
        .post(format!("{base}/login"))
        .header(ORIGIN, &base)
        .form(&[("token", "ferry_not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("not valid here"));
    // The next page after signing in stays on this server.
    let viewer = api_token(&ferry, Role::Viewer).await;
    let away = http()
        .post(format!("{base}/login"))
        .header(ORIGIN, &base)
        .header("x-forwarded-proto", "https")
        .form(&[("token", viewer.as_str()), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(away.headers()[LOCATION], "/");
    assert!(
        away.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}
