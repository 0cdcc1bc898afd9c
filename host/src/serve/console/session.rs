//! Signing in to the console: an operator presents an API token once, on the
//! sign-in form, and gets a server-side session. The browser holds only a
//! random session id in a cookie (`HttpOnly`, `SameSite=Strict`, `Path=/`,
//! `Secure` over HTTPS); the store keeps its SHA-256, the token's name and
//! role, a CSRF secret and the expiry ([`crate::store::ConsoleSession`]). The
//! token never appears in a URL or a page, and every request checks that the
//! token still exists: revoking it ends its sessions at once.
//!
//! Every POST of a session (the console's forms, and the admin API called
//! with the session cookie) must carry the session's CSRF secret and come
//! from this server's own origin.

use super::page::{Nav, Problem, render};
use crate::error::{Error, Result};
use crate::serve::app::App;
use crate::store::{ConsoleSession, Store, now_ms};
use crate::tokens::{self, Caller, Role};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The name of the session cookie.
pub(crate) const COOKIE: &str = "ferry_session";

/// The header that carries the CSRF secret on the admin API's writes made
/// from a console page (forms carry it as the field `csrf`).
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts: a working day; then the operator signs in again.
const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// The signed-in operator of a request.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The token the session was opened with, and its role.
    pub(crate) caller: Caller,
    /// The secret its writes carry.
    pub(crate) csrf: String,
}

impl Session {
    /// The navigation bar of this operator on page `active`.
    pub(super) fn nav(&self, active: &'static str) -> Nav {
        Nav {
            signed_in: true,
            name: self.caller.name.clone(),
            role: self.caller.role.to_string(),
            csrf: self.csrf.clone(),
            active,
            developer: self.may(Role::Developer),
            manager: self.may(Role::Manager),
        }
    }

    /// Whether the operator's role may do what `role` may.
    pub(crate) fn may(&self, role: Role) -> bool {
        self.caller.role.allows(role)
    }

    /// Refuse (403 page) unless the operator's role may do what `role` may:
    /// the console does not offer such actions, and refuses them anyway.
    pub(super) fn require(&self, role: Role, what: &str) -> std::result::Result<(), Problem> {
        if self.may(role) {
            return Ok(());
        }
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!(
                "{what} needs role {role} or above; you are signed in as `{}`, a {}",
                self.caller.name, self.caller.role
            ),
        )
        .with_nav(self.nav("")))
    }

    /// Check a form POST: the CSRF field must be the session's and the
    /// request must come from this server's origin.
    pub(super) fn check_post(
        &self,
        headers: &HeaderMap,
        form: &HashMap<String, String>,
    ) -> std::result::Result<(), Problem> {
        let presented = form.get("csrf").map(String::as_str).unwrap_or_default();
        if !same_origin(headers) || !same_secret(presented, &self.csrf) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "this form was not sent from this console's own page (or the page is older than \
                 your session): reload the page and try again"
                    .into(),
            )
            .with_nav(self.nav("")));
        }
        Ok(())
    }
}

/// The session of a request that presents a session cookie: none without a
/// cookie; an error when the cookie names no live session (expired, signed
/// out, forged, or its token revoked).
pub(crate) async fn from_headers(store: &Store, headers: &HeaderMap) -> Result<Option<Session>> {
    let Some(id) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let ended = || {
        Error::Unauthorized(
            "your console session has ended (it expired, you signed out, or its API token was \
             revoked): sign in again"
                .into(),
        )
    };
    if id.is_empty() || id.len() > 100 {
        return Err(ended());
    }
    let row = store.console_session(&hash(id)).await?.ok_or_else(ended)?;
    Ok(Some(Session {
        caller: Caller {
            name: row.token_name,
            role: Role::parse(&row.role)?,
        },
        csrf: row.csrf,
    }))
}

/// Whether a write sent with a session cookie may go on: it carries the
/// session's CSRF secret in [`CSRF_HEADER`] and comes from this origin.
pub(crate) fn api_write_allowed(session: &Session, headers: &HeaderMap) -> bool {
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    same_origin(headers) && same_secret(presented, &session.csrf)
}

impl FromRequestParts<App> for Session {
    type Rejection = Response;

