//! A small blocking HTTP client over the standard `wasi:http` interface.
//!
//! The host decides what it may reach: only the hosts the manifest allows
//! (`allowed_hosts`), everything else fails with a `denied` error that says
//! why. Since this is plain `wasi:http`, other guest crates that speak it work
//! too. Redirects are not followed unless asked ([`Request::follow_redirects`]);
//! each hop is then a new request, checked by the host like the first.
//!
//! ```no_run
//! use ferry_sdk::{http, Result};
//!
//! fn products(base: &str, key: &str) -> Result<serde_json::Value> {
//!     http::Request::get(&format!("{base}/api/v1/products"))
//!         .header("x-api-key", key)
//!         .send()?
//!         .error_for_status()?
//!         .json()
//! }
//! ```

use crate::{Error, Result};
use serde_json::Value;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

/// An outgoing request.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout_ms: Option<u64>,
    max_redirects: u32,
}

/// A response, with its body read.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names in lower case).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with this method and URL.
    pub fn new(method: &str, url: &str) -> Self {
        Request {
            method: method.to_string(),
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: None,
            max_redirects: 0,
        }
    }
    /// A GET request.
    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }
    /// A POST request.
    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }
    /// A PUT request.
    pub fn put(url: &str) -> Self {
        Self::new("PUT", url)
    }
    /// A PATCH request (a partial update, as most REST APIs take writes).
    pub fn patch(url: &str) -> Self {
        Self::new("PATCH", url)
    }
    /// A DELETE request.
    pub fn delete(url: &str) -> Self {
        Self::new("DELETE", url)
    }
    /// A HEAD request.
    pub fn head(url: &str) -> Self {
        Self::new("HEAD", url)
    }
    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Ask the host to add the sealed credential `name` (a
    /// `[[capabilities.credential]]` of the manifest) to this request. The
    /// guest never sees the secret's value; the host refuses the request when
    /// the credential is not bound to its target. Dropped when a redirect
    /// leaves the origin, like `authorization`.
    pub fn credential(self, name: &str) -> Self {
        self.header("ferry-credential", name)
    }
    /// Send a JSON body (sets `content-type`).
    pub fn json(mut self, body: &Value) -> Self {
        self.body = crate::json::text(body).into_bytes();
        self.header("content-type", "application/json")
    }
    /// Send raw bytes.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
    /// Give up waiting for the first response byte after this long.
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Follow up to `max` redirects (301, 302, 303, 307, 308). A 303, or a 301
    /// or 302 answering a POST, continues as a GET without a body, as browsers
    /// do; `authorization` and `cookie` headers are dropped when a redirect
    /// leaves the origin.
    pub fn follow_redirects(mut self, max: u32) -> Self {
        self.max_redirects = max;
        self
    }

    /// Send the request (following redirects if asked) and read the whole response.
    pub fn send(self) -> Result<Response> {
        let mut request = self;
        let mut left = request.max_redirects;
        loop {
            let response = request.send_once()?;
            let location = match response.status {
                301 | 302 | 303 | 307 | 308 if left > 0 => response.header("location"),
                _ => None,
            };
            let Some(location) = location else {
                return Ok(response);
            };
            let from = url::Url::parse(&request.url)
                .map_err(|e| Error::fatal(format!("bad URL `{}`: {e}", request.url)))?;
            let to = from.join(location).map_err(|e| {
                Error::fatal(format!(
                    "bad redirect from {} to `{location}`: {e}",
                    request.url
                ))
            })?;
            if to.origin() != from.origin() {
                request.headers.retain(|(name, _)| {
                    !matches!(
                        name.to_ascii_lowercase().as_str(),
                        "authorization" | "cookie" | "ferry-credential"
                    )
                });
            }
            let as_get = response.status == 303
                || (matches!(response.status, 301 | 302) && request.method == "POST");
            if as_get {
                request.method = "GET".into();
                request.body.clear();
                request
                    .headers
                    .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
            }
            request.url = to.to_string();
            left -= 1;
        }
    }

    fn send_once(&self) -> Result<Response> {
        let url = url::Url::parse(&self.url)
            .map_err(|e| Error::fatal(format!("bad URL `{}`: {e}", self.url)))?;
        let headers = Fields::new();
        for (name, value) in &self.headers {
            headers.append(name, value.as_bytes()).map_err(|e| {
                Error::fatal(format!("header `{name}` refused: {}", header_error(e)))
            })?;
        }
        let request = OutgoingRequest::new(headers);
        let method = match self.method.as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            other => Method::Other(other.to_string()),
        };
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_string()),
        };
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let invalid = |what: &str| Error::fatal(format!("invalid {what} in `{}`", self.url));
        request.set_method(&method).map_err(|_| invalid("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|_| invalid("scheme"))?;
        request
            .set_authority(Some(&authority))
            .map_err(|_| invalid("host"))?;
        request
            .set_path_with_query(Some(&path))
            .map_err(|_| invalid("path"))?;
        let options = self.timeout_ms.map(|ms| {
            let options = RequestOptions::new();
            let _ = options.set_first_byte_timeout(Some(ms * 1_000_000));
            options
        });

        let body = request
            .body()
            .map_err(|_| Error::fatal("request body already taken"))?;
        let pending =
            outgoing_handler::handle(request, options).map_err(|e| http_error(&self.url, e))?;
        write_body(body, &self.body)?;

        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(http_error(&self.url, code)),
            _ => {
                return Err(Error::retryable(format!(
                    "{} {}: no response",
                    self.method, self.url
                )));
            }
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let incoming = response
            .consume()
            .map_err(|_| Error::retryable("response body already taken"))?;
        let body = read_body(&incoming)?;
        drop(incoming);
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<()> {
    {
        let stream = body
            .write()
            .map_err(|_| Error::fatal("request body stream already taken"))?;
        for chunk in bytes.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| {
                Error::retryable(format!(
                    "writing the request body failed: {}",
                    stream_error(e)
                ))
            })?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| {
        Error::retryable(format!(
            "sending the request failed: {}",
            describe(&e, None)
        ))
    })
}

fn read_body(incoming: &IncomingBody) -> Result<Vec<u8>> {
    let stream = incoming
        .stream()
        .map_err(|_| Error::retryable("response body stream already taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e @ StreamError::LastOperationFailed(_)) => {
                let why = stream_error(e);
                let message = format!("reading the response failed: {why}");
                // A size cap will cut the same response again: do not retry.
                return Err(if why.contains("max_response_body") {
                    Error::fatal(message)
                } else {
                    Error::retryable(message)
                });
            }
        }
    }
    Ok(body)
}

