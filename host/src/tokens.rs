//! API tokens and their roles: who may do what through the admin API of
//! `ferry serve` (and so through the CLI in remote mode).
//!
//! | role | may |
//! | --- | --- |
//! | [`Role::Viewer`] | read: health, jobs and their logs, instances (secrets hidden) |
//! | [`Role::Developer`] | also act on jobs, press buttons, add and remove backend instances; never secrets |
//! | [`Role::Manager`] | also secrets (set, list names, remove) and API tokens |
//!
//! A token is `ferry_` followed by 32 random bytes in base64url, shown once
//! when it is made. Only its SHA-256 is stored: the token is random, so there
//! is nothing to guess from the hash, and a copy of the database does not open
//! the API. Whoever can open the store itself (the local CLI) needs no token:
//! the database is the boundary there.

use crate::audit;
use crate::error::{Error, Result};
use crate::store::{Store, TokenRow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// What every token starts with, so that one found in a log or a repository
/// is recognisable (and secret scanners can match it).
pub const TOKEN_PREFIX: &str = "ferry_";

/// What a token may do; each role may do everything of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Connectors, instances and jobs; no secrets.
    Developer,
    /// Everything, secrets and tokens included.
    Manager,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Developer, Role::Manager];

    /// `viewer`, `developer` or `manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Manager => "manager",
        }
    }

    /// The role named `text`.
    pub fn parse(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "role `{text}`: expected viewer, developer or manager"
                ))
            })
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Role> {
        Role::parse(s)
    }
}

/// Who called: the token presented, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// The token's role.
    pub role: Role,
}

impl Caller {
    /// How the caller is named where actions are recorded: `api:NAME`.
    pub fn actor(&self) -> String {
        crate::audit::api(&self.name)
    }
}

/// A token just made: its one appearance in clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewToken {
    /// Its name and role.
    #[serde(flatten)]
    pub info: TokenRow,
    /// The token itself; it cannot be shown again.
    pub token: String,
}

/// Make a token named `name` with `role`, for `actor` (audited).
pub async fn create(store: &Store, name: &str, role: Role, actor: &str) -> Result<NewToken> {
    check_name(name)?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let info = store
        .insert_token(name, role.as_str(), &hash(&token))
        .await?;
    let mut entry = audit::entry(actor, audit::TOKEN_CREATE, "", name);
    entry.detail = Some(format!("role {role}"));
    audit::record(store, &entry).await?;
    Ok(NewToken { info, token })
}

/// Every token (never the tokens themselves), by name.
pub async fn list(store: &Store) -> Result<Vec<TokenRow>> {
    store.tokens().await
}

/// Revoke token `name`, for `actor` (audited): it stops working at once.
pub async fn revoke(store: &Store, name: &str, actor: &str) -> Result<()> {
    if store.delete_token(name).await? {
        audit::record(store, &audit::entry(actor, audit::TOKEN_REVOKE, "", name)).await?;
        Ok(())
    } else {
        Err(Error::not_found("API token", name))
    }
}

/// The caller presenting `token`; [`Error::Unauthorized`] when it is not a
/// token of this installation (never saying whether the name exists).
pub async fn verify(store: &Store, token: &str) -> Result<Caller> {
    let unknown = || {
        Error::Unauthorized(
            "this API token is not valid here (revoked, mistyped, or of another installation)"
                .into(),
        )
    };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(unknown());
    }
    let row = store
        .token_by_hash(&hash(token))
        .await?
        .ok_or_else(unknown)?;
    Ok(Caller {
        role: Role::parse(&row.role)?,
        name: row.name,
    })
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token name: letters, digits, `-`, `_`, `.`, `@`; 1 to 64 characters.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "token name {name:?}: use 1 to 64 letters, digits, `-`, `_`, `.` or `@`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_weakest_first() {
        assert!(Role::Manager.allows(Role::Developer));
        assert!(Role::Developer.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Developer));
        assert!(!Role::Developer.allows(Role::Manager));
        assert_eq!(Role::parse("developer").unwrap(), Role::Developer);
        assert!(Role::parse("admin").is_err());
    }
}
