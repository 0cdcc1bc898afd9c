//! The pool guests' record queries run on, apart from the store's (see
//! [`super::guest_queries`]): opened on first use, with native drivers.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// The pool guest queries run on.
#[derive(Debug, Clone)]
pub(super) enum GuestPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}
