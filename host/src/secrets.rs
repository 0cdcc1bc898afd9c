//! Secrets of backend instances: sealed at rest with XChaCha20-Poly1305 under
//! a master key, opened only by the host, in a run's `Vault`: to add a sealed
//! credential to an outbound request ([`crate::capabilities::http`]), or to reveal a
//! value to a guest whose manifest lists it in `[capabilities] reveal`
//! ([`crate::capabilities::secrets`]). A value is never printed by the CLI or the API;
//! every change and every reveal is in the audit log ([`crate::audit`]).
//!
//! The master key is `FERRY_MASTER_KEY` (32 bytes, hex or base64) or, when that
//! is not set, the file `secret.key` of the data directory, created on first
//! use with mode 0600. Each value is sealed with a random 24-byte nonce and
//! bound to its instance and name (associated data), so a row copied to
//! another instance or name does not open.

mod vault;

pub(crate) use vault::Vault;

use crate::audit;
use crate::error::{Error, Result};
use crate::store::Store;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "FERRY_MASTER_KEY";

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// The master key that seals every secret.
#[derive(Clone)]
pub struct MasterKey(Key);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// The key from `FERRY_MASTER_KEY`, else from `key_file` (created with a
    /// fresh random key, mode 0600, when missing).
    pub fn load(key_file: &Path) -> Result<MasterKey> {
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            return Self::parse(&text)
                .map_err(|e| Error::Invalid(format!("{MASTER_KEY_ENV}: {e}")));
        }
        match std::fs::read_to_string(key_file) {
            Ok(text) => Self::parse(&text)
                .map_err(|e| Error::Invalid(format!("{}: {e}", key_file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(key_file),
            Err(e) => Err(Error::io(key_file, e)),
        }
    }

    /// A key written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> std::result::Result<MasterKey, String> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| BASE64.decode(text).ok())
            .ok_or("the master key must be 32 bytes in hex or base64")?;
        if bytes.len() != 32 {
            return Err(format!(
                "the master key must be 32 bytes, not {}",
                bytes.len()
            ));
        }
        Ok(MasterKey(*Key::from_slice(&bytes)))
    }

    fn create(key_file: &Path) -> Result<MasterKey> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(key_file)
            .and_then(|mut file| std::io::Write::write_all(&mut file, hex::encode(key).as_bytes()));
        match written {
            Ok(()) => Ok(MasterKey(key)),
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(key_file),
            Err(e) => Err(Error::io(key_file, e)),
        }
    }

    /// Seal `value` of secret `name` of `instance`: base64 of nonce || ciphertext.
    pub fn seal(&self, instance: &str, name: &str, value: &str) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated(instance, name);
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Invalid(format!("secret `{name}` could not be sealed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(BASE64.encode(out))
    }

    /// Open what [`MasterKey::seal`] sealed for this instance and name.
    pub fn open(&self, instance: &str, name: &str, sealed: &str) -> Result<String> {
        let broken = || {
            Error::Invalid(format!(
                "secret `{name}` of backend instance `{instance}` does not open with this \
                 master key (wrong {MASTER_KEY_ENV} or key file, or a tampered row)"
            ))
        };
        let bytes = BASE64.decode(sealed).map_err(|_| broken())?;
        if bytes.len() < 24 {
            return Err(broken());
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let aad = associated(instance, name);
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

fn associated(instance: &str, name: &str) -> Vec<u8> {
    format!("ferry-secret\0{instance}\0{name}").into_bytes()
}

/// Where the key file of a data directory is.
pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// A secret name: letters, digits, `-`, `_`, `.`; 1 to 64 characters.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "secret name {name:?}: use 1 to 64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// The shortest value a secret may have: a shorter one could not be
/// redacted ([`redact`] leaves it, or it would blank out ordinary text).
pub const MIN_VALUE_BYTES: usize = 4;

/// Set (or replace) secret `name` of backend instance `instance`, on behalf
/// of `actor` (see [`crate::audit`]), which the audit log records.
pub async fn set(
    store: &Store,
    key: &MasterKey,
    instance: &str,
    name: &str,
    value: &str,
    actor: &str,
) -> Result<()> {
    check_name(name)?;
    if value.is_empty() {
        return Err(Error::Invalid(format!(
            "secret `{name}`: the value is empty"
        )));
    }
    if value.len() < MIN_VALUE_BYTES {
        return Err(Error::Invalid(format!(
            "secret `{name}`: the value is {} byte(s) long; it must be at least \
             {MIN_VALUE_BYTES} bytes, or it could not be redacted from logs and errors",
            value.len()
        )));
    }
    store.instance(instance).await?;
    let entry = audit::entry(actor, audit::SET, instance, name);
    store
        .put_secret(instance, name, &key.seal(instance, name, value)?, &entry)
        .await
}

/// Names of the secrets of `instance` (or of all instances), as `(instance, name)`.
pub async fn list(store: &Store, instance: Option<&str>) -> Result<Vec<(String, String)>> {
    store.secret_names(instance).await
}

/// Remove secret `name` of `instance`, on behalf of `actor`, which the audit
/// log records.
pub async fn remove(store: &Store, instance: &str, name: &str, actor: &str) -> Result<()> {
    let entry = audit::entry(actor, audit::REMOVE, instance, name);
    if store.delete_secret(instance, name, &entry).await? {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "secret",
            name: format!("{instance}/{name}"),
            hint: String::new(),
        })
    }
}

/// The master key of an installation: from `key_file` when it has one, else
/// from `FERRY_MASTER_KEY` only.
pub fn master_key(key_file: Option<&Path>) -> Result<MasterKey> {
    match key_file {
        Some(file) => MasterKey::load(file),
        None => MasterKey::parse(&std::env::var(MASTER_KEY_ENV).unwrap_or_default())
            .map_err(|e| Error::Invalid(format!("{MASTER_KEY_ENV}: {e}"))),
    }
}

/// Secret `name` of `instance`, opened (none when it is not set): for the
/// host's own use only, e.g. checking a webhook's signature.
pub(crate) async fn open_one(
    store: &Store,
    key_file: Option<&Path>,
    instance: &str,
    name: &str,
) -> Result<Option<String>> {
    let sealed = store.sealed_secrets(instance).await?;
    let Some((_, sealed)) = sealed.into_iter().find(|(n, _)| n == name) else {
        return Ok(None);
    };
    master_key(key_file)?
        .open(instance, name, &sealed)
        .map(Some)
}

/// Every secret of `instance`, opened: for the host's own use only.
pub(crate) async fn open_all(
    store: &Store,
    key: &MasterKey,
    instance: &str,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, sealed) in store.sealed_secrets(instance).await? {
        let value = key.open(instance, &name, &sealed)?;
        out.insert(name, value);
    }
    Ok(out)
}

