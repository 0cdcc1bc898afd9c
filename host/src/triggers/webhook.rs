//! Webhook trigger: a call to `POST /hooks/{instance}/{hook}` is checked here
//! (size, authentication, content) and, if it passes, answered at once by the
//! module that declares the hook along the instance's backend chain.
//!
//! Nothing here knows about the HTTP server: [`check`] is a pure function of the
//! declaration, the secret and the request (a fuzz target can call it), and
//! [`call`] takes a plain [`Request`]. A refused call never reaches the guest,
//! so it cannot enqueue anything.

use crate::Ferry;
use crate::backend::{BackendKey, Resolved};
use crate::bindings::guest;
use crate::error::Error;
use crate::invoke::{self, Failure, WebhookOutcome};
use crate::manifest::{WebhookAuth, WebhookContent, WebhookDecl};
use crate::secrets;
use crate::store::Store;
use hmac::{Hmac, Mac};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::fmt;
use std::path::Path;
use subtle::ConstantTimeEq;

/// Largest body accepted by default: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// Headers the host sets itself on an answer: a guest's are dropped.
const FRAMING_HEADERS: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
];

/// A webhook call, independent of the HTTP server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/hooks/acme/product-changed`.
    pub path: String,
    /// Query string without `?`.
    pub query: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers (valid names and values; no framing headers).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a call got no answer from the guest (or the guest's error), as an HTTP
/// status and a reason for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status: 400, 401, 403, 404, 413, 422, 500 or 503.
    pub status: u16,
    /// What happened, for the caller.
    pub reason: String,
    /// For 503: when to try again, in seconds.
    pub retry_after_secs: Option<u64>,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
            retry_after_secs: None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

/// The secret of `hook` for backend instance `instance` (with these params):
/// its sealed secret (`secret`), opened with the master key of `key_file`, or
/// the param it names (`secret_param`); none when it is not set.
pub async fn secret_for(
    store: &Store,
    key_file: Option<&Path>,
    instance: &str,
    params: &Map<String, Value>,
    hook: &WebhookDecl,
) -> crate::Result<Option<String>> {
    if let Some(name) = &hook.secret {
        return secrets::open_one(store, key_file, instance, name).await;
    }
    Ok(param_secret(params, hook))
}

/// The secret of `hook` held in a param of the instance (`secret_param`).
pub fn param_secret(params: &Map<String, Value>, hook: &WebhookDecl) -> Option<String> {
    let name = hook.secret_param.as_ref()?;
    match params.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Check a call against its hook's declaration: body size, authentication,
/// content. `secret` is the instance's secret for the hook (none: not set).
pub fn check(
    hook: &WebhookDecl,
    secret: Option<&str>,
    request: &Request,
    max_body: usize,
) -> Result<(), Refusal> {
    if request.body.len() > max_body {
        return Err(too_large(max_body));
    }
    if hook.auth != WebhookAuth::None {
        let Some(secret) = secret else {
            let missing = match (&hook.secret, &hook.secret_param) {
                (Some(name), _) => format!("no secret `{name}` (ferry secret set INSTANCE {name})"),
                (None, param) => format!("no `{}` param", param.as_deref().unwrap_or_default()),
            };
            return Err(Refusal::new(
                503,
                format!(
                    "webhook `{}` is not configured: the backend instance has {missing}",
                    hook.name
                ),
            ));
        };
        let header = hook.header_name();
        let Some(given) = request.header(&header) else {
            return Err(Refusal::new(401, format!("missing header `{header}`")));
        };
        match hook.auth {
            WebhookAuth::Token => check_token(given, secret, &header)?,
            WebhookAuth::HmacSha256 => check_signature(given, secret, &request.body, &header)?,
            WebhookAuth::None => {}
        }
    }
    if hook.content == WebhookContent::Json
        && let Err(e) = serde_json::from_slice::<JsonDocument>(&request.body)
    {
        return Err(Refusal::new(400, format!("the body is not JSON: {e}")));
    }
    Ok(())
}

/// A JSON document, checked the way the guest SDK reads the body
/// (`serde_json::from_slice::<Value>`) without building it: strings must be
/// UTF-8 without lone surrogate escapes, numbers in range, nesting within
/// serde_json's limit. `IgnoredAny` is not enough: it skips strings and
/// numbers unchecked, so a body such as `"\xff"` (invalid UTF-8 in a string)
/// passed as JSON and the guest could not read it (found by the `webhook`
/// fuzz target).
struct JsonDocument;

impl<'de> Deserialize<'de> for JsonDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any` parses every value, as `Value` does.
        deserializer.deserialize_any(JsonDocument)
    }
}

impl<'de> Visitor<'de> for JsonDocument {
    type Value = JsonDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<JsonDocument>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<JsonDocument, JsonDocument>()?.is_some() {}
        Ok(self)
    }
}

/// The refusal of a body over `max_body` bytes.
pub fn too_large(max_body: usize) -> Refusal {
    Refusal::new(
        413,
        format!("the body is larger than the limit of {max_body} bytes"),
    )
}

fn check_token(given: &str, secret: &str, header: &str) -> Result<(), Refusal> {
    let given = given.trim();
    let given = match given.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => given[7..].trim_start(),
        _ => given,
    };
    if bool::from(given.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::new(
            401,
            format!("the token in `{header}` is not the right one"),
        ))
    }
}

fn check_signature(given: &str, secret: &str, body: &[u8], header: &str) -> Result<(), Refusal> {
    let given = given.trim();
    let hex_text = given.strip_prefix("sha256=").unwrap_or(given);
    let signature = hex::decode(hex_text).map_err(|_| {
        Refusal::new(
            401,
            format!("`{header}` is not a hex HMAC-SHA256 signature (optionally after `sha256=`)"),
        )
    })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Refusal::new(500, format!("HMAC key: {e}")))?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature).map_err(|_| {
        Refusal::new(
            401,
            format!("the signature in `{header}` does not match the body"),
        )
    })
}

/// Where a hook of an instance is implemented: the first module along the
/// instance's backend chain that declares it.
fn find_hook(ferry: &Ferry, backend: &str, hook: &str) -> Option<(Resolved, WebhookDecl)> {
    let registry = ferry.registry();
    let key = BackendKey::parse(backend).ok()?;
    registry.chain(&key).into_iter().find_map(|at| {
        let module = registry.module_at(&at)?;
        let decl = module.manifest.webhooks.iter().find(|w| w.name == hook)?;
        Some((
            Resolved {
                module: module.clone(),
                at,
            },
            decl.clone(),
        ))
    })
}

/// Handle a call to `hook` of backend instance `instance`: check it, then let
/// the module answer. Every refusal happens before the guest runs.
pub async fn call(
    ferry: &Ferry,
    instance: &str,
    hook: &str,
    mut request: Request,
    max_body: usize,
) -> Result<Answer, Refusal> {
    let backend_instance = match ferry.store().instance(instance).await {
        Ok(i) => i,
        Err(Error::NotFound { .. }) => {
            return Err(Refusal::new(
                404,
                format!("no backend instance `{instance}`"),
            ));
        }
        Err(e) => return Err(Refusal::new(500, e.to_string())),
    };
    let Some((resolved, decl)) = find_hook(ferry, &backend_instance.backend, hook) else {
        return Err(Refusal::new(
            404,
            format!(
                "backend instance `{instance}` ({}) has no webhook `{hook}`",
                backend_instance.backend
            ),
        ));
    };
    let scope = ferry
        .scope(backend_instance, &format!("webhook:{hook}"), None)
        .map_err(|e| Refusal::new(503, format!("webhook `{hook}` cannot run: {e}")))?;
    let key_file = ferry.engine().config().secret_key_file.clone();
    let secret = secret_for(
        ferry.store(),
        key_file.as_deref(),
        instance,
        &scope.params,
        &decl,
    )
    .await
    .map_err(|e| {
        tracing::error!(instance, hook, "webhook secret: {e}");
        Refusal::new(
            503,
            format!("webhook `{hook}` cannot check its callers: {e}"),
        )
    })?;
    check(&decl, secret.as_deref(), &request, max_body)?;
    // The proof of who called is the host's business, not the guest's.
    if decl.auth != WebhookAuth::None {
        let header = decl.header_name();
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&header));
    }
    let wit_request = guest::WebhookRequest {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
    };
    let module = resolved.module.name().to_string();
    match invoke::handle_webhook(&scope, &resolved, hook, &wit_request).await {
        WebhookOutcome::Answered(answer) => answer_of(answer, &module),
        WebhookOutcome::Failed(failure) => Err(refusal_of_error(failure, &module, hook)),
        WebhookOutcome::Trapped(failure) => {
            tracing::warn!(
                instance,
                hook,
                module,
                "webhook trapped: {}",
                failure.message
            );
            let status = if failure.is_retryable() { 503 } else { 500 };
            let mut refusal = Refusal::new(
                status,
                format!(
                    "webhook `{hook}` of module `{module}` failed: {}",
                    first_line(&failure.message)
                ),
            );
            refusal.retry_after_secs = failure.retry_after_ms.map(|ms| ms.div_ceil(1000));
            Err(refusal)
        }
    }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

/// A guest error as the caller sees it.
fn refusal_of_error(failure: Failure, module: &str, hook: &str) -> Refusal {
    let status = match failure.kind {
        "not-found" => 404,
        "denied" => 403,
        "retryable" => 503,
        _ => 422,
    };
    tracing::info!(
        hook,
        module,
        status,
        "webhook refused by the guest: {}",
        failure.message
    );
    Refusal {
        status,
        reason: failure.message,
        retry_after_secs: failure
            .retry_after_ms
            .filter(|_| status == 503)
            .map(|ms| ms.div_ceil(1000)),
    }
}

/// The guest's answer as the caller gets it, if it is a valid HTTP answer: a
/// status from 200 to 599 and valid header names and values, without the
/// framing headers (the server sets those itself). Anything else is a 500
/// refusal naming `module`. Public, like [`check`], so that a fuzz target can
/// feed it what a hostile guest might answer.
pub fn answer_of(answer: guest::WebhookResponse, module: &str) -> Result<Answer, Refusal> {
    let bad = |what: String| {
        Refusal::new(
            500,
            format!("module `{module}` answered the webhook with {what}"),
        )
    };
    if !(200..=599).contains(&answer.status) {
        return Err(bad(format!("status {}", answer.status)));
    }
    let mut headers = Vec::with_capacity(answer.headers.len());
    for (name, value) in answer.headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(bad(format!("an invalid header name {name:?}")));
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(bad(format!("an invalid value for header `{name}`")));
        }
        if FRAMING_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        headers.push((name, value));
    }
    Ok(Answer {
        status: answer.status,
        headers,
        body: answer.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(auth: WebhookAuth, content: WebhookContent) -> WebhookDecl {
        WebhookDecl {
            name: "h".into(),
            auth,
            header: None,
            secret: None,
            secret_param: (auth != WebhookAuth::None).then(|| "webhook_secret".into()),
            content,
            description: String::new(),
        }
    }

    fn request(headers: &[(&str, &str)], body: &[u8]) -> Request {
        Request {
            method: "POST".into(),
            path: "/hooks/a/h".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        }
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_token_must_match() {
        let h = hook(WebhookAuth::Token, WebhookContent::Bytes);
        let ok = request(&[("x-ferry-token", "s3cret")], b"x");
        assert_eq!(check(&h, Some("s3cret"), &ok, 10), Ok(()));
        let bearer = request(&[("X-Ferry-Token", "Bearer s3cret")], b"x");
        assert_eq!(check(&h, Some("s3cret"), &bearer, 10), Ok(()));
        let wrong = request(&[("x-ferry-token", "s3cre")], b"x");
        assert_eq!(
            check(&h, Some("s3cret"), &wrong, 10).unwrap_err().status,
            401
        );
        let missing = check(&h, Some("s3cret"), &request(&[], b"x"), 10).unwrap_err();
        assert_eq!(missing.status, 401);
        assert!(missing.reason.contains("x-ferry-token"), "{missing}");
        let unset = check(&h, None, &ok, 10).unwrap_err();
        assert_eq!(unset.status, 503);
        assert!(unset.reason.contains("webhook_secret"), "{unset}");
    }

    #[test]
    fn an_hmac_signature_must_match_the_body() {
        let h = hook(WebhookAuth::HmacSha256, WebhookContent::Json);
        let body = br#"{"id": 7}"#;
        let good = sign("k", body);
        for value in [good.clone(), format!("sha256={good}")] {
            let r = request(&[("x-ferry-signature", &value)], body);
            assert_eq!(check(&h, Some("k"), &r, 100), Ok(()));
        }
        let tampered = request(&[("x-ferry-signature", &good)], br#"{"id": 8}"#);
        let err = check(&h, Some("k"), &tampered, 100).unwrap_err();
        assert_eq!(err.status, 401);
        assert!(err.reason.contains("does not match"), "{err}");
        let not_hex = request(&[("x-ferry-signature", "zz")], body);
        assert_eq!(check(&h, Some("k"), &not_hex, 100).unwrap_err().status, 401);
    }

    #[test]
    fn size_comes_first_then_auth_then_content() {
        let h = hook(WebhookAuth::HmacSha256, WebhookContent::Json);
        let big = request(&[], &[b' '; 11]);
        assert_eq!(check(&h, Some("k"), &big, 10).unwrap_err().status, 413);
        let unsigned_junk = request(&[], b"not json");
        assert_eq!(
            check(&h, Some("k"), &unsigned_junk, 100)
                .unwrap_err()
                .status,
            401
        );
        let signed_junk = request(
            &[("x-ferry-signature", &sign("k", b"not json"))],
            b"not json",
        );
        let err = check(&h, Some("k"), &signed_junk, 100).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.reason.contains("not JSON"), "{err}");
        let open = hook(WebhookAuth::None, WebhookContent::Bytes);
        assert_eq!(check(&open, None, &request(&[], b"\xff"), 100), Ok(()));
    }

    #[test]
    fn a_json_body_is_json_the_guest_can_read() {
        let h = hook(WebhookAuth::None, WebhookContent::Json);
        let accepted = |body: &[u8]| check(&h, None, &request(&[], body), 1000).is_ok();
        // What the guest SDK's `Request::json` reads, and only that.
        let reads = |body: &[u8]| serde_json::from_slice::<Value>(body).is_ok();
        for body in [
            &br#"{"id": 7, "tags": ["a", "\u00e9\ud83d\ude00"], "x": null}"#[..],
            b" [1.5e3, -0, true, {}] ",
            b"\"\xc3\xa9\"",
            b"18446744073709551616",
        ] {
            assert!(accepted(body) && reads(body), "{body:?}");
        }
        // Regression (webhook fuzz target): invalid UTF-8 inside a string,
        // lone surrogate escapes and numbers out of range passed the check.
        for body in [
            &b"\"\xff\""[..],
            b"{\"\xc5\": 1}",
            br#"["\ud800"]"#,
            b"1e400",
            b"{\"a\": 1} x",
            b"",
        ] {
            assert!(!accepted(body) && !reads(body), "{body:?}");
            let err = check(&h, None, &request(&[], body), 1000).unwrap_err();
            assert_eq!(err.status, 400, "{err}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!accepted(deep.as_bytes()) && !reads(deep.as_bytes()));
    }

    #[test]
    fn the_secret_comes_from_the_named_param() {
        let h = hook(WebhookAuth::Token, WebhookContent::Bytes);
        let params = serde_json::json!({ "webhook_secret": "s", "other": "x" });
        assert_eq!(
            param_secret(params.as_object().unwrap(), &h).as_deref(),
            Some("s")
        );
        let empty = serde_json::json!({ "webhook_secret": "" });
        assert_eq!(param_secret(empty.as_object().unwrap(), &h), None);
    }
}
