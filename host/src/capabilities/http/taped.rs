//! Outbound HTTP on a [`Tape`](crate::cassette::Tape): the request's body
//! read whole so that it can be matched or kept, the recorded answer turned
//! back into a response, and a live response kept before the guest reads it.

use super::body::RequestBody;
use crate::cassette::{RecordedRequest, RecordedResponse, Redactor};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// A body that is all there already.
pub(super) fn full(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Read a request's body whole (at most `max` bytes).
pub(super) async fn read_request(
    request: http::Request<WasiBody>,
    max: u64,
) -> Result<(http::request::Parts, Bytes), HttpError> {
    let (parts, body) = request.into_parts();
    let body = RequestBody::wrap(body, Arc::default(), max);
    let bytes = body.collect().await?.to_bytes();
    Ok((parts, bytes))
}

/// The request as a cassette holds it (redacted).
pub(super) fn recorded_request(
    parts: &http::request::Parts,
    body: &[u8],
    redactor: &Redactor,
) -> RecordedRequest {
    RecordedRequest {
        method: parts.method.to_string(),
        url: redactor.url(&parts.uri.to_string()),
        headers: redactor.headers(&parts.headers),
        body: redactor.body(body),
    }
}

/// A live response read whole: what the guest gets and what the cassette keeps.
pub(super) async fn read_response(
    response: http::Response<WasiBody>,
    redactor: &Redactor,
) -> Result<(http::Response<WasiBody>, RecordedResponse), HttpError> {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let recorded = RecordedResponse {
        status: parts.status.as_u16(),
        headers: redactor.headers(&parts.headers),
        body: redactor.body(&bytes),
    };
    Ok((http::Response::from_parts(parts, full(bytes)), recorded))
}

/// A recorded answer as a response (headers that do not parse are left out).
pub(super) fn response(recorded: &RecordedResponse) -> http::Response<WasiBody> {
    let body = recorded
        .body
        .as_ref()
        .map(|b| b.bytes())
        .unwrap_or_default();
    let mut response = http::Response::new(full(Bytes::from(body)));
    *response.status_mut() =
        http::StatusCode::from_u16(recorded.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    for (name, value) in &recorded.headers {
        // The length is that of the body as replayed.
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        let value = value.as_str().unwrap_or_default();
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
