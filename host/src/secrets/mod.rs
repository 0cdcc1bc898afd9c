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

mod sealed;
mod vault;

pub use sealed::{
    KEY_FILE, MASTER_KEY_ENV, MIN_VALUE_BYTES, MasterKey, check_name, key_file, list, master_key,
    redact, remove, set,
};
pub(crate) use sealed::{open_all, open_one};
pub(crate) use vault::Vault;
