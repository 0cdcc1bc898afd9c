//! A guest's record queries cost what the host allows (the `hostile`
//! connector's `hog-db` job): a query over a bound is refused naming it; a
//! costly one within the bounds is stopped by the database when the job's
//! time budget ends, and never holds connections the workers need; what the
//! database refuses because of the query itself fails the job for good,
//! without retries. Run on SQLite, and on PostgreSQL with `FERRY_TEST_DATABASE`.

use ferry::Ferry;
use ferry::engine::EngineConfig;
use ferry::queue::WorkerConfig;
use ferry::store::{Dialect, JobRow, JobState, NewJob};
use ferry_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A time budget a busy machine meets for quick jobs, far shorter than the
/// costly searches below would take if nothing stopped them.
fn limits(config: &mut EngineConfig) {
    tight(config);
    config.time_budget = Duration::from_secs(5);
    // The attack of the outside trial stored a 4 MiB field: let it.
    config.limits.max_payload_bytes = ferry::limits::ByteSize::mib(8);
}

async fn enqueue(ferry: &Ferry, name: &str, payload: Value, priority: i64) -> i64 {
    let mut job = NewJob::new("lab", name, &payload);
    job.priority = priority;
    // A job that fails for good must not be retried: it gets tries to spare.
    job.max_retries = 3;
    ferry.enqueue(&job).await.unwrap()
}

async fn run_all(ferry: &Ferry, concurrency: usize) {
    let config = WorkerConfig {
        until_idle: true,
        concurrency,
        ..Default::default()
    };
    ferry.run_worker(&config, |_| {}).await.unwrap();
}

async fn job(ferry: &Ferry, id: i64) -> JobRow {
    ferry.store().job(id).await.unwrap()
}

/// The error of a job that failed `final` on its first try.
fn final_error(job: &JobRow) -> String {
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert_eq!(job.error_kind.as_deref(), Some("final"), "{job:?}");
    assert_eq!(job.attempts, 1, "tried again: {job:?}");
    job.error.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_over_a_bound_are_refused_naming_it() {
    let (_dir, ferry) = hostile_lab_with(limits).await;
    let long = format!("%{}b%", "a".repeat(2_000));
    let refused = [
        // A 4 MiB field and a long pattern: minutes of matching, unbounded.
        (
            json!({ "records": 1, "kib": 4096, "like": long }),
            "a `like` pattern of 2003 bytes on `text`, over the limit of 128 (max_like_bytes)",
        ),
        (
            json!({ "like": "%a%b%c%d%e%f%g%h%i%j%" }),
            "a `like` pattern with 11 wildcards on `text`, over the limit of 8 (max_like_wildcards)",
        ),
        (
            json!({ "like": "%a%", "repeat": 17 }),
            "17 filters, over the limit of 16 (max_filters)",
        ),
        (
            json!({ "one_of": 5_000 }),
            "`one-of` lists of 5000 values in all, over the limit of 1000 (max_one_of)",
        ),
        (
            json!({ "eq": "x".repeat(5_000) }),
            "a value of 5002 bytes for `text`, over the limit of 4096 (max_value_bytes)",
        ),
    ];
    let mut ids = Vec::new();
    for (payload, _) in &refused {
        ids.push(enqueue(&ferry, "hog-db", payload.clone(), 1).await);
    }
    let notes = enqueue(&ferry, "notes", json!({ "count": 4 }), 2).await;
    run_all(&ferry, 4).await;
    for ((_, said), id) in refused.iter().zip(ids) {
        let error = final_error(&job(&ferry, id).await);
        assert!(error.contains(said), "{error}");
    }
    // The 4 MiB record was stored; the search that followed never ran.
    assert_eq!(ferry.store().count_records("haystack").await.unwrap(), 1);
    let notes = job(&ferry, notes).await;
    assert_eq!(notes.state, JobState::Done, "{notes:?}");
    assert_eq!(notes.result.as_deref(), Some(r#"{"even_above_1":[2]}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_costly_search_ends_with_the_time_budget_and_holds_no_connection() {
    let (_dir, ferry) = hostile_lab_with(limits).await;
    // Each record's `text` ends in the `b` the pattern looks for: every one
    // of a search's 16 filters matches, slowly. Unstopped, one search takes
    // far longer than the budget (and 8 of them, longer still).
    let text = format!("{}b", "a".repeat(60_000));
    for _ in 0..200 {
        ferry
            .store()
            .create_record("haystack", json!({ "text": text }))
            .await
            .unwrap();
    }
    let pattern = format!("%{}b%", "a".repeat(120));
    let costly = json!({ "like": pattern, "repeat": 16, "limit": 1_000 });
    let mut hogs = Vec::new();
    for _ in 0..8 {
        hogs.push(enqueue(&ferry, "hog-db", costly.clone(), 1).await);
    }
    // Meanwhile, jobs that write records (the worker's connections) must
    // not wait for the searches: each ends long before the budget.
    let mut writers = Vec::new();
    for _ in 0..4 {
        writers.push(enqueue(&ferry, "record-run", json!({ "ms": 500 }), 2).await);
    }
    run_all(&ferry, 12).await;
    for id in hogs {
        let error = final_error(&job(&ferry, id).await);
        assert!(error.contains("time budget"), "{error}");
    }
    for id in writers {
        let writer = job(&ferry, id).await;
        assert_eq!(writer.state, JobState::Done, "{writer:?}");
    }
    // Right after, the database answers a search.
    let after = enqueue(&ferry, "hog-db", json!({ "like": "%b" }), 1).await;
    run_all(&ferry, 4).await;
    let after = job(&ferry, after).await;
    assert_eq!(after.state, JobState::Done, "{after:?}");
    assert_eq!(after.result.as_deref(), Some(r#"{"found":10}"#));
    // On PostgreSQL, no statement of the searches is left running.
    if ferry.store().dialect() == Dialect::Postgres {
        assert_eq!(running_searches(&ferry).await, 0);
    }
}

/// Statements on `records` still running for this test's database.
async fn running_searches(ferry: &Ferry) -> i64 {
    use sqlx::Connection;
    let url = ferry.store().url();
    let app = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("application_name="))
        .expect("the test database URL names the application");
    let mut admin = sqlx::PgConnection::connect(&postgres_url().unwrap())
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 \
         AND state = 'active' AND query LIKE '%FROM records%'",
    )
    .bind(app)
    .fetch_one(&mut admin)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_the_database_rejects_fails_for_good() {
    // The operator lifted the bound that would have refused it first.
    let (_dir, ferry) = hostile_lab_with(|c| {
        limits(c);
        c.guest_queries.max_one_of = 100_000;
    })
    .await;
    // Over SQLite's 32,766 variables, and PostgreSQL's 65,535 parameters.
    let too_many = enqueue(&ferry, "hog-db", json!({ "one_of": 70_000 }), 1).await;
    // PostgreSQL takes no NUL character in text; SQLite does.
    let nul = enqueue(&ferry, "hog-db", json!({ "eq": "a\u{0}b" }), 1).await;
    run_all(&ferry, 2).await;
    let error = final_error(&job(&ferry, too_many).await);
    assert!(
        error.contains("too many") || error.contains("too large"),
        "{error}"
    );
    let nul = job(&ferry, nul).await;
    if ferry.store().dialect() == Dialect::Postgres {
        let error = final_error(&nul);
        assert!(error.contains("database error"), "{error}");
    } else {
        assert_eq!(nul.state, JobState::Done, "{nul:?}");
    }
}
