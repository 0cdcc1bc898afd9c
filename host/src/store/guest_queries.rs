//! Guest record queries (`session.search`, `session.read`): bounded in shape,
//! run on a small pool of their own, and stopped by the database itself when
//! the run's time budget ends.
//!
//! A guest decides what it searches for, so without bounds a search costs
//! what the guest likes: a `like` pattern of thousands of characters over a
//! field of megabytes ran for minutes after its job had failed at the end of
//! its budget, holding its connection all along (dropping the future of a
//! query does not stop the statement). Three things bound it now:
//!
//! - [`GuestQueryLimits`]: a query over a limit is refused before it reaches
//!   the database, with an error naming the limit (`final` to the guest). A
//!   `like` filter looks at the first `like_field_chars` characters of a
//!   field only: matching one value is a single step that SQLite cannot
//!   interrupt, and this bounds its cost (with the pattern's length).
//! - a deadline, the end of the run's time budget: on PostgreSQL the query
//!   runs in a read-only transaction whose `statement_timeout` is the time
//!   left, so the server stops it; on SQLite a progress handler interrupts
//!   it between two VM instructions once the deadline has passed.
//! - a pool of its own, with native drivers (the `Any` driver of the store
//!   exposes neither a progress handler nor a per-query setting), opened on
//!   first use from the store's URL, read-only on SQLite: guests waiting for
//!   it never hold a connection that workers need for claims and outcomes.

use super::guest_pool::GuestPool;
use super::records::{
    Bind, FilterOp, RecordFilter, RecordRow, bind_all, is_field_name, record_of, search_statement,
};
use super::{Dialect, Store};
use crate::error::{Error, Result};
use futures_util::{Stream, TryStreamExt};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// What one guest query may ask of the database. Each bound is named in the
/// error of a query over it, by its field name here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuestQueryLimits {
    /// Filters one search may have.
    pub max_filters: usize,
    /// Values in the `one-of` lists of one search, all lists together.
    pub max_one_of: usize,
    /// Bytes of one filter value, as JSON text (each value of a `one-of`).
    pub max_value_bytes: usize,
    /// Bytes of one `like` pattern.
    pub max_like_bytes: usize,
    /// Wildcards (`%`, `_`) in one `like` pattern.
    pub max_like_wildcards: usize,
    /// Characters at the start of a field that a `like` filter looks at (the
    /// rest of a longer value is not compared).
    pub like_field_chars: usize,
    /// Bytes of a field name (letters, digits and `_` only).
    pub max_field_bytes: usize,
    /// Records one search returns at most (a larger `limit` is lowered to it).
    pub max_results: u32,
    /// Bytes of the records (their values as JSON) one search or read may
    /// return; past it the query fails, asking for a smaller `limit`.
    pub max_result_bytes: usize,
    /// Connections of the pool that guest queries share (per process).
    pub connections: u32,
}

impl GuestQueryLimits {
    /// The defaults: 16 filters, 1,000 `one-of` values, values of 4 KiB,
    /// `like` patterns of 128 bytes with 8 wildcards over the first 65,536
    /// characters of a field, field names of 64 bytes, 10,000 records or
    /// 32 MiB per query, 4 connections.
    pub const DEFAULT: GuestQueryLimits = GuestQueryLimits {
        max_filters: 16,
        max_one_of: 1_000,
        max_value_bytes: 4 << 10,
        max_like_bytes: 128,
        max_like_wildcards: 8,
        like_field_chars: 65_536,
        max_field_bytes: 64,
        max_results: 10_000,
        max_result_bytes: 32 << 20,
        connections: 4,
    };

