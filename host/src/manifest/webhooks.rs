//! `[[webhook]]`: HTTP endpoints an external system calls, answered at once by
//! the module (`POST /hooks/{instance}/{hook}` on `ferry serve`).
//!
//! Every hook says how callers prove who they are; an unauthenticated hook has
//! to say `auth = "none"` in so many words.
//!
//! ```toml
//! [[webhook]]
//! name = "product-changed"
//! auth = "hmac-sha256"            # or "token", or "none"
//! header = "x-shop-signature"     # default: x-ferry-signature (hmac), x-ferry-token (token)
//! secret = "webhook_secret"       # ferry secret set INSTANCE webhook_secret (sealed at rest)
//! content = "json"                # or "bytes"
//! ```
//!
//! `secret_param = "NAME"` (a param of the backend instance) is still read, for
//! manifests written before secrets existed; a sealed `secret` is better: a
//! param is stored in the clear and visible to the module.

use super::{ParamDecl, valid_name};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Header of the token when the manifest names none.
pub const DEFAULT_TOKEN_HEADER: &str = "x-ferry-token";
/// Header of the HMAC signature when the manifest names none.
pub const DEFAULT_SIGNATURE_HEADER: &str = "x-ferry-signature";

/// How a caller of a webhook proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookAuth {
    /// Anyone may call it (said explicitly; never the default).
    None,
    /// The secret itself in a header (`Bearer ` allowed before it).
    Token,
    /// The hex HMAC-SHA256 of the body with the secret as key in a header
    /// (`sha256=` allowed before it, as GitHub sends it).
    HmacSha256,
}

/// What the body of a call must be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookContent {
    /// A JSON document: anything else is refused with 400 before the module runs.
    #[default]
    Json,
    /// Any bytes.
    Bytes,
}

/// `[[webhook]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookDecl {
    /// Name in the URL: `/hooks/{instance}/{name}`.
    pub name: String,
    /// How callers authenticate (required).
    pub auth: WebhookAuth,
    /// Header carrying the token or signature.
    #[serde(default)]
    pub header: Option<String>,
    /// Secret of the backend instance (`ferry secret set`) the callers prove
    /// they know (for `token` and `hmac-sha256`).
    #[serde(default)]
    pub secret: Option<String>,
    /// Param of the backend instance holding the secret instead (older
    /// manifests; stored in the clear).
    #[serde(default)]
    pub secret_param: Option<String>,
    /// What the body must be; default `json`.
    #[serde(default)]
    pub content: WebhookContent,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

impl WebhookDecl {
    /// The header that carries the token or signature (lower case).
    pub fn header_name(&self) -> String {
        match (&self.header, self.auth) {
            (Some(h), _) => h.to_ascii_lowercase(),
            (None, WebhookAuth::HmacSha256) => DEFAULT_SIGNATURE_HEADER.into(),
            (None, _) => DEFAULT_TOKEN_HEADER.into(),
        }
    }
}

/// A valid HTTP header name (RFC 9110 token).
fn valid_header(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Check the `[[webhook]]` entries against each other and the `[params]`.
pub(super) fn check(
    hooks: &[WebhookDecl],
    params: &BTreeMap<String, ParamDecl>,
) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, hook) in hooks.iter().enumerate() {
        let at = format!("[[webhook]] #{}", i + 1);
        if !valid_name(&hook.name) {
            return Err(format!(
                "{at} name = {:?}: use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                hook.name
            ));
        }
        if !seen.insert(hook.name.as_str()) {
            return Err(format!(
                "{at} name = {:?}: another [[webhook]] has this name",
                hook.name
            ));
        }
        let at = format!("{at} ({})", hook.name);
        if let Some(header) = &hook.header
            && !valid_header(header)
        {
            return Err(format!("{at} header = {header:?}: not an HTTP header name"));
        }
        check_secret(hook, params).map_err(|e| format!("{at}{e}"))?;
    }
    Ok(())
}

/// A hook's secret: none for `auth = "none"`, exactly one of `secret` and
/// `secret_param` otherwise. The error follows the hook's position.
fn check_secret(hook: &WebhookDecl, params: &BTreeMap<String, ParamDecl>) -> Result<(), String> {
    match (hook.auth, &hook.secret, &hook.secret_param) {
        (WebhookAuth::None, Some(_), _) | (WebhookAuth::None, _, Some(_)) => Err(
            ": a hook with auth = \"none\" has no secret (choose auth = \"token\" or \"hmac-sha256\", or drop secret / secret_param)".into(),
        ),
        (WebhookAuth::None, None, None) if hook.header.is_some() => {
            Err(" header: a hook with auth = \"none\" reads no header".into())
        }
        (WebhookAuth::None, None, None) => Ok(()),
        (_, None, None) => Err(
            ": secret is required with auth = \"token\" or \"hmac-sha256\" (the name of a secret of the backend instance, set with `ferry secret set INSTANCE NAME`)".into(),
        ),
        (_, Some(_), Some(_)) => {
            Err(": give secret or secret_param, not both".into())
        }
        (_, Some(name), None) => {
            crate::secrets::check_name(name).map_err(|e| format!(" secret: {e}"))
        }
        (_, None, Some(p)) => match params.get(p) {
            None => Err(format!(
                " secret_param = {p:?}: no [params.{p}] in this manifest"
            )),
            Some(decl) if decl.default.as_deref().is_some_and(|d| !d.is_empty()) => Err(format!(
                " secret_param = {p:?}: [params.{p}] has a default, which every instance would share: a secret must be set per instance"
            )),
            Some(_) => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::{Manifest, WebhookAuth, WebhookContent};

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
        let err =
            parse("[[webhook]]\nname = \"ping\"\nauth = \"token\"\nsecret_param = \"nope\"\n")
                .unwrap_err();
        assert!(
            err.contains("secret_param = \"nope\"") && err.contains("no [params.nope]"),
            "{err}"
        );
        let err = parse(
            "[[webhook]]\nname = \"ping\"\nauth = \"none\"\nsecret_param = \"webhook_secret\"\n",
        )
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
        let err =
            parse("[[webhook]]\nname = \"a\"\nauth = \"none\"\ncontent = \"xml\"\n").unwrap_err();
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
        let err =
            parse("[[webhook]]\nname = \"a\"\nauth = \"token\"\nsecret = \"a b\"\n").unwrap_err();
        assert!(err.contains("(a) secret: secret name"), "{err}");
        let err =
            parse("[[webhook]]\nname = \"a\"\nauth = \"none\"\nsecret = \"k\"\n").unwrap_err();
        assert!(err.contains("has no secret"), "{err}");
    }
}
