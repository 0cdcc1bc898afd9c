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
        "{path}: this component does not implement the Ferry connector world `ferry:connector/connector@0.1.x`: {reason}"
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

/// The manifest crate's errors are the host's of the same name and text.
impl From<ferry_manifest::Error> for Error {
    fn from(e: ferry_manifest::Error) -> Self {
        use ferry_manifest::Error as M;
        match e {
            M::Manifest { path, message } => Error::Manifest { path, message },
            M::NotFoundInChain { what, chain } => Error::NotFoundInChain { what, chain },
            M::Invalid(message) => Error::Invalid(message),
        }
    }
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

    /// Whether the same request may succeed later: the database or a file
    /// was unreachable, busy or short of resources. What the database refused
    /// because of the request itself (bad SQL, a constraint, a value it cannot
    /// take, a program limit such as too many variables) fails again on every
    /// try, so it is not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Database(e) => sql_is_transient(e),
            Error::Connect(_) | Error::Io { .. } => true,
            _ => false,
        }
    }
}

/// Whether a sqlx error is the database's passing state rather than the
/// statement's fault (see [`Error::is_transient`]).
pub(crate) fn sql_is_transient(e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    use sqlx::error::DatabaseError as _;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        E::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                sqlstate_is_transient(pg.code())
            } else if let Some(lite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                lite.code()
                    .and_then(|c| c.parse().ok())
                    .is_some_and(sqlite_code_is_transient)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs of a server or connection in trouble, not of the statement.
fn sqlstate_is_transient(code: &str) -> bool {
    let class = code.get(..2).unwrap_or_default();
    // 08 connection exception, 40 transaction rollback (serialization
    // failure, deadlock), 53 insufficient resources, 58 system error.
    matches!(class, "08" | "40" | "53" | "58")
        // admin shutdown, crash shutdown, cannot connect now, idle session
        // timeout (not 57P04 database dropped, nor 57014 query canceled:
        // Ferry cancels a guest's query when its time budget ends).
        || matches!(code, "57P01" | "57P02" | "57P03" | "57P05")
        // lock not available (a lock timeout)
        || code == "55P03"
}

/// SQLite (extended) result codes of a database busy or short of resources.
fn sqlite_code_is_transient(code: i32) -> bool {
    // READONLY_RECOVERY, READONLY_CANTLOCK: WAL recovery in another process.
    if matches!(code, 264 | 520) {
        return true;
    }
    // BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL (a WAL race).
    matches!(code & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15)
}

/// `Result` with Ferry's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, Executor};

    #[test]
    fn transient_sqlstates_are_those_of_the_server_not_the_statement() {
        for code in [
            "08006", "08001", "40001", "40P01", "53100", "53300", "57P01", "57P02", "57P03",
            "58030", "55P03",
        ] {
            assert!(sqlstate_is_transient(code), "{code}");
        }
        // syntax, undefined column, unique violation, character not in
        // repertoire, invalid escape, numeric out of range, program limit,
        // query canceled (a guest's time budget), database dropped.
        for code in [
            "42601", "42703", "23505", "22021", "22025", "22003", "54000", "54023", "57014",
            "57P04", "XX000",
        ] {
            assert!(!sqlstate_is_transient(code), "{code}");
        }
    }

    #[test]
    fn transient_sqlite_codes_are_those_of_a_busy_database() {
        // BUSY, BUSY_SNAPSHOT, LOCKED, IOERR_WRITE, FULL, CANTOPEN, READONLY_RECOVERY
        for code in [5, 517, 6, 778, 13, 14, 264] {
            assert!(sqlite_code_is_transient(code), "{code}");
        }
        // ERROR (syntax, too many variables), INTERRUPT, CONSTRAINT_UNIQUE,
        // TOOBIG, MISMATCH, RANGE, READONLY
        for code in [1, 9, 2067, 18, 20, 25, 8] {
            assert!(!sqlite_code_is_transient(code), "{code}");
        }
    }

    #[tokio::test]
    async fn errors_of_a_real_database_are_classified() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let mut a = sqlx::SqliteConnection::connect(&url).await.unwrap();
        a.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        let classify = |e: sqlx::Error| Error::Database(e).is_transient();

        let syntax = a.execute("SELEC 1").await.unwrap_err();
        assert!(!classify(syntax));
        let many = vec!["?"; 40_000].join(",");
        let sql = format!("SELECT x FROM t WHERE x IN ({many})");
        let mut q = sqlx::query(&sql);
        for i in 0..40_000 {
            q = q.bind(i);
        }
        let too_many = q.execute(&mut a).await.unwrap_err();
        assert!(
            too_many.to_string().contains("too many SQL variables"),
            "{too_many}"
        );
        assert!(!classify(too_many));
        a.execute("INSERT INTO t VALUES (1)").await.unwrap();
        let unique = a.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
        assert!(!classify(unique));

        // Another connection holds the write lock: busy, worth a retry.
        let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .busy_timeout(std::time::Duration::ZERO);
        let mut b = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        a.execute("BEGIN EXCLUSIVE").await.unwrap();
        let busy = b.execute("INSERT INTO t VALUES (2)").await.unwrap_err();
        assert!(classify(busy));
        a.execute("ROLLBACK").await.unwrap();

        assert!(classify(sqlx::Error::PoolTimedOut));
        assert!(!classify(sqlx::Error::RowNotFound));
        assert!(!classify(sqlx::Error::Protocol(
            "too many parameters".into()
        )));
    }
}

/// How a guest call, or a try of a job, failed: the `error-kind` of the WIT
/// contract, as the queue and the callers act on it (and as it is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Another try may succeed (the remote is down, asked to wait…).
    Retryable,
    /// Trying again will not help (and traps are final).
    Final,
    /// What the call asked for does not exist.
    NotFound,
    /// The call was not allowed.
    Denied,
}

impl FailureKind {
    /// The name stored and shown: `retryable`, `final`, `not-found`, `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Retryable => "retryable",
            FailureKind::Final => "final",
            FailureKind::NotFound => "not-found",
            FailureKind::Denied => "denied",
        }
    }

    /// The kind of a stored name (see [`FailureKind::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "retryable" => FailureKind::Retryable,
            "final" => FailureKind::Final,
            "not-found" => FailureKind::NotFound,
            "denied" => FailureKind::Denied,
            _ => return None,
        })
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