    /// Check the filters of a search of `model`: the error names the bound
    /// a filter is over.
    pub fn check(&self, model: &str, filters: &[RecordFilter]) -> Result<()> {
        let over = |what: String, max: usize, name: &str| {
            Err(Error::Invalid(format!(
                "search {model}: {what}, over the limit of {max} ({name})"
            )))
        };
        if filters.len() > self.max_filters {
            return over(
                format!("{} filters", filters.len()),
                self.max_filters,
                "max_filters",
            );
        }
        let mut one_of = 0usize;
        for f in filters {
            let field = &f.field;
            if field.len() > self.max_field_bytes {
                let what = format!("a field name of {} bytes", field.len());
                return over(what, self.max_field_bytes, "max_field_bytes");
            }
            if !is_field_name(field) {
                return Err(Error::Invalid(format!(
                    "search {model}: bad field name {field:?} (letters, digits and `_` only)"
                )));
            }
            let values = match (&f.op, &f.value) {
                (FilterOp::OneOf, serde_json::Value::Array(values)) => {
                    one_of = one_of.saturating_add(values.len());
                    if one_of > self.max_one_of {
                        let what = format!("`one-of` lists of {one_of} values in all");
                        return over(what, self.max_one_of, "max_one_of");
                    }
                    values.as_slice()
                }
                (_, value) => std::slice::from_ref(value),
            };
            for value in values {
                let bytes = value.to_string().len();
                if bytes > self.max_value_bytes {
                    let what = format!("a value of {bytes} bytes for `{field}`");
                    return over(what, self.max_value_bytes, "max_value_bytes");
                }
            }
            if f.op == FilterOp::Like {
                let pattern = match &f.value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if pattern.len() > self.max_like_bytes {
                    let what = format!("a `like` pattern of {} bytes on `{field}`", pattern.len());
                    return over(what, self.max_like_bytes, "max_like_bytes");
                }
                let wildcards = pattern.chars().filter(|c| matches!(c, '%' | '_')).count();
                if wildcards > self.max_like_wildcards {
                    let what = format!("a `like` pattern with {wildcards} wildcards on `{field}`");
                    return over(what, self.max_like_wildcards, "max_like_wildcards");
                }
            }
        }
        Ok(())
    }
}

impl Default for GuestQueryLimits {
    /// [`GuestQueryLimits::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// SQLite VM instructions between two looks at the deadline: often enough to
/// stop within a millisecond or so, rarely enough to cost nothing measurable.
const PROGRESS_STEPS: i32 = 1_000;

/// The error of a query that the run's deadline stopped.
fn out_of_time(what: &str) -> Error {
    Error::Invalid(format!(
        "{what}: stopped at the end of the run's time budget"
    ))
}

/// The error of a query that found no free connection before the deadline.
fn no_connection(what: &str) -> Error {
    Error::Invalid(format!(
        "{what}: no connection for guest queries came free before the end of the run's time budget"
    ))
}

/// Whether the database stopped the statement because the deadline passed:
/// SQLite's `SQLITE_INTERRUPT`, PostgreSQL's `query_canceled`.
fn stopped(e: &sqlx::Error) -> bool {
    use sqlx::error::DatabaseError as _;
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    if let Some(lite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        lite.code().as_deref() == Some("9")
    } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        pg.code() == "57014"
    } else {
        false
    }
}

/// The records of `rows`, until they are over `max_bytes`.
async fn collect<R, S>(mut rows: S, max_bytes: usize, what: &str) -> Result<Vec<RecordRow>>
where
    S: Stream<Item = std::result::Result<R, sqlx::Error>> + Unpin,
    R: sqlx::Row,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let mut records = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        let (record, size) = record_of(&row)?;
        bytes = bytes.saturating_add(size);
        if bytes > max_bytes {
            return Err(Error::Invalid(format!(
                "{what}: the records found are over {max_bytes} bytes (max_result_bytes); \
                 ask for fewer with `limit` and page with `offset`"
            )));
        }
        records.push(record);
    }
    Ok(records)
}

impl Store {
    /// The pool of guest queries, opened (lazily: no connection yet) on
    /// first use with `limits.connections`.
    fn guest_pool(&self, limits: &GuestQueryLimits) -> Result<GuestPool> {
        if let Some(pool) = self.guest.get() {
            return Ok(pool.clone());
        }
        let size = limits.connections.max(1);
        // Waiting for a connection is bounded by the run's deadline instead.
        let wait = Duration::from_secs(600);
        let pool = match self.dialect {
            Dialect::Sqlite => {
                // Read-only: a guest query never writes, nor takes a write lock.
                let options = SqliteConnectOptions::from_str(&self.url)?
                    .read_only(true)
                    .busy_timeout(Duration::from_secs(5))
                    .disable_statement_logging();
                let pool = SqlitePoolOptions::new()
                    .max_connections(size)
                    .acquire_timeout(wait)
                    .connect_lazy_with(options);
                GuestPool::Sqlite(pool)
            }
            Dialect::Postgres => {
                let options = PgConnectOptions::from_str(&self.url)?.disable_statement_logging();
                let pool = PgPoolOptions::new()
                    .max_connections(size)
                    .acquire_timeout(wait)
                    .connect_lazy_with(options);
                GuestPool::Postgres(pool)
            }
        };
        // Two first uses at once: one pool wins, the other is dropped unused.
        Ok(self.guest.get_or_init(|| pool).clone())
    }

