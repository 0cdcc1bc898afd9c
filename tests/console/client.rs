//! A small client of the console for tests: signs in through the form like a
//! browser (cookie, Origin), reads pages, and posts forms with the page's
//! CSRF token.

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};

/// A signed-in browser, as far as the server can tell.
pub struct Console {
    pub base: String,
    pub http: reqwest::Client,
    /// `ferry_session=…`, as the browser sends it back.
    pub cookie: String,
    /// The whole `Set-Cookie` of the sign-in, to check its attributes.
    pub set_cookie: String,
}

/// A client that does not follow redirects (tests look at them).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Sign in with `token` through `POST /login`; panics unless it works.
pub async fn sign_in(base: &str, token: &str) -> Console {
    let http = http();
    let response = http
        .post(format!("{base}/login"))
        .header(ORIGIN, base)
        .form(&[("token", token), ("next", "/jobs")])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signing in");
    assert_eq!(response.headers()[LOCATION], "/jobs");
    let set_cookie = response.headers()[SET_COOKIE]
        .to_str()
        .expect("a cookie")
        .to_string();
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    Console {
        base: base.to_string(),
        http,
        cookie,
        set_cookie,
    }
}

impl Console {
    /// `GET path` with the session cookie.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `GET path`: its status and body.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// The CSRF token of the session, read from a page's forms.
    pub async fn csrf(&self) -> String {
        let (_, body) = self.page("/jobs").await;
        csrf_of(&body)
    }

    /// `POST path` with form `fields` (plus the session's CSRF token), from
    /// the console's own origin.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ORIGIN, &self.base)
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF field");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').expect("end of the value")].to_string()
}
