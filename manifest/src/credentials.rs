//! `[[capabilities.credential]]`: sealed credentials. The manifest binds a
//! secret of the instance to the hosts it may be sent to and to a way of
//! presenting it; the host adds it to a request the guest marks with the
//! credential's name (in its outbound HTTP), so the value never enters the guest.
//!
//! ```toml
//! [[capabilities.credential]]
//! name = "shop-token"               # what the guest asks for
//! secret = "token"                  # ferry secret set INSTANCE token
//! hosts = ["GET {{ params.url }}"]  # entries like allowed_hosts'
//! present = "bearer"                # or "basic" with user = "…", or header = "X-Api-Key", or query = "api_key"
//! ```

use crate::host_rules::{HostRule, render};
use crate::names::check_secret_name;
use crate::params::ParamDecl;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[[capabilities.credential]]`: a secret of the instance that the host
/// presents on the guest's behalf, only toward `hosts`; the guest names it
/// (`Request::credential`) and never sees its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CredentialDecl {
    /// The name the guest asks for.
    pub name: String,
    /// The instance's secret holding the value (`ferry secret set INSTANCE SECRET`).
    pub secret: String,
    /// Where it may be sent: entries like `allowed_hosts`'.
    pub hosts: Vec<String>,
    /// `bearer` (`Authorization: Bearer VALUE`) or `basic` (with `user`).
    #[serde(default)]
    pub present: Option<String>,
    /// The user name of `basic` (may be a `{{ params.NAME }}` template).
    #[serde(default)]
    pub user: Option<String>,
    /// Present the value as this request header.
    #[serde(default)]
    pub header: Option<String>,
    /// Present the value as this query parameter.
    #[serde(default)]
    pub query: Option<String>,
}

/// How a credential's value is added to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presentation {
    /// `Authorization: Bearer VALUE`.
    Bearer,
    /// `Authorization: Basic base64(USER:VALUE)`.
    Basic {
        /// The user name.
        user: String,
    },
    /// `NAME: VALUE`.
    Header(String),
    /// `?NAME=VALUE` appended to the query.
    Query(String),
}

/// A credential of a run: its host rules filled in from the instance's params.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The name the guest asks for.
    pub name: String,
    /// The secret holding the value.
    pub secret: String,
    /// Where it may be sent.
    pub rules: Vec<HostRule>,
    /// How it is presented.
    pub presentation: Presentation,
}

impl CredentialDecl {
    /// Check it at install: names, one way to present it, host entries.
    pub(crate) fn check(&self, params: &BTreeMap<String, ParamDecl>) -> Result<(), String> {
        check_secret_name(&self.name)
            .and_then(|()| check_secret_name(&self.secret))
            .map_err(|e| e.to_string())?;
        self.presentation(|name| params.contains_key(name).then(|| "x".to_string()))?;
        if self.hosts.is_empty() {
            return Err("`hosts` must name at least one host".into());
        }
        for entry in &self.hosts {
            render(entry, |name| {
                params
                    .contains_key(name)
                    .then(|| "http://template.invalid".to_string())
            })
            .and_then(|text| HostRule::parse(&text))
            .map_err(|e| format!("hosts entry {entry:?}: {e}"))?;
        }
        Ok(())
    }

    /// How it is presented, with `user` filled in by `lookup`.
    pub(crate) fn presentation(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Presentation, String> {
        let ways = [
            self.present.is_some(),
            self.header.is_some(),
            self.query.is_some(),
        ];
        if ways.iter().filter(|w| **w).count() != 1 {
            return Err("give exactly one of `present`, `header` or `query`".into());
        }
        if self.user.is_some() && self.present.as_deref() != Some("basic") {
            return Err("`user` goes only with `present = \"basic\"`".into());
        }
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        Ok(match (&self.present, &self.header, &self.query) {
            (Some(p), _, _) if p == "bearer" => Presentation::Bearer,
            (Some(p), _, _) if p == "basic" => Presentation::Basic {
                user: render(
                    self.user
                        .as_deref()
                        .ok_or("`present = \"basic\"` needs `user`")?,
                    lookup,
                )?,
            },
            (Some(p), _, _) => {
                return Err(format!("present = {p:?}: use `bearer` or `basic`"));
            }
            (_, Some(h), _) if token(h) => {
                let lower = h.to_ascii_lowercase();
                if [
                    "host",
                    "ferry-credential",
                    "content-length",
                    "transfer-encoding",
                ]
                .contains(&lower.as_str())
                {
                    return Err(format!(
                        "header = {h:?}: this header cannot carry a credential"
                    ));
                }
                Presentation::Header(lower)
            }
            (_, _, Some(q)) if token(q) => Presentation::Query(q.clone()),
            _ => {
                return Err(
                    "`header` and `query` take a name of letters, digits, `-`, `_`, `.`".into(),
                );
            }
        })
    }
}

#[cfg(test)]
mod tests;
