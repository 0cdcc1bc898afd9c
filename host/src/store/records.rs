//! Local records: the data Ferry's users own, by model.

use super::{Dialect, EventJob, Store, now_ms};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// A local record as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordRow {
    /// Id (unique across models).
    pub id: i64,
    /// Model name.
    pub model: String,
    /// Field values.
    pub values: Map<String, Value>,
    /// Creation time, ms.
    pub created_at: i64,
    /// Last write time, ms.
    pub updated_at: i64,
    /// Grows by one with every write that changes a value (1 at creation):
    /// what a link's `synced_revision` is compared with.
    pub revision: i64,
}

/// Comparison of a [`RecordFilter`]: the operator of a manifest's conditions.
pub use ferry_manifest::FilterOp;

/// One condition of a record search.
#[derive(Debug, Clone)]
pub struct RecordFilter {
    /// Field name (letters, digits, `_`).
    pub field: String,
    /// Comparison.
    pub op: FilterOp,
    /// Value compared with (for `OneOf`, an array).
    pub value: Value,
}

fn row_to_record(row: &super::DbRow) -> Result<RecordRow> {
    record_of(row).map(|(record, _)| record)
}

/// The columns [`record_of`] reads, in a statement's select list.
pub(super) const RECORD_COLUMNS: &str = "id, model, data, created_at, updated_at, revision";

/// A record from a row of [`RECORD_COLUMNS`], and the size of its `data` text.
pub(super) fn record_of<R: sqlx::Row>(row: &R) -> Result<(RecordRow, usize)>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let data: String = row.try_get("data")?;
    let values = match serde_json::from_str(&data)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let record = RecordRow {
        id: row.try_get("id")?,
        model: row.try_get("model")?,
        values,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        revision: row.try_get("revision")?,
    };
    Ok((record, data.len()))
}

fn object(values: Value, what: &str) -> Result<Map<String, Value>> {
    match values {
        Value::Object(m) => Ok(m),
        other => Err(Error::Invalid(format!(
            "{what}: values must be a JSON object, got {other}"
        ))),
    }
}

/// A value bound to a statement, whatever the driver.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bind {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl Bind {
    /// A filter value: as JSON text where the SQL compares JSON values
    /// (PostgreSQL), else as the SQL scalar `json_extract` yields (SQLite).
    fn of(v: &Value, as_json: bool) -> Bind {
        if as_json {
            return Bind::Text(v.to_string());
        }
        match v {
            Value::Null => Bind::Null,
            Value::Bool(b) => Bind::Int(*b as i64),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Bind::Int(i),
                None => n.as_f64().map(Bind::Float).unwrap_or(Bind::Null),
            },
            Value::String(s) => Bind::Text(s.clone()),
            other => Bind::Text(other.to_string()),
        }
    }
}

/// Bind `binds` to `q` in order.
pub(super) fn bind_all<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for b in binds {
        q = match b {
            Bind::Null => q.bind(None::<String>),
            Bind::Int(i) => q.bind(i),
            Bind::Float(f) => q.bind(f),
            Bind::Text(s) => q.bind(s),
        };
    }
    q
}

/// A record search as SQL and the values bound to it (`$1` is the model), or
/// `None` when no record can match (an empty `one-of`). With `like_chars`,
/// a `like` filter looks at that many first characters of the field only.
pub(super) fn search_statement(
    dialect: Dialect,
    model: &str,
    filters: &[RecordFilter],
    limit: Option<u32>,
    offset: u32,
    like_chars: Option<usize>,
) -> Result<Option<(String, Vec<Bind>)>> {
    // Each value is pushed as its parameter is written: SQLite binds them in
    // that order (see `Dialect::param`).
    let mut sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE model = {}",
        dialect.param(1)
    );
    let mut binds = vec![Bind::Text(model.to_string())];
    let as_json = dialect == Dialect::Postgres;
    for f in filters {
        if !is_field_name(&f.field) {
            return Err(Error::Invalid(format!(
                "search {model}: bad field name {:?}",
                f.field
            )));
        }
        let like = f.op == FilterOp::Like;
        if let Some(column) = record_column(&f.field) {
            let (sql_part, more) = column_filter(dialect, model, column, f, binds.len())?;
            binds.extend(more);
            sql.push_str(&sql_part);
            continue;
        }
        let field = match (dialect, like) {
            // LIKE compares text: the value itself, not its JSON form.
            (Dialect::Postgres, true) => format!("((data)::jsonb ->> '{}')", f.field),
            _ => dialect.json_field("data", &f.field),
        };
        let field = match (like, like_chars, dialect) {
            (true, Some(n), Dialect::Postgres) => format!("left({field}, {n})"),
            (true, Some(n), Dialect::Sqlite) => format!("substr({field}, 1, {n})"),
            _ => field,
        };
        let json = as_json && !like;
        let mut param = |v: &Value| {
            binds.push(Bind::of(v, json));
            match like {
                true => dialect.param(binds.len()),
                false => dialect.json_param(binds.len()),
            }
        };
        let op = match f.op {
            FilterOp::Eq => "=",
            FilterOp::Ne => "!=",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
            FilterOp::Like => "LIKE",
            FilterOp::OneOf => "IN",
        };
        if f.op == FilterOp::OneOf {
            let values = f.value.as_array().ok_or_else(|| {
                Error::Invalid(format!(
                    "search {model}: `one-of` on {} needs a JSON array",
                    f.field
                ))
            })?;
            if values.is_empty() {
                return Ok(None);
            }
            let params: Vec<String> = values.iter().map(&mut param).collect();
            sql.push_str(&format!(" AND {field} IN ({})", params.join(", ")));
        } else {
            let p = param(&f.value);
            sql.push_str(&format!(" AND {field} {op} {p}"));
        }
    }
    sql.push_str(&format!(
        " ORDER BY id LIMIT {} OFFSET {offset}",
        limit.map(i64::from).unwrap_or(i64::MAX)
    ));
    Ok(Some((sql, binds)))
}

