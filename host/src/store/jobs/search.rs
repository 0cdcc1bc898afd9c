//! Finding jobs for operators: the filters of `ferry jobs`, the admin API and
//! the console, as one query whose WHERE clause holds only the filters given,
//! so that the database can walk the index of the one that narrows most
//! (`jobs_state_id`, `jobs_instance_id`, … end in the id: newest first is the
//! index order).
//!
//! On PostgreSQL the indexes by instance, name, trigger and creation time
//! leave claimed and running jobs out (migration 0020: a claim then writes
//! three index entries instead of eight), so a list filtered on one of those
//! reads the running jobs apart and merges them in: at most the workers'
//! slots, found through the state indexes.

use super::super::{Dialect, Store};
use super::{JOB_COLUMNS, JobFilter, JobRow, job};
use crate::error::Result;

/// Jobs a worker holds (claimed or running): left out of the console's
/// indexes by instance, name, trigger and creation time on PostgreSQL
/// (migration 0020).
const RUNNING: &str = "state IN ('enqueued', 'started')";
/// Every other job: pending, paused or finished.
const NOT_RUNNING: &str = "state NOT IN ('enqueued', 'started')";

/// A value bound to a `$N` parameter of a filter query.
enum Bound {
    Text(String),
    Number(i64),
}

/// A WHERE clause being built: conditions joined by AND, each with its values
/// bound as `$N` in order.
#[derive(Default)]
pub(in crate::store) struct Conditions {
    sql: Vec<String>,
    values: Vec<Bound>,
}

impl Conditions {
    /// The `$N` parameter of the next value.
    fn next(&self) -> String {
        format!("${}", self.values.len() + 1)
    }

    /// `column = value`, when there is a value.
    pub(in crate::store) fn text_equals(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.sql.push(format!("{column} = {}", self.next()));
            self.values.push(Bound::Text(value.to_string()));
        }
    }

    /// A condition written with `{}` for the parameter of `value`, used
    /// once per `{}` (each a value of its own).
    pub(in crate::store) fn text_with(&mut self, template: &str, value: &str) {
        let mut sql = String::new();
        for (i, part) in template.split("{}").enumerate() {
            if i > 0 {
                sql.push_str(&self.next());
                self.values.push(Bound::Text(value.to_string()));
            }
            sql.push_str(part);
        }
        self.sql.push(sql);
    }

    /// `column op value`, when there is a value.
    pub(in crate::store) fn number(&mut self, column: &str, op: &str, value: Option<i64>) {
        if let Some(value) = value {
            self.sql.push(format!("{column} {op} {}", self.next()));
            self.values.push(Bound::Number(value));
        }
    }

    /// `(column LIKE p1 OR column LIKE p2 …)`, patterns escaped with `\\`.
    pub(in crate::store) fn like_any(&mut self, column: &str, patterns: &[String]) {
        let mut parts = Vec::new();
        for pattern in patterns {
            parts.push(format!("{column} LIKE {} ESCAPE '\\'", self.next()));
            self.values.push(Bound::Text(pattern.clone()));
        }
        if !parts.is_empty() {
            self.sql.push(format!("({})", parts.join(" OR ")));
        }
    }

    /// A condition without values (a fixed piece of SQL).
    pub(in crate::store) fn fixed(&mut self, sql: &str) {
        self.sql.push(sql.to_string());
    }

    /// ` WHERE …` (empty without conditions).
    pub(in crate::store) fn clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }

    /// ` WHERE … AND extra`: the clause with one more fixed condition.
    pub(in crate::store) fn clause_and(&self, extra: &str) -> String {
        let mut sql = self.sql.clone();
        sql.push(extra.to_string());
        format!(" WHERE {}", sql.join(" AND "))
    }

    /// How many values are bound.
    pub(in crate::store) fn count(&self) -> usize {
        self.values.len()
    }

    /// The `$N` the next value would take (for a LIMIT after the clause).
    pub(in crate::store) fn next_param(&self) -> String {
        self.next()
    }

    /// Bind every value, in order, to `query`.
    pub(in crate::store) fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = match value {
                Bound::Text(text) => query.bind(text.as_str()),
                Bound::Number(n) => query.bind(*n),
            };
        }
        query
    }

    /// Bind every value, in order, to a query of one column.
    pub(in crate::store) fn bind_scalar<'q, T>(
        &'q self,
        mut query: sqlx::query::QueryScalar<'q, sqlx::Any, T, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryScalar<'q, sqlx::Any, T, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = match value {
                Bound::Text(text) => query.bind(text.as_str()),
                Bound::Number(n) => query.bind(*n),
            };
        }
        query
    }
}