/// `text` with every occurrence of one of `values` replaced by `***`, as is
/// and as it is written inside a JSON string (quotes, backslashes and control
/// characters escaped), since guests often log and fail with JSON.
pub fn redact<'a>(text: &str, values: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = text.to_string();
    for value in values {
        // A very short value would blank out ordinary text: sealing it is
        // still enforced, only its redaction is skipped (`set` refuses such
        // values; older ones may remain).
        if value.len() < MIN_VALUE_BYTES {
            continue;
        }
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), "***");
        }
        let quoted = serde_json::Value::from(value.as_str()).to_string();
        let escaped = &quoted[1..quoted.len() - 1];
        if escaped != value && out.contains(escaped) {
            out = out.replace(escaped, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_instance_and_name() {
        let key = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("acme", "token", "s3cret-value").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key.open("acme", "token", &sealed).unwrap(), "s3cret-value");
        assert!(key.open("other", "token", &sealed).is_err());
        assert!(key.open("acme", "other", &sealed).is_err());
        let wrong = MasterKey::parse(&BASE64.encode([7u8; 32])).unwrap();
        assert!(wrong.open("acme", "token", &sealed).is_err());
        assert!(MasterKey::parse("abcd").is_err());
    }

    #[test]
    fn values_are_redacted_as_is_and_inside_json_strings() {
        let values = ["s3cr\"et\\x".to_string(), "abc".to_string()];
        let json = serde_json::json!({ "key": values[0], "short": "abc" }).to_string();
        let out = redact(&format!("raw {} json {json}", values[0]), values.iter());
        assert_eq!(out, r#"raw *** json {"key":"***","short":"abc"}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&out[13..]).is_ok());
    }
}
