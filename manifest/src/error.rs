//! Typed errors of manifests and of the registry. The host turns each into
//! its own error of the same name and text.

use std::path::PathBuf;

/// What can go wrong reading a manifest or building the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A `connector.toml` could not be read or is invalid.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },

    /// No module answers a lookup along a backend chain.
    #[error("no module of backend chain {chain} implements {what}")]
    NotFoundInChain {
        /// What was looked up (e.g. `importer unit for model product`).
        what: String,
        /// The chain searched, e.g. `shop@2.0 → shop@1.7 → shop`.
        chain: String,
    },

    /// A name, key or set of modules that cannot be used as given.
    #[error("{0}")]
    Invalid(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
