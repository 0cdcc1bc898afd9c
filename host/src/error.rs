//! Typed errors of the Ferry library.

use std::path::PathBuf;

/// Everything that can go wrong in Ferry, with messages a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `connector.toml` could not be read or is invalid.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },

    /// The operator's `ferry.toml` is invalid.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },

    /// A file that should be a component is not one.
    #[error("{path}: not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },

    /// A component that does not implement the connector world.
    #[error(
        "{path}: this component does not implement the Ferry connector world `ferry:connector/connector@0.1.0`: {reason}"
    )]
    WrongWorld {
        /// The file.
        path: PathBuf,
        /// What is missing or mismatched.
        reason: String,
    },

    /// Manifest and component disagree.
    #[error("{path}: the manifest does not match the component: {reason}")]
    Mismatch {
        /// The manifest file.
        path: PathBuf,
        /// Which declaration has no counterpart.
        reason: String,
    },

    /// No module answers a lookup along a backend chain.
    #[error("no module of backend chain {chain} implements {what}")]
    NotFoundInChain {
        /// What was looked up (e.g. `importer unit for model product`).
        what: String,
        /// The chain searched, e.g. `shop@2.0 → shop@1.7 → shop`.
        chain: String,
    },

    /// A named thing does not exist.
    #[error("{kind} `{name}` not found{hint}")]
    NotFound {
        /// What kind of thing (backend instance, module, job, record…).
        kind: &'static str,
        /// Its name or id.
        name: String,
        /// Extra help, starting with a separator, or empty.
        hint: String,
    },

    /// A request that cannot be carried out as given.
    #[error("{0}")]
    Invalid(String),

    /// A request that the current state of what it names does not allow (a
    /// job that is not in a state the operation applies to).
    #[error("{0}")]
    Conflict(String),

    /// No valid API token was presented.
    #[error("{0}")]
    Unauthorized(String),

    /// The API token presented does not have the role an operation needs.
    #[error("{0}")]
    Forbidden(String),

    /// A Ferry server (the admin API) refused a request or could not be reached.
    #[error("{url}: {message}")]
    Remote {
        /// The URL called.
        url: String,
        /// The HTTP status of the answer; none when there was no answer.
        status: Option<u16>,
        /// What the server said, or why there was no answer.
        message: String,
    },

    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// The database could not be reached (URL without its password, and why).
    #[error("cannot connect to the database {0}")]
    Connect(String),

    /// A database migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// The WebAssembly runtime failed (compiling, instantiating, calling).
    #[error("{0:#}")]
    Runtime(#[from] wasmtime::Error),

    /// Stored JSON could not be read.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// A [`Error::NotFound`] without hint.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            name: name.into(),
            hint: String::new(),
        }
    }

    /// An I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with Ferry's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