/// The record columns a search can filter on by name, instead of a value
/// field: `id` (a reader that pages by id after its position),
/// `created_at` and `updated_at` (records changed since a time).
fn record_column(field: &str) -> Option<&'static str> {
    ["id", "created_at", "updated_at"]
        .into_iter()
        .find(|c| *c == field)
}

/// ` AND column op …` for a filter on a record column (integers only), and
/// the values it binds after the `bound` ones already there.
fn column_filter(
    dialect: Dialect,
    model: &str,
    column: &str,
    f: &RecordFilter,
    bound: usize,
) -> Result<(String, Vec<Bind>)> {
    let integer = |v: &Value| {
        v.as_i64().map(Bind::Int).ok_or_else(|| {
            Error::Invalid(format!(
                "search {model}: `{column}` is the record's own column and takes whole numbers, not {v}"
            ))
        })
    };
    let op = match f.op {
        FilterOp::Eq => "=",
        FilterOp::Ne => "!=",
        FilterOp::Lt => "<",
        FilterOp::Le => "<=",
        FilterOp::Gt => ">",
        FilterOp::Ge => ">=",
        FilterOp::Like => {
            return Err(Error::Invalid(format!(
                "search {model}: `like` does not apply to `{column}`, a number"
            )));
        }
        FilterOp::OneOf => {
            let values = f.value.as_array().ok_or_else(|| {
                Error::Invalid(format!(
                    "search {model}: `one-of` on {column} needs a JSON array"
                ))
            })?;
            let binds = values.iter().map(integer).collect::<Result<Vec<_>>>()?;
            if binds.is_empty() {
                // Matches nothing, as `one-of []` on a field.
                return Ok((" AND 1 = 0".to_string(), binds));
            }
            let params: Vec<String> = (1..=binds.len())
                .map(|i| dialect.param(bound + i))
                .collect();
            return Ok((format!(" AND {column} IN ({})", params.join(", ")), binds));
        }
    };
    let bind = integer(&f.value)?;
    Ok((
        format!(" AND {column} {op} {}", dialect.param(bound + 1)),
        vec![bind],
    ))
}

