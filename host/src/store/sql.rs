//! The SQL vocabulary every part of the store shares: the database type, its
//! rows and connections, the dialect of the statements that differ, and the
//! clock the rows are stamped with.

/// The sqlx database the store runs on: `Any`, so that one set of statements
/// serves SQLite and PostgreSQL; the few that differ ask [`Dialect`].
pub(crate) type Db = sqlx::Any;
/// A row of a query result.
pub type DbRow = sqlx::any::AnyRow;
/// A connection (or a transaction, through `&mut *tx`).
pub(crate) type DbConn = sqlx::AnyConnection;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Which SQL the database speaks, for the statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file, one writer at a time.
    Sqlite,
    /// A server many worker processes on many machines can share.
    Postgres,
}

impl Dialect {
    /// The value of `field` of the JSON object in text column `column`, as SQL
    /// comparable with a bound JSON scalar (see [`Dialect::json_param`]).
    pub(crate) fn json_field(self, column: &str, field: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({column}, '$.{field}')"),
            Dialect::Postgres => format!("(({column})::jsonb -> '{field}')"),
        }
    }

    /// The `n`th bound parameter, holding a JSON scalar, comparable with
    /// [`Dialect::json_field`]. On SQLite an anonymous `?`, so the values
    /// must be bound in the order their parameters appear (see [`Dialect::param`]).
    pub(crate) fn json_param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("(${n})::jsonb"),
        }
    }

    /// The `n`th bound parameter of a statement built piece by piece. On
    /// SQLite an anonymous `?` (values bound in the order their parameters
    /// appear): `$n` there is a named parameter, and SQLite finds each name
    /// by a linear search, which makes a statement with thousands of them
    /// quadratic to prepare and to bind.
    pub(crate) fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