    /// A guest's search of `model` (see [`Store::search_records`]): checked
    /// against `limits`, stopped at `deadline`.
    pub(crate) async fn guest_search(
        &self,
        limits: &GuestQueryLimits,
        deadline: Instant,
        model: &str,
        filters: &[RecordFilter],
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<RecordRow>> {
        limits.check(model, filters)?;
        let limit = limit.unwrap_or(limits.max_results).min(limits.max_results);
        let like_chars = Some(limits.like_field_chars);
        let statement = search_statement(
            self.dialect,
            model,
            filters,
            Some(limit),
            offset,
            like_chars,
        )?;
        let Some((sql, binds)) = statement else {
            return Ok(Vec::new());
        };
        let what = format!("search {model}");
        self.guest_query(limits, deadline, &what, &sql, binds).await
    }

    /// A guest's read of record `id` of `model`, stopped at `deadline`.
    pub(crate) async fn guest_read(
        &self,
        limits: &GuestQueryLimits,
        deadline: Instant,
        model: &str,
        id: i64,
    ) -> Result<RecordRow> {
        let sql = "SELECT id, model, data, created_at, updated_at, revision FROM records \
                   WHERE model = $1 AND id = $2";
        let binds = vec![Bind::Text(model.to_string()), Bind::Int(id)];
        let what = format!("read {model} {id}");
        let rows = self
            .guest_query(limits, deadline, &what, sql, binds)
            .await?;
        rows.into_iter()
            .next()
            .ok_or_else(|| Error::not_found("record", format!("{model} {id}")))
    }

    /// Run `sql` on the pool of guest queries, stopped at `deadline`.
    async fn guest_query(
        &self,
        limits: &GuestQueryLimits,
        deadline: Instant,
        what: &str,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<Vec<RecordRow>> {
        let pool = self.guest_pool(limits)?;
        let max_bytes = limits.max_result_bytes;
        let left = || deadline.saturating_duration_since(Instant::now());
        let result = match pool {
            GuestPool::Sqlite(pool) => {
                let mut conn = tokio::time::timeout(left(), pool.acquire())
                    .await
                    .map_err(|_| no_connection(what))??;
                conn.lock_handle()
                    .await?
                    .set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
                let query = bind_all(sqlx::query(sql).persistent(false), binds);
                collect(query.fetch(&mut *conn), max_bytes, what).await
            }
            GuestPool::Postgres(pool) => {
                let mut conn = tokio::time::timeout(left(), pool.acquire())
                    .await
                    .map_err(|_| no_connection(what))??;
                let mut tx = conn.begin_with("BEGIN READ ONLY").await?;
                // At least 1 ms: a timeout of 0 would mean none.
                let ms = left().as_millis().max(1);
                sqlx::query("SELECT set_config('statement_timeout', $1, true)")
                    .bind(ms.to_string())
                    .execute(&mut *tx)
                    .await?;
                let query = bind_all(sqlx::query(sql).persistent(false), binds);
                let rows = collect(query.fetch(&mut *tx), max_bytes, what).await;
                // Read-only, and a failed statement aborted it: nothing to
                // keep. The query's own error says more than the rollback's.
                let rolled_back = tx.rollback().await;
                rows.and_then(|rows| rolled_back.map(|()| rows).map_err(Error::from))
            }
        };
        result.map_err(|e| match &e {
            Error::Database(db) if stopped(db) => out_of_time(what),
            _ => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(field: &str, op: FilterOp, value: serde_json::Value) -> RecordFilter {
        RecordFilter {
            field: field.into(),
            op,
            value,
        }
    }

    fn refusal(filters: &[RecordFilter]) -> String {
        match GuestQueryLimits::DEFAULT.check("note", filters) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("{filters:?} passed"),
        }
    }

    #[test]
    fn queries_over_a_limit_are_refused_naming_it() {
        let like = |p: &str| filter("text", FilterOp::Like, json!(p));
        let e = refusal(&[like(&format!("%{}b%", "a".repeat(200)))]);
        assert_eq!(
            e,
            "search note: a `like` pattern of 203 bytes on `text`, over the limit of 128 (max_like_bytes)"
        );
        let e = refusal(&[like(&"%a".repeat(20))]);
        assert!(
            e.ends_with("20 wildcards on `text`, over the limit of 8 (max_like_wildcards)"),
            "{e}"
        );
        let e = refusal(&[like("a_b_c_d_e_f_g_h_i_j")]);
        assert!(e.contains("(max_like_wildcards)"), "{e}");
        let many: Vec<_> = (0..17)
            .map(|i| filter("n", FilterOp::Gt, json!(i)))
            .collect();
        assert_eq!(
            refusal(&many),
            "search note: 17 filters, over the limit of 16 (max_filters)"
        );
        let e = refusal(&[filter(
            "id",
            FilterOp::OneOf,
            json!((0..1_001).collect::<Vec<_>>()),
        )]);
        assert!(
            e.contains("1001 values in all, over the limit of 1000 (max_one_of)"),
            "{e}"
        );
        let half = json!((0..600).collect::<Vec<_>>());
        let two = [
            filter("a", FilterOp::OneOf, half.clone()),
            filter("b", FilterOp::OneOf, half),
        ];
        let e = refusal(&two);
        assert!(e.contains("1200 values in all"), "{e}");
        let big = "x".repeat(5_000);
        let e = refusal(&[filter("name", FilterOp::Eq, json!(big))]);
        assert!(
            e.contains(
                "a value of 5002 bytes for `name`, over the limit of 4096 (max_value_bytes)"
            ),
            "{e}"
        );
        let e = refusal(&[filter("name", FilterOp::OneOf, json!(["a", big]))]);
        assert!(e.contains("(max_value_bytes)"), "{e}");
        let e = refusal(&[filter(&"f".repeat(65), FilterOp::Eq, json!(1))]);
        assert!(
            e.contains("a field name of 65 bytes, over the limit of 64 (max_field_bytes)"),
            "{e}"
        );
        let e = refusal(&[filter("a') OR 1=1 --", FilterOp::Eq, json!(1))]);
        assert!(e.contains("bad field name"), "{e}");
    }

    #[test]
    fn queries_within_the_limits_pass() {
        let ok = [
            filter("name", FilterOp::Like, json!("%anvil%")),
            filter(
                "sku",
                FilterOp::Like,
                json!(format!("{}%", "a".repeat(127))),
            ),
            filter("id", FilterOp::OneOf, json!((0..1_000).collect::<Vec<_>>())),
            filter("note", FilterOp::Eq, json!("x".repeat(4_000))),
            filter(&"f".repeat(64), FilterOp::Ne, json!(null)),
        ];
        let mut filters = ok.to_vec();
        filters.extend((0..11).map(|i| filter("n", FilterOp::Gt, json!(i))));
        assert_eq!(filters.len(), 16);
        GuestQueryLimits::DEFAULT.check("note", &filters).unwrap();
    }

    #[tokio::test]
    async fn a_guest_query_past_its_deadline_is_stopped_and_its_connection_freed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        let text = format!("{}b", "a".repeat(60_000));
        for _ in 0..200 {
            store
                .create_record("hay", json!({ "text": text }))
                .await
                .unwrap();
        }
        let limits = GuestQueryLimits {
            connections: 1,
            ..GuestQueryLimits::DEFAULT
        };
        // Each of the 16 filters matches (the `b` is at the end), slowly.
        let pattern = format!("%{}b%", "a".repeat(120));
        let filters = vec![filter("text", FilterOp::Like, json!(pattern)); 16];
        let deadline = Instant::now() + Duration::from_millis(300);
        let e = store
            .guest_search(&limits, deadline, "hay", &filters, None, 0)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "search hay: stopped at the end of the run's time budget"
        );
        // The one connection is free again, at once: a read with a second
        // of its own gets it.
        let later = Instant::now() + Duration::from_secs(1);
        let read = store.guest_read(&limits, later, "hay", 1).await.unwrap();
        assert_eq!(read.values["text"], json!(text));
        let e = store
            .guest_read(&limits, later, "hay", 999)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }

    #[tokio::test]
    async fn records_over_the_byte_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        for _ in 0..3 {
            store
                .create_record("hay", json!({ "text": "a".repeat(1_000) }))
                .await
                .unwrap();
        }
        let limits = GuestQueryLimits {
            max_result_bytes: 2_500,
            ..GuestQueryLimits::DEFAULT
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let two = store
            .guest_search(&limits, deadline, "hay", &[], Some(2), 0)
            .await
            .unwrap();
        assert_eq!(two.len(), 2);
        let e = store
            .guest_search(&limits, deadline, "hay", &[], None, 0)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("over 2500 bytes (max_result_bytes)"),
            "{e}"
        );
    }
}
