//! Who may call the admin API: every `/api/…` route sits behind [`gate`] with
//! the [`Role`] it needs, checked before the handler runs. A call without a
//! valid token is answered 401, one whose token's role is too weak 403; the
//! handler then finds the [`Caller`] in the request's extensions.
//!
//! The console's pages call the same API from the browser with their session
//! cookie instead of a token ([`super::console::session`]): the session's
//! token and role count as if the token were presented, and a write must
//! also carry the session's CSRF secret in `X-CSRF-Token` and come from this
//! server's origin.
//!
//! Webhooks are not behind this gate: each hook authenticates its callers with
//! its own secret ([`crate::triggers::webhook`]).

use super::app::{App, error};
use super::console::session;
use crate::admin::http_status;
use crate::error::Error;
use crate::tokens::{self, Caller, Role};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The state of one gate: the app and the role its routes need.
#[derive(Clone)]
pub(super) struct Gate {
    pub(super) app: App,
    pub(super) role: Role,
}

/// Let the call through if it presents a token of role `gate.role` or stronger.
pub(super) async fn gate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    // Read what is needed before awaiting: a `&Request` is not `Send`.
    let route = format!("{} {}", request.method(), request.uri().path());
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().trim().to_string());
    let found = match presented {
        None if request.headers().contains_key(header::COOKIE) => {
            let read_only = request.method() == Method::GET || request.method() == Method::HEAD;
            from_session(&gate, &route, request.headers(), read_only).await
        }
        _ => caller(&gate, &route, presented.as_deref()).await,
    };
    match found {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => refuse(&e),
    }
}

/// The caller of a request that presents a console session cookie instead
/// of a token (a write also needs the session's CSRF header).
async fn from_session(
    gate: &Gate,
    route: &str,
    headers: &axum::http::HeaderMap,
    read_only: bool,
) -> crate::Result<Caller> {
    let Some(session) = session::from_headers(gate.app.ferry.store(), headers).await? else {
        return caller(gate, route, None).await;
    };
    if !read_only && !session::api_write_allowed(&session, headers) {
        return Err(Error::Forbidden(format!(
            "{route} with a console session needs the session's CSRF token in `{}` and a \
             request from the console's own origin",
            session::CSRF_HEADER
        )));
    }
    allowed(gate, route, session.caller)
}

fn allowed(gate: &Gate, route: &str, caller: Caller) -> crate::Result<Caller> {
    if !caller.role.allows(gate.role) {
        return Err(Error::Forbidden(format!(
            "{route} needs role {} or above; token `{}` is a {}",
            gate.role, caller.name, caller.role,
        )));
    }
    Ok(caller)
}

async fn caller(gate: &Gate, route: &str, presented: Option<&str>) -> crate::Result<Caller> {
    let Some(presented) = presented else {
        return Err(Error::Unauthorized(format!(
            "{route} needs an API token of role {} or above: send `Authorization: Bearer ferry_…` \
             (CLI: --token or FERRY_TOKEN; make one with `ferry token create NAME --role {}`)",
            gate.role, gate.role,
        )));
    };
    let token = presented
        .strip_prefix("Bearer ")
        .or_else(|| presented.strip_prefix("bearer "))
        .ok_or_else(|| {
            Error::Unauthorized("the Authorization header must be `Bearer TOKEN`".into())
        })?
        .trim();
    let caller = tokens::verify(gate.app.ferry.store(), token).await?;
    allowed(gate, route, caller)
}

fn refuse(e: &Error) -> Response {
    let status = StatusCode::from_u16(http_status(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!("admin API authentication: {e}");
    }
    let mut response = error(status, e.to_string());
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
