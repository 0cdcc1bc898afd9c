//! `POST /hooks/{instance}/{hook}`: the HTTP side of [`crate::triggers::webhook`].

use super::app::{App, error};
use crate::triggers::webhook::{self, Refusal};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tracing::Instrument;

pub(super) fn routes() -> Router<App> {
    Router::new().route("/hooks/{instance}/{hook}", post(call))
}

/// Answer a webhook call, counted by status, inside a span naming the
/// instance and hook (every log line of the call carries them).
async fn call(
    State(app): State<App>,
    Path((instance, hook)): Path<(String, String)>,
    request: Request,
) -> Response {
    // At error level so that lines at every verbosity carry its fields.
    let span = tracing::error_span!("webhook", instance = %instance, hook = %hook);
    let metrics = app.ferry.store().metrics().clone();
    let response = answer(app, instance, hook, request).instrument(span).await;
    metrics.webhook(response.status().as_u16());
    response
}

async fn answer(app: App, instance: String, hook: String, request: Request) -> Response {
    let max_body = app.options.max_body;
    let (parts, body) = request.into_parts();
    // Refuse a declared oversize body before reading any of it.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return refused(webhook::too_large(max_body));
    }
    let body = match to_bytes(body, max_body).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => return refused(webhook::too_large(max_body)),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            );
        }
    };
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let request = webhook::Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body: body.to_vec(),
    };
    match webhook::call(&app.ferry, &instance, &hook, request, max_body).await {
        Ok(answer) => {
            let mut response = Response::new(Body::from(answer.body));
            *response.status_mut() =
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            for (name, value) in answer.headers {
                // `webhook::call` checked them; a pair that still fails is skipped.
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        Err(refusal) => refused(refusal),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

fn refused(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = error(status, refusal.reason).into_response();
    if let Some(secs) = refusal.retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