    /// The signed-in operator; without one, the sign-in page (401), saying
    /// why when a cookie was presented.
    async fn from_request_parts(
        parts: &mut Parts,
        app: &App,
    ) -> std::result::Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string());
        match from_headers(app.ferry.store(), &parts.headers).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(sign_in_page(StatusCode::UNAUTHORIZED, None, next, false)),
            Err(e @ Error::Unauthorized(_)) => Err(sign_in_page(
                StatusCode::UNAUTHORIZED,
                Some(e.to_string()),
                next,
                true,
            )),
            Err(e) => Err(Problem::from(e).into_response()),
        }
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    message: Option<String>,
    next: String,
}

/// `GET /login`.
pub(super) async fn login_form() -> Response {
    sign_in_page(StatusCode::OK, None, None, false)
}

fn sign_in_page(
    status: StatusCode,
    message: Option<String>,
    next: Option<String>,
    clear_cookie: bool,
) -> Response {
    let page = LoginPage {
        nav: Nav::anonymous(),
        message,
        next: next.filter(|n| safe_next(n)).unwrap_or_else(|| "/".into()),
    };
    let mut response = (status, render(&page)).into_response();
    if clear_cookie {
        set_cookie(
            &mut response,
            &format!("{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"),
        );
    }
    response
}

/// `POST /login` (fields `token`, `next`): open a session for a valid token.
pub(super) async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let next = form.get("next").cloned();
    if !same_origin(&headers) {
        let why = "the sign-in form was not sent from this server's own page".to_string();
        return sign_in_page(StatusCode::FORBIDDEN, Some(why), next, false);
    }
    let token = form.get("token").map(|t| t.trim()).unwrap_or_default();
    let caller = match tokens::verify(app.ferry.store(), token).await {
        Ok(caller) => caller,
        Err(e @ Error::Unauthorized(_)) => {
            let why = if token.is_empty() {
                "enter an API token (make one with `ferry token create NAME --role viewer`)".into()
            } else {
                e.to_string()
            };
            return sign_in_page(StatusCode::UNAUTHORIZED, Some(why), next, false);
        }
        Err(e) => return Problem::from(e).into_response(),
    };
    let id = random();
    let now = now_ms();
    let session = ConsoleSession {
        token_name: caller.name,
        role: caller.role.as_str().into(),
        csrf: random(),
        created_at: now,
        expires_at: now + LIFETIME_MS,
    };
    if let Err(e) = app
        .ferry
        .store()
        .insert_console_session(&hash(&id), &session)
        .await
    {
        return Problem::from(e).into_response();
    }
    let secure = app.options.secure_cookies || over_https(&headers);
    let target = next.filter(|n| safe_next(n)).unwrap_or_else(|| "/".into());
    let mut response = Redirect::to(&target).into_response();
    set_cookie(
        &mut response,
        &format!(
            "{COOKIE}={id}; Max-Age={}; Path=/; HttpOnly; SameSite=Strict{}",
            LIFETIME_MS / 1000,
            if secure { "; Secure" } else { "" }
        ),
    );
    response
}

/// `POST /logout` (field `csrf`): end the session.
pub(super) async fn logout(
    State(app): State<App>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(problem) = session.check_post(&headers, &form) {
        return problem.into_response();
    }
    if let Some(id) = cookie(&headers, COOKIE)
        && let Err(e) = app.ferry.store().delete_console_session(&hash(id)).await
    {
        return Problem::from(e).into_response();
    }
    let mut response = Redirect::to("/login").into_response();
    set_cookie(
        &mut response,
        &format!("{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"),
    );
    response
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Where to go after signing in: a path of this server only (never
/// `//host` or `https://…`, which would make the form an open redirect).
fn safe_next(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\")
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether the request's `Origin` is this server (the host it was sent to).
/// Browsers send `Origin` on every POST; a request without one is refused.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Compare secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !b.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// 32 random bytes, base64url.
fn random() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert!(safe_next("/jobs?state=failed"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/\\evil.example"));
    }

    #[test]
    fn origin_must_be_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!same_origin(&h), "no Origin: refused");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ferry_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("", ""));
    }
}
