//! What every source test needs: the `hostile` lab with a source bound to its
//! `messages` listener (each message `{"n": N}` becomes a run of `ok`), names
//! no other test (or CI run) uses, the checks that every message became
//! exactly one job, `kill -9` rounds of the consuming process, and a TCP proxy
//! that cuts a broker's connections.

use ferry::Ferry;
use ferry::store::{JobFilter, JobState, SourceRow};
use ferry::triggers::sources::{SourceKind, SourceSettings, SourceSpec, manage};
use ferry_tests::{eventually, hostile_lab, spawn_worker};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub use ferry_tests::proxy::TcpProxy;

/// A name no other test, process or earlier run uses: `PREFIX_PID_N_RANDOM`
/// (queues, streams and subjects outlive a test on a shared broker).
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}_{:08x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    )
}

/// The `hostile` lab (instance `lab`) with source `messages` of `kind`.
pub async fn lab_with_source(
    kind: SourceKind,
    settings: SourceSettings,
) -> (TempDir, Ferry, SourceRow) {
    let (dir, ferry) = hostile_lab().await;
    let source = manage::add(
        ferry.store(),
        ferry.modules(),
        &SourceSpec {
            instance: "lab".into(),
            listener: "messages".into(),
            kind,
            settings,
            max_pending: None,
        },
        "cli",
    )
    .await
    .expect("add the source");
    (dir, ferry, source)
}

/// Run the sources of `ferry` in this process until the token is cancelled.
pub fn run_sources(ferry: &Ferry) -> CancellationToken {
    let stop = CancellationToken::new();
    let config = ferry::triggers::sources::SourcesConfig {
        store: ferry.store().clone(),
        modules: ferry.modules().clone(),
        key_file: ferry.engine().config().secret_key_file.clone(),
        node: ferry::queue::node_name(None),
    };
    tokio::spawn(ferry::triggers::sources::run(config, stop.clone()));
    stop
}

/// The body of message `n`.
pub fn body(n: u64) -> Vec<u8> {
    format!(r#"{{"n": {n}}}"#).into_bytes()
}

/// Jobs of instance `lab` (any state).
pub async fn lab_jobs(ferry: &Ferry) -> Vec<ferry::store::JobRow> {
    ferry
        .store()
        .list_jobs(&JobFilter {
            instance: Some("lab".into()),
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .expect("list jobs")
}

/// Wait until instance `lab` has `n` jobs stored.
pub async fn wait_for_jobs(ferry: &Ferry, n: usize, limit: Duration) {
    eventually(limit, &format!("{n} jobs are stored"), async || {
        lab_jobs(ferry).await.len() >= n
    })
    .await;
}

/// Messages `0..n` each became exactly one job, and every job is done.
pub async fn assert_each_message_once_and_done(ferry: &Ferry, n: u64) {
    let jobs = lab_jobs(ferry).await;
    let mut seen = BTreeSet::new();
    for job in &jobs {
        let payload: serde_json::Value = serde_json::from_str(&job.payload).expect("payload JSON");
        let number = payload["n"].as_u64().expect("payload n");
        assert!(seen.insert(number), "message {number} became two jobs");
        assert_eq!(job.state, JobState::Done, "job {} ({number})", job.id);
    }
    let missing: Vec<u64> = (0..n).filter(|i| !seen.contains(i)).take(10).collect();
    assert!(missing.is_empty(), "messages lost, e.g. {missing:?}");
    assert_eq!(jobs.len() as u64, n, "jobs stored");
}

/// How far `ferry` is: jobs stored plus jobs done (grows while messages are
/// taken and while jobs run).
async fn progress(ferry: &Ferry) -> u64 {
    let jobs = lab_jobs(ferry).await;
    let done = jobs.iter().filter(|j| j.state == JobState::Done).count();
    (jobs.len() + done) as u64
}

/// Run `ferry worker` processes on `dir`/`ferry` (which consume the sources
/// and run the jobs), killing each with SIGKILL `rounds` times, each time at
/// a random point after it made some progress (took messages or ran jobs),
/// then one last worker until every one of `n` messages is a done job.
pub async fn kill_nine_rounds(dir: &std::path::Path, ferry: &Ferry, rounds: usize, n: u64) {
    for round in 0..rounds {
        let mut worker = spawn_worker(dir, ferry, &["--concurrency", "4"]);
        // Let it take some messages or run some jobs, then kill it without warning.
        let before = progress(ferry).await;
        let wait = Duration::from_millis(300 + fastrand::u64(..1_200));
        let start = std::time::Instant::now();
        loop {
            let now = progress(ferry).await;
            let finished = now >= 2 * n;
            if finished || (start.elapsed() >= wait && now > before) {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.kill().expect("kill -9");
        let _ = worker.wait();
        eprintln!(
            "round {}: killed with {} jobs stored",
            round + 1,
            lab_jobs(ferry).await.len()
        );
    }
    let mut worker = spawn_worker(dir, ferry, &["--concurrency", "4"]);
    eventually(
        Duration::from_secs(300),
        "every message is a done job",
        async || {
            let jobs = lab_jobs(ferry).await;
            jobs.len() as u64 >= n && jobs.iter().all(|j| j.state == JobState::Done)
        },
    )
    .await;
    worker.kill().expect("stop the last worker");
    let _ = worker.wait();
}
