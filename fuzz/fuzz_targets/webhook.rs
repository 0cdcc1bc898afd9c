//! The webhook request path up to the guest, and back: what any caller on the
//! network sends (`ferry_manifest::webhook_call::check`, with the secret looked
//! up as the host's `triggers::webhook::call` does) and what a guest answers
//! (`answer_of`). Neither may panic,
//! and the refusals follow the documented order and meaning:
//!
//! - a body over the limit is refused with 413 (and 413 means just that);
//! - an authenticated hook without a secret set is 503, without its header 401;
//! - a call is accepted only with the right token or signature;
//! - a correctly authenticated call to a `content = "json"` hook is accepted
//!   exactly when its body is JSON the way the guest SDK reads it
//!   (`serde_json::from_slice::<Value>`), and refused with 400 otherwise;
//! - an accepted guest answer can be sent as is: status 200-599, valid header
//!   names and values, no framing headers.
//!
//! Half the time the fuzzer signs the call itself (the right token or HMAC of
//! the body, in one of the spellings callers use) so that it reaches the
//! accept path and the JSON check.

#![no_main]

use arbitrary::Arbitrary;
use ferry_manifest::webhook_call::{GuestAnswer, Request, answer_of, check, param_secret};
use ferry_manifest::{WebhookAuth, WebhookContent, WebhookDecl};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use sha2::Sha256;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Auth {
    None,
    Token,
    HmacSha256,
}

