//! Tests of `[[webhook]]`, read as part of a whole manifest.

use crate::manifest::Manifest;
use crate::webhooks::{WebhookAuth, WebhookContent};

const BASE: &str = r#"
[module]
name = "shop"
version = "1.0.0"

[[backend]]
name = "shop"

[params.webhook_secret]
description = "secret"
"#;

fn parse(hooks: &str) -> Result<Manifest, String> {
    Manifest::parse(&format!("{BASE}\n{hooks}"))
}

#[test]
fn parses_hooks_with_their_defaults() {
    let m = parse(
        r#"
[[webhook]]
name = "product-changed"
auth = "hmac-sha256"
secret = "webhook_key"

[[webhook]]
name = "ping"
auth = "token"
header = "X-Shop-Token"
secret_param = "webhook_secret"
content = "bytes"

[[webhook]]
name = "open"
auth = "none"
"#,
    )
    .unwrap();
    let [signed, token, open] = &m.webhooks[..] else {
        panic!("three hooks expected: {:?}", m.webhooks)
    };
    assert_eq!(signed.auth, WebhookAuth::HmacSha256);
    assert_eq!(signed.secret.as_deref(), Some("webhook_key"));
    assert_eq!(signed.content, WebhookContent::Json);
    assert_eq!(signed.header_name(), "x-ferry-signature");
    assert_eq!(token.header_name(), "x-shop-token");
    assert_eq!(token.content, WebhookContent::Bytes);
    assert_eq!(open.auth, WebhookAuth::None);
}

#[test]
fn a_hook_must_say_how_callers_authenticate() {
    let err = parse("[[webhook]]\nname = \"ping\"\n").unwrap_err();
    assert!(err.contains("missing field `auth`"), "{err}");
    let err = parse("[[webhook]]\nname = \"ping\"\nauth = \"basic\"\n").unwrap_err();
    assert!(
        err.contains("basic") && err.contains("hmac-sha256"),
        "{err}"
    );
    let err = parse("[[webhook]]\nname = \"ping\"\nauth = \"token\"\n").unwrap_err();
    assert!(
        err.contains("[[webhook]] #1 (ping)") && err.contains("secret is required"),
        "{err}"
    );
}

#[test]
fn errors_name_the_hook_the_key_and_the_reason() {
    let err = parse("[[webhook]]\nname = \"ping\"\nauth = \"token\"\nsecret_param = \"nope\"\n")
        .unwrap_err();
    assert!(
        err.contains("secret_param = \"nope\"") && err.contains("no [params.nope]"),
        "{err}"
    );
    let err =
        parse("[[webhook]]\nname = \"ping\"\nauth = \"none\"\nsecret_param = \"webhook_secret\"\n")
            .unwrap_err();
    assert!(err.contains("auth = \"none\" has no secret"), "{err}");
    let err = parse("[[webhook]]\nname = \"a b\"\nauth = \"none\"\n").unwrap_err();
    assert!(err.contains("[[webhook]] #1 name = \"a b\""), "{err}");
    let err = parse(
        "[[webhook]]\nname = \"a\"\nauth = \"none\"\n[[webhook]]\nname = \"a\"\nauth = \"none\"\n",
    )
    .unwrap_err();
    assert!(
        err.contains("#2") && err.contains("another [[webhook]]"),
        "{err}"
    );
    let err = parse(
        "[[webhook]]\nname = \"a\"\nauth = \"token\"\nheader = \"bad header\"\nsecret_param = \"webhook_secret\"\n",
    )
    .unwrap_err();
    assert!(err.contains("not an HTTP header name"), "{err}");
    let err = parse("[[webhook]]\nname = \"a\"\nauth = \"none\"\ncontent = \"xml\"\n").unwrap_err();
    assert!(err.contains("xml"), "{err}");
}

#[test]
fn a_secret_cannot_have_a_shared_default() {
    let m = BASE.replace("description = \"secret\"", "default = \"s3cret\"");
    let err = Manifest::parse(&format!(
        "{m}\n[[webhook]]\nname = \"a\"\nauth = \"hmac-sha256\"\nsecret_param = \"webhook_secret\"\n"
    ))
    .unwrap_err();
    assert!(err.contains("has a default"), "{err}");
}

#[test]
fn a_hook_names_one_sealed_secret_or_one_param() {
    let err = parse(
        "[[webhook]]\nname = \"a\"\nauth = \"token\"\nsecret = \"k\"\nsecret_param = \"webhook_secret\"\n",
    )
    .unwrap_err();
    assert!(err.contains("not both"), "{err}");
    let err = parse("[[webhook]]\nname = \"a\"\nauth = \"token\"\nsecret = \"a b\"\n").unwrap_err();
    assert!(err.contains("(a) secret: secret name"), "{err}");
    let err = parse("[[webhook]]\nname = \"a\"\nauth = \"none\"\nsecret = \"k\"\n").unwrap_err();
    assert!(err.contains("has no secret"), "{err}");
}