/// A field name a search may use: letters, digits and `_` (it is written
/// into the SQL as a JSON path).
pub(super) fn is_field_name(field: &str) -> bool {
    !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Store {
    /// Create a record; returns it.
    pub async fn create_record(&self, model: &str, values: Value) -> Result<RecordRow> {
        self.create_record_with(model, values, |_| Vec::new()).await
    }

    /// Create a record and, in the same transaction, the jobs `jobs` makes of it
    /// (the jobs of its `record.created` subscribers): both are stored, or neither.
    pub async fn create_record_with(
        &self,
        model: &str,
        values: Value,
        jobs: impl FnOnce(&RecordRow) -> Vec<EventJob>,
    ) -> Result<RecordRow> {
        self.insert_record(model, values, None, jobs).await
    }

    /// Create a record bound to `link` = (backend instance, external id), with
    /// the jobs `jobs` makes of it: record, link and jobs commit together.
    pub async fn create_record_linked(
        &self,
        model: &str,
        values: Value,
        link: (&str, &str),
        jobs: impl FnOnce(&RecordRow) -> Vec<EventJob>,
    ) -> Result<RecordRow> {
        self.insert_record(model, values, Some(link), jobs).await
    }

    async fn insert_record(
        &self,
        model: &str,
        values: Value,
        link: Option<(&str, &str)>,
        jobs: impl FnOnce(&RecordRow) -> Vec<EventJob>,
    ) -> Result<RecordRow> {
        let mut tx = self.begin_write().await?;
        let row = self
            .insert_record_in(&mut tx, model, values, link, jobs)
            .await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(row)
    }

    /// Create a record (bound to `link`, if any: a plain binding, no versions)
    /// and the jobs `jobs` makes of it, in the caller's transaction `tx`: the
    /// caller announces the jobs and commits (a step's chunk shares it).
    pub(crate) async fn insert_record_in(
        &self,
        tx: &mut super::DbConn,
        model: &str,
        values: Value,
        link: Option<(&str, &str)>,
        jobs: impl FnOnce(&RecordRow) -> Vec<EventJob>,
    ) -> Result<RecordRow> {
        let values = object(values, &format!("create {model}"))?;
        let row = sqlx::query(&format!(
            "INSERT INTO records (model, data, created_at, updated_at, revision) VALUES ($1, $2, $3, $3, 1) \
             RETURNING {RECORD_COLUMNS}"
        ))
        .bind(model)
        .bind(Value::Object(values).to_string())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let row = row_to_record(&row)?;
        if let Some((instance, external_id)) = link {
            Store::bind_in(tx, instance, model, row.id, external_id, None).await?;
        }
        for job in jobs(&row) {
            self.store_event_job_in(tx, &job).await?;
        }
        Ok(row)
    }

    /// Read a record of `model`.
    pub async fn read_record(&self, model: &str, id: i64) -> Result<RecordRow> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE model = $1 AND id = $2"
        ))
        .bind(model)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::not_found("record", format!("{model} {id}")))?;
        row_to_record(&row)
    }

    /// Merge `values` into a record; returns the fields whose value changed.
    pub async fn write_record(&self, model: &str, id: i64, values: Value) -> Result<Vec<String>> {
        self.write_record_with(model, id, values, |_, _| Vec::new())
            .await
    }

    /// Merge `values` into a record and, in the same transaction, store the jobs
    /// `jobs` makes of the change (record after the write, fields that changed;
    /// not called when nothing changed). Returns the fields that changed.
    pub async fn write_record_with(
        &self,
        model: &str,
        id: i64,
        values: Value,
        jobs: impl FnOnce(&RecordRow, &[String]) -> Vec<EventJob>,
    ) -> Result<Vec<String>> {
        // IMMEDIATE: take the write lock first, so that two writers of one record
        // serialise instead of losing an update.
        let mut tx = self.begin_write().await?;
        let (_, changed) = self
            .write_record_in(&mut tx, model, id, values, jobs)
            .await?;
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(changed)
    }

    /// Merge `values` into a record and store the jobs `jobs` makes of the
    /// change, in the caller's write transaction `tx` (the caller announces
    /// the jobs and commits). Returns the record after the write and the
    /// fields that changed.
    pub(crate) async fn write_record_in(
        &self,
        tx: &mut super::DbConn,
        model: &str,
        id: i64,
        values: Value,
        jobs: impl FnOnce(&RecordRow, &[String]) -> Vec<EventJob>,
    ) -> Result<(RecordRow, Vec<String>)> {
        let values = object(values, &format!("write {model} {id}"))?;
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE model = $1 AND id = $2"
        ))
        .bind(model)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found("record", format!("{model} {id}")))?;
        let mut row = row_to_record(&row)?;
        let mut changed = Vec::new();
        for (k, v) in values {
            if row.values.get(&k) != Some(&v) {
                changed.push(k.clone());
                row.values.insert(k, v);
            }
        }
        if !changed.is_empty() {
            row.updated_at = now_ms();
            // The write lock is held since the read: the revision read is current.
            row.revision += 1;
            sqlx::query(
                "UPDATE records SET data = $1, updated_at = $2, revision = revision + 1 \
                 WHERE model = $3 AND id = $4",
            )
            .bind(Value::Object(row.values.clone()).to_string())
            .bind(row.updated_at)
            .bind(model)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            for job in jobs(&row, &changed) {
                self.store_event_job_in(tx, &job).await?;
            }
        }
        Ok((row, changed))
    }

    /// Delete a record, with its links, checkpoints and create intents;
    /// returns its last values.
    pub async fn unlink_record(&self, model: &str, id: i64) -> Result<RecordRow> {
        self.unlink_record_with(model, id, |_| Vec::new()).await
    }

    /// Delete a record (with its links and checkpoints) and, in the same
    /// transaction, store the jobs `jobs` makes of its last values.
    pub async fn unlink_record_with(
        &self,
        model: &str,
        id: i64,
        jobs: impl FnOnce(&RecordRow) -> Vec<EventJob>,
    ) -> Result<RecordRow> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "DELETE FROM records WHERE model = $1 AND id = $2 RETURNING {RECORD_COLUMNS}"
        ))
        .bind(model)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found("record", format!("{model} {id}")))?;
        let row = row_to_record(&row)?;
        // A link to a deleted record would make the next import write to nothing.
        for (table, column) in [
            ("links", "local_id"),
            ("checkpoints", "record_id"),
            ("create_intents", "local_id"),
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE model = $1 AND {column} = $2"
            ))
            .bind(model)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for job in jobs(&row) {
            self.store_event_job_in(&mut tx, &job).await?;
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(row)
    }

    /// Records of `model` matching every filter, by id, with no bound on
    /// what the search costs: for the host's own callers (guests go through
    /// `Store::guest_search`).
    pub async fn search_records(
        &self,
        model: &str,
        filters: &[RecordFilter],
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<RecordRow>> {
        let statement = search_statement(self.dialect(), model, filters, limit, offset, None)?;
        let Some((sql, binds)) = statement else {
            return Ok(Vec::new());
        };
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_record).collect()
    }

    /// How many records `model` has.
    pub async fn count_records(&self, model: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE model = $1")
                .bind(model)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