/// What the fuzzer adds in front of its own headers.
#[derive(Arbitrary, Debug)]
enum Proof {
    /// Nothing: only the headers it made up.
    Nothing,
    /// The right token or signature; `spelling` picks how it is written.
    Right { spelling: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    auth: Auth,
    json: bool,
    /// The hook's `header` (none: the default for its auth).
    header: Option<String>,
    /// The instance's secret param (empty or absent: not set).
    secret: Option<String>,
    proof: Proof,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Small, so that the limit is often hit.
    max_body: u16,
    /// What the guest answers: status and headers (the body goes as is).
    answer: Option<(u16, Vec<(String, String)>)>,
}

const FRAMING: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
];

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header name in the case `spelling` picks (header names are
/// case-insensitive).
fn cased(name: &str, spelling: u8) -> String {
    if spelling & 1 == 1 {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

fuzz_target!(|input: Input| {
    let Input {
        auth,
        json,
        header,
        secret,
        proof,
        mut headers,
        body,
        max_body,
        answer,
    } = input;
    let max_body = usize::from(max_body);
    let auth = match auth {
        Auth::None => WebhookAuth::None,
        Auth::Token => WebhookAuth::Token,
        Auth::HmacSha256 => WebhookAuth::HmacSha256,
    };
    let hook = WebhookDecl {
        name: "h".into(),
        auth,
        header: header.filter(|_| auth != WebhookAuth::None),
        secret: None,
        secret_param: (auth != WebhookAuth::None).then(|| "webhook_secret".into()),
        content: if json {
            WebhookContent::Json
        } else {
            WebhookContent::Bytes
        },
        description: String::new(),
    };
    // The secret as `call` finds it for a `secret_param` hook: the instance's
    // param named by the hook (a sealed `secret` reaches `check` the same way).
    let mut params = Map::new();
    if let Some(s) = &secret {
        params.insert("webhook_secret".into(), Value::String(s.clone()));
    }
    let secret = param_secret(&params, &hook);
    let header_name = hook.header_name();

    let mut signed = false;
    if let (Proof::Right { spelling }, Some(secret)) = (&proof, &secret) {
        let value = match auth {
            WebhookAuth::None => None,
            // The host trims the header's value (as HTTP servers do): a
            // secret with spaces around it cannot be sent at all.
            WebhookAuth::Token if secret.trim() != secret => None,
            WebhookAuth::Token => {
                // A secret that itself starts with `Bearer ` needs the prefix.
                let bare = !secret
                    .get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case("bearer "));
                Some(match spelling % 4 {
                    0 if bare => secret.clone(),
                    0 | 1 => format!("Bearer {secret}"),
                    2 => format!("bearer   {secret}"),
                    _ => format!(" BEARER {secret} "),
                })
            }
            WebhookAuth::HmacSha256 => {
                let mac = hmac_hex(secret, &body);
                Some(match spelling % 4 {
                    0 => mac,
                    1 => format!("sha256={mac}"),
                    2 => mac.to_ascii_uppercase(),
                    _ => format!(" sha256={mac} "),
                })
            }
        };
        if let Some(value) = value {
            headers.insert(0, (cased(&header_name, spelling >> 2), value));
            signed = true;
        }
    }

    let request = Request {
        method: "POST".into(),
        path: "/hooks/fuzz/h".into(),
        query: String::new(),
        headers,
        body,
    };
    let result = check(&hook, secret.as_deref(), &request, max_body);

    let too_large = request.body.len() > max_body;
    if let Err(refusal) = &result {
        assert!(
            [400, 401, 413, 503].contains(&refusal.status),
            "unexpected refusal {refusal}"
        );
        assert_eq!(
            refusal.status == 413,
            too_large,
            "413 if and only if the body is over the limit: {refusal}"
        );
    }
    if too_large {
        assert_eq!(result.as_ref().map_err(|r| r.status), Err(413));
        return;
    }
    if auth == WebhookAuth::None {
        assert!(
            !matches!(&result, Err(r) if r.status == 401 || r.status == 503),
            "an open hook refused {result:?}"
        );
    } else {
        let given = request.header(&header_name);
        match (&secret, given) {
            (None, _) => assert_eq!(result.as_ref().map_err(|r| r.status), Err(503)),
            (Some(_), None) => assert_eq!(result.as_ref().map_err(|r| r.status), Err(401)),
            (Some(secret), Some(given)) => {
                if result.is_ok() {
                    // Accepted: the header carried the right proof (checked
                    // here in another way than the host does).
                    let given = given.trim();
                    match auth {
                        WebhookAuth::Token => {
                            let before = given.strip_suffix(secret.as_str());
                            assert!(
                                before.is_some_and(|b| b.is_empty()
                                    || b.to_ascii_lowercase().starts_with("bearer ")
                                        && b[7..].trim().is_empty()),
                                "token {given:?} accepted for secret {secret:?}"
                            );
                        }
                        WebhookAuth::HmacSha256 => {
                            let hex_text = given.strip_prefix("sha256=").unwrap_or(given);
                            assert!(
                                hex_text.eq_ignore_ascii_case(&hmac_hex(secret, &request.body)),
                                "signature {given:?} accepted for the wrong body or key"
                            );
                        }
                        WebhookAuth::None => unreachable!(),
                    }
                }
            }
        }
    }
    if signed || auth == WebhookAuth::None {
        // Past authentication: only the content decides.
        let is_json = serde_json::from_slice::<Value>(&request.body).is_ok();
        let expected_ok = !json || is_json;
        assert_eq!(
            result.is_ok(),
            expected_ok,
            "json = {json}, body is JSON = {is_json}, got {result:?}"
        );
        if let Err(refusal) = &result {
            assert_eq!(refusal.status, 400, "{refusal}");
        }
    }

    if let Some((status, headers)) = answer {
        let response = GuestAnswer {
            status,
            headers: headers.clone(),
            body: request.body,
        };
        match answer_of(response, "fuzz") {
            Ok(sent) => {
                assert!((200..=599).contains(&sent.status), "status {}", sent.status);
                assert!(http::StatusCode::from_u16(sent.status).is_ok());
                assert!(sent.headers.len() <= headers.len());
                for (name, value) in &sent.headers {
                    assert!(
                        http::HeaderName::from_bytes(name.as_bytes()).is_ok(),
                        "{name:?}"
                    );
                    assert!(http::HeaderValue::from_str(value).is_ok(), "{value:?}");
                    assert!(
                        !FRAMING.iter().any(|f| name.eq_ignore_ascii_case(f)),
                        "framing header {name:?} passed"
                    );
                }
            }
            Err(refusal) => assert_eq!(refusal.status, 500, "{refusal}"),
        }
    }
});
