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

use crate::names::{check_secret_name, valid_name};
use crate::params::ParamDecl;
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
pub(crate) fn check(
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
            check_secret_name(name).map_err(|e| format!(" secret: {e}"))
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
mod tests;