/// A `LIKE` pattern matching `text` anywhere, its wildcards escaped (`\`).
pub(in crate::store) fn contains(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

/// `text` with the wildcards of `LIKE` escaped (`\\`).
pub(in crate::store) fn escape_like(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

impl Store {
    /// Jobs matching `filter`, newest first (see [`JobFilter`]).
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRow>> {
        let when = self.job_conditions(filter);
        let sql = self.newest_first(JOB_COLUMNS, filter, &when);
        let rows = when
            .bind(sqlx::query(&sql))
            .bind(i64::from(filter.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job).collect()
    }

    /// The ids of at most `max` jobs matching `filter` (its `limit` aside),
    /// newest first: the set a bulk action works on.
    pub async fn job_ids(&self, filter: &JobFilter, max: u32) -> Result<Vec<i64>> {
        let when = self.job_conditions(filter);
        let sql = self.newest_first("id", filter, &when);
        Ok(when
            .bind_scalar(sqlx::query_scalar(&sql))
            .bind(i64::from(max))
            .fetch_all(self.pool())
            .await?)
    }

    /// `SELECT columns FROM jobs WHERE … ORDER BY id DESC LIMIT $N`, the
    /// limit being the parameter after `when`'s values.
    ///
    /// On PostgreSQL, running jobs are not in the indexes by instance, name,
    /// trigger and creation time. A list filtered on one of those, in no
    /// state, takes the others from that index and the running ones from the
    /// state indexes, and merges the two. The running part sorts by `id + 0`
    /// so that the planner cannot walk the primary key back looking for
    /// running jobs that match (it reads the whole table when none do): it
    /// reads the running jobs that match, at most the workers' slots, and
    /// sorts them. Other lists walk the primary key or `jobs_state_id`, which
    /// hold every job.
    fn newest_first(&self, columns: &str, filter: &JobFilter, when: &Conditions) -> String {
        let limit = when.next_param();
        let narrowed = filter.instance.is_some()
            || filter.name.is_some()
            || filter.trigger.is_some()
            || filter.since.is_some()
            || filter.until.is_some();
        if self.dialect() == Dialect::Postgres && filter.state.is_none() && narrowed {
            format!(
                "SELECT * FROM ((SELECT {columns} FROM jobs{} ORDER BY id DESC LIMIT {limit}) \
                 UNION ALL (SELECT {columns} FROM jobs{} ORDER BY id + 0 DESC LIMIT {limit})) AS j \
                 ORDER BY id DESC LIMIT {limit}",
                when.clause_and(NOT_RUNNING),
                when.clause_and(RUNNING),
            )
        } else {
            format!(
                "SELECT {columns} FROM jobs{} ORDER BY id DESC LIMIT {limit}",
                when.clause()
            )
        }
    }

    /// The WHERE clause of `filter` (its `limit` aside).
    fn job_conditions(&self, filter: &JobFilter) -> Conditions {
        let mut when = Conditions::default();
        when.text_equals("state", filter.state.map(|s| s.as_str()));
        when.text_equals("instance", filter.instance.as_deref());
        if let Some(channel) = &filter.channel {
            when.text_with("(channel = {} OR channel LIKE {} || '.%')", channel);
        }
        if let Some(module) = &filter.module {
            when.text_with("(module = {} OR pinned_module = {})", module);
        }
        when.text_equals("name", filter.name.as_deref());
        when.text_equals("triggered_by", filter.trigger.map(|t| t.as_str()));
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            // `OFFSET 0` keeps PostgreSQL's sub-query a per-job probe of
            // `job_logs_job`: without it, it hashes an ILIKE over every log
            // line first (323 ms instead of 12 ms at a million jobs). SQLite
            // probes per job as it is (and takes no OFFSET without LIMIT).
            let like = self.like();
            let probe = match self.dialect() {
                Dialect::Sqlite => "",
                Dialect::Postgres => " OFFSET 0",
            };
            when.text_with(
                &format!(
                    "(error {like} {{}} ESCAPE '\\' OR EXISTS (SELECT 1 FROM job_logs l \
                     WHERE l.job_id = jobs.id AND l.message {like} {{}} ESCAPE '\\'{probe}))"
                ),
                &contains(text),
            );
        }
        when.number("created_at", ">=", filter.since);
        when.number("created_at", "<", filter.until);
        when.number("id", "<", filter.before);
        when
    }

    /// The case-insensitive LIKE of the database (for ASCII).
    pub(in crate::store) fn like(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}
