//! The `meta` and `blobs` stores a module may reach
//! (`[capabilities.meta]`, `[capabilities.blobs]`), and the keys they take.
//!
//! Deny by default: a module without the table reaches nothing of the store,
//! and one with it reaches only keys under its `prefixes`, reading only
//! unless it says `write = true`:
//!
//! ```toml
//! [capabilities.meta]
//! prefixes = ["orders/", "customers/"]
//! write = true
//!
//! [capabilities.blobs]
//! prefixes = ["invoices/"]
//! ```
//!
//! Keys are text of 1 to [`MAX_KEY_BYTES`] bytes without control characters.
//! Blob keys are also paths, since a `disk` store keeps each blob as a file
//! of that relative path: `/`-separated segments, none empty, `.` or `..`,
//! no `\`, so that no key can name a file outside the store's directory.

use serde::{Deserialize, Serialize};

/// Longest key of either store, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// `[capabilities.meta]` or `[capabilities.blobs]`: the keys a module reaches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreGrant {
    /// Key prefixes the module may reach (`""` reaches every key of the
    /// instance's store).
    pub prefixes: Vec<String>,
    /// Whether it may also write and delete (read-only by default).
    #[serde(default)]
    pub write: bool,
}

/// Which store a key is of: their key rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Key-value entries.
    Meta,
    /// Object data, keyed by relative paths.
    Blobs,
}

impl StoreKind {
    /// The store's name, as in the manifest and `ferry store`.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Meta => "meta",
            StoreKind::Blobs => "blobs",
        }
    }
}

impl StoreGrant {
    /// Check the grant at install: each prefix is a valid key start.
    pub fn check(&self, kind: StoreKind) -> Result<(), String> {
        if self.prefixes.is_empty() {
            return Err(format!(
                "[capabilities.{}] prefixes: list the key prefixes the module reaches \
                 (`\"\"` for every key)",
                kind.name()
            ));
        }
        for (i, prefix) in self.prefixes.iter().enumerate() {
            check_prefix(kind, prefix).map_err(|e| {
                format!(
                    "[capabilities.{}] prefixes[{i}] = {prefix:?}: {e}",
                    kind.name()
                )
            })?;
        }
        Ok(())
    }

    /// Whether `key` is under one of the prefixes.
    pub fn covers(&self, key: &str) -> bool {
        self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }
}

/// Check a key of store `kind`: why it is not one, if it is not.
pub fn check_key(kind: StoreKind, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a key is 1 byte or more".into());
    }
    check_prefix(kind, key)?;
    if kind == StoreKind::Blobs && key.ends_with('/') {
        return Err(format!("blob key {key:?} ends with `/`: name the blob"));
    }
    Ok(())
}

/// Check the start of a key (a grant's prefix, a listing's prefix): what
/// [`check_key`] checks, except that it may be empty and, for blobs, end with
/// `/` or in the middle of a segment.
pub fn check_prefix(kind: StoreKind, prefix: &str) -> Result<(), String> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(format!("{} bytes, at most {MAX_KEY_BYTES}", prefix.len()));
    }
    if prefix.chars().any(char::is_control) {
        return Err(format!("{prefix:?} holds a control character"));
    }
    if kind == StoreKind::Meta || prefix.is_empty() {
        return Ok(());
    }
    if prefix.starts_with('/') {
        return Err(format!(
            "blob key {prefix:?} starts with `/`: keys are relative paths"
        ));
    }
    if prefix.contains('\\') {
        return Err(format!(
            "blob key {prefix:?} holds `\\`: separate segments with `/`"
        ));
    }
    let segments: Vec<&str> = prefix.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        // The last segment of a prefix may be cut short (`orders/10` covers
        // `orders/1042`), or empty after a `/`.
        let cut = i == last;
        if (segment.is_empty() && !cut) || *segment == ".." || (*segment == "." && !cut) {
            return Err(format!(
                "blob key {prefix:?} has an empty, `.` or `..` segment: keys are paths \
                 inside the store's directory"
            ));
        }
    }
    if segments[last] == "." {
        return Err(format!("blob key {prefix:?} ends with a `.` segment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_keys_cannot_leave_the_store() {
        for bad in [
            "../etc/passwd",
            "a/../../b",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "a\\..\\b",
            "a\0b",
            "",
            "dir/",
            ".",
            "a/..",
        ] {
            assert!(check_key(StoreKind::Blobs, bad).is_err(), "{bad:?}");
        }
        for good in ["a", "orders/1042/invoice.pdf", "x..y", ".hidden", "a/b.c"] {
            assert!(check_key(StoreKind::Blobs, good).is_ok(), "{good:?}");
        }
        assert!(check_prefix(StoreKind::Blobs, "orders/").is_ok());
        assert!(check_prefix(StoreKind::Blobs, "orders/10").is_ok());
        assert!(check_prefix(StoreKind::Blobs, "").is_ok());
        assert!(check_prefix(StoreKind::Blobs, "../").is_err());
    }

    #[test]
    fn meta_keys_are_any_text_without_control_characters() {
        assert!(check_key(StoreKind::Meta, "orders/../x").is_ok());
        assert!(check_key(StoreKind::Meta, "a\nb").is_err());
        assert!(check_key(StoreKind::Meta, "").is_err());
        assert!(check_key(StoreKind::Meta, &"k".repeat(MAX_KEY_BYTES + 1)).is_err());
    }

    #[test]
    fn grants_cover_keys_under_their_prefixes() {
        let grant = StoreGrant {
            prefixes: vec!["orders/".into()],
            write: false,
        };
        assert!(grant.covers("orders/1"));
        assert!(!grant.covers("order"));
        assert!(!grant.covers("customers/1"));
        assert!(grant.check(StoreKind::Blobs).is_ok());
        assert!(StoreGrant::default().check(StoreKind::Meta).is_err());
    }
}
