//! Tests of the checks of a webhook call: order, authentication, JSON.

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