fn http_error(url: &str, code: ErrorCode) -> Error {
    match code {
        ErrorCode::HttpRequestDenied => Error::denied(format!(
            "request to {url} denied: the host is not in the manifest's allowed_hosts"
        )),
        ErrorCode::InternalError(Some(msg)) if msg.contains("denied") => {
            Error::denied(format!("{url}: {msg}"))
        }
        ErrorCode::HttpRequestBodySize(limit) => Error::fatal(format!(
            "request to {url}: the body is over the host's limit{}",
            limit.map(|n| format!(" ({n} bytes)")).unwrap_or_default()
        )),
        other => {
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(String::from));
            Error::retryable(format!(
                "request to {url} failed: {}",
                describe(&other, host.as_deref())
            ))
        }
    }
}

/// Why a stream failed, in words.
fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "the connection was closed".into(),
        StreamError::LastOperationFailed(e) => match wasi::http::types::http_error_code(&e) {
            Some(code) => describe(&code, None),
            None => e.to_debug_string(),
        },
    }
}

fn header_error(e: wasi::http::types::HeaderError) -> &'static str {
    use wasi::http::types::HeaderError;
    match e {
        HeaderError::InvalidSyntax => "not a valid header name or value",
        HeaderError::Forbidden => "the host does not let guests set it",
        HeaderError::Immutable => "the headers can no longer be changed",
    }
}

/// A `wasi:http` error code in words (its Debug text, `ErrorCode::…`, is for
/// Rust developers, not for the operators who read a job's error). `host`:
/// the host name the request went to, for DNS errors.
pub(crate) fn describe(code: &ErrorCode, host: Option<&str>) -> String {
    let bytes = |n: &Option<u64>| n.map(|n| format!(" ({n} bytes)")).unwrap_or_default();
    let size = |n: &Option<u32>| n.map(|n| format!(" ({n} bytes)")).unwrap_or_default();
    let field = |f: &Option<wasi::http::types::FieldSizePayload>| match f {
        Some(f) => format!(
            " (`{}`{})",
            f.field_name.as_deref().unwrap_or("?"),
            size(&f.field_size)
        ),
        None => String::new(),
    };
    let detail = |d: &Option<String>| d.as_ref().map(|d| format!(": {d}")).unwrap_or_default();
    match code {
        ErrorCode::DnsTimeout => match host {
            Some(h) => format!("DNS lookup of {h} timed out"),
            None => "DNS lookup timed out".into(),
        },
        ErrorCode::DnsError(e) => {
            // The host's own words often start with the name again.
            let why = e.rcode.as_deref().map(|r| match host {
                Some(h) => r.strip_prefix(&format!("{h}: ")).unwrap_or(r),
                None => r,
            });
            let subject = host.map(|h| format!(" of {h}")).unwrap_or_default();
            match why {
                Some(why) => format!("DNS lookup{subject} failed: {why}"),
                None => format!("DNS lookup{subject} failed"),
            }
        }
        ErrorCode::DestinationNotFound => "destination not found".into(),
        ErrorCode::DestinationUnavailable => "destination unavailable".into(),
        ErrorCode::DestinationIpProhibited => "destination address prohibited".into(),
        ErrorCode::DestinationIpUnroutable => "destination address unroutable".into(),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTerminated => "connection closed by the remote".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        ErrorCode::ConnectionReadTimeout => "timed out waiting for the answer".into(),
        ErrorCode::ConnectionWriteTimeout => "timed out sending the request".into(),
        ErrorCode::ConnectionLimitReached => "too many connections".into(),
        ErrorCode::TlsProtocolError => "TLS handshake failed".into(),
        ErrorCode::TlsCertificateError => "the server's TLS certificate is not valid".into(),
        ErrorCode::TlsAlertReceived(a) => format!(
            "the server ended TLS with an alert{}",
            detail(&a.alert_message)
        ),
        ErrorCode::HttpRequestDenied => "request denied".into(),
        ErrorCode::HttpRequestLengthRequired => "the remote wants a content length".into(),
        ErrorCode::HttpRequestBodySize(n) => format!("request body too large{}", bytes(n)),
        ErrorCode::HttpRequestMethodInvalid => "invalid request method".into(),
        ErrorCode::HttpRequestUriInvalid => "invalid request URL".into(),
        ErrorCode::HttpRequestUriTooLong => "request URL too long".into(),
        ErrorCode::HttpRequestHeaderSectionSize(n) => {
            format!("request headers too large{}", size(n))
        }
        ErrorCode::HttpRequestHeaderSize(f) => format!("request header too large{}", field(f)),
        ErrorCode::HttpRequestTrailerSectionSize(n) => {
            format!("request trailers too large{}", size(n))
        }
        ErrorCode::HttpRequestTrailerSize(f) => {
            format!("request trailer too large{}", field(&Some(f.clone())))
        }
        ErrorCode::HttpResponseIncomplete => "the answer ended early".into(),
        ErrorCode::HttpResponseHeaderSectionSize(n) => {
            format!("response headers too large{}", size(n))
        }
        ErrorCode::HttpResponseHeaderSize(f) => {
            format!("response header too large{}", field(&Some(f.clone())))
        }
        ErrorCode::HttpResponseBodySize(n) => format!("response body too large{}", bytes(n)),
        ErrorCode::HttpResponseTrailerSectionSize(n) => {
            format!("response trailers too large{}", size(n))
        }
        ErrorCode::HttpResponseTrailerSize(f) => {
            format!("response trailer too large{}", field(&Some(f.clone())))
        }
        ErrorCode::HttpResponseTransferCoding(c) => {
            format!("unsupported transfer coding{}", detail(c))
        }
        ErrorCode::HttpResponseContentCoding(c) => {
            format!("unsupported content coding{}", detail(c))
        }
        ErrorCode::HttpResponseTimeout => "timed out waiting for the answer".into(),
        ErrorCode::HttpUpgradeFailed => "HTTP upgrade failed".into(),
        ErrorCode::HttpProtocolError => "the remote broke the HTTP protocol".into(),
        ErrorCode::LoopDetected => "request loop detected".into(),
        ErrorCode::ConfigurationError => "HTTP configuration error".into(),
        ErrorCode::InternalError(Some(m)) => m.clone(),
        ErrorCode::InternalError(None) => "internal error of the host".into(),
    }
}

impl Response {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::fatal(format!("response is not JSON: {e}")))
    }
    /// Turn 4xx/5xx statuses into errors: 408, 429 and 5xx are retryable
    /// (with `Retry-After` when given), other 4xx are final.
    pub fn error_for_status(self) -> Result<Self> {
        let status = self.status;
        if status < 400 {
            return Ok(self);
        }
        let text = self.text();
        let snippet: String = text.chars().take(200).collect();
        let message = format!("remote answered {status}: {snippet}");
        if status == 408 || status == 429 || status >= 500 {
            let mut err = Error::retryable(message);
            if let Some(secs) = self
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                err = err.with_retry_after_ms(secs * 1000);
            }
            Err(err)
        } else if status == 404 {
            Err(Error::not_found(message))
        } else {
            Err(Error::fatal(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasi::http::types::DnsErrorPayload;

    #[test]
    fn network_errors_are_said_in_words() {
        assert_eq!(
            describe(&ErrorCode::ConnectionRefused, None),
            "connection refused"
        );
        assert_eq!(
            describe(&ErrorCode::ConnectionTimeout, None),
            "connection timed out"
        );
        let dns = ErrorCode::DnsError(DnsErrorPayload {
            rcode: Some("shop.example: failed to lookup address information".into()),
            info_code: None,
        });
        assert_eq!(
            describe(&dns, Some("shop.example")),
            "DNS lookup of shop.example failed: failed to lookup address information"
        );
        let failed = http_error("http://10.9.9.9:81/x", ErrorCode::ConnectionRefused);
        assert!(
            failed
                .to_string()
                .contains("request to http://10.9.9.9:81/x failed: connection refused"),
            "{failed}"
        );
        assert!(!format!("{failed}").contains("ErrorCode"));
    }
}
