//! Worker processes under stress: killed with `kill -9` mid-run, sharing one
//! PostgreSQL database, losing their database connections. Nothing accepted is
//! lost, nothing runs twice at once, no local record is duplicated.

use ferry::Ferry;
use ferry::queue::WorkerConfig;
use ferry::store::{JobFilter, JobState, NewJob};
use ferry_tests::*;
use serde_json::json;
use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

async fn count(ferry: &Ferry, state: JobState) -> i64 {
    ferry.store().count_jobs(state).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_import_loses_nothing_and_duplicates_nothing() {
    let (dir, ferry, _shop) = shop_setup("shop@2.0", 1000, 0, 0).await;
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let mut worker = spawn_worker(dir.path(), &ferry, &["--lease", "2s", "--concurrency", "4"]);
    // Let it get well into the 1 001 jobs, then kill it without warning.
    eventually(Duration::from_secs(300), "100 jobs done", async || {
        count(&ferry, JobState::Done).await >= 100
    })
    .await;
    worker.kill().expect("kill -9");
    worker.wait().unwrap();
    let in_flight =
        count(&ferry, JobState::Enqueued).await + count(&ferry, JobState::Started).await;
    let done_before = count(&ferry, JobState::Done).await;
    assert!(
        done_before < 1001,
        "killed before the end ({done_before} done)"
    );

    // A new worker rescues what the dead one held once its lease expires.
    let mut worker = spawn_worker(
        dir.path(),
        &ferry,
        &["--lease", "2s", "--until-idle", "--wait-leases"],
    );
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut worker, Duration::from_secs(600)))
            .await
            .unwrap();
    assert!(status.success());
    let jobs = ferry
        .store()
        .list_jobs(&JobFilter {
            limit: 5000,
            ..Default::default()
        })
        .await
        .unwrap();
    let not_done: Vec<_> = jobs.iter().filter(|j| j.state != JobState::Done).collect();
    assert!(
        not_done.is_empty(),
        "{} job(s) not done, e.g. {:?}",
        not_done.len(),
        not_done.first()
    );
    // The batch job may itself have been killed mid-run: its next try
    // enqueues again the records the first one had queued and were imported
    // meanwhile (identity keys only keep out a second *waiting* job). Every
    // record is then imported once per batch run at most.
    let batch_runs = jobs
        .iter()
        .find(|j| j.name == "import-batch")
        .map(|j| j.attempts)
        .unwrap_or_default();
    let mut per_record: HashMap<String, i64> = HashMap::new();
    for j in jobs.iter().filter(|j| j.name == "import-record") {
        *per_record
            .entry(j.identity_key.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(per_record.len(), 1000, "every record has its import job");
    assert!(
        per_record.values().all(|n| *n <= batch_runs),
        "no record queued twice by one batch run ({batch_runs} run(s))"
    );
    assert_eq!(
        ferry.store().count_records("product").await.unwrap(),
        1000,
        "no product imported twice"
    );
    let links = ferry
        .store()
        .search_links(Some("acme"), Some("product"), None, None, 0)
        .await
        .unwrap();
    assert_eq!(links.len(), 1000);
    eprintln!("killed with {in_flight} job(s) in flight after {done_before} done");
}

/// Jobs of the `record-run` kind on PostgreSQL, with the run records they left.
async fn runs_by_job(ferry: &Ferry) -> HashMap<u64, Vec<(String, u64)>> {
    let mut runs: HashMap<u64, Vec<(String, u64)>> = HashMap::new();
    for r in ferry
        .store()
        .search_records("run", &[], None, 0)
        .await
        .unwrap()
    {
        let job = r.values["job"].as_u64().unwrap();
        let phase = r.values["phase"].as_str().unwrap().to_string();
        runs.entry(job)
            .or_default()
            .push((phase, r.values["at"].as_u64().unwrap()));
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_on_postgresql_never_run_a_job_twice_at_once() {
    if postgres_url().is_none() {
        eprintln!("skipped: set FERRY_TEST_DATABASE to a PostgreSQL URL (CI does)");
        return;
    }
    let (dir, ferry) = hostile_lab_with(|_| {}).await;
    let jobs: Vec<NewJob> = (0..300)
        .map(|_| NewJob::new("lab", "record-run", &json!({ "ms": 5 })))
        .collect();
    ferry.store().enqueue_many(&jobs).await.unwrap();
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    let args = ["--until-idle", "--concurrency", "4", "--batch", "8"];
    let mut a = spawn_worker(dir.path(), &ferry, &args);
    let mut b = spawn_worker(dir.path(), &ferry, &args);
    let (a, b) = tokio::task::spawn_blocking(move || {
        (
            wait_exit(&mut a, Duration::from_secs(600)),
            wait_exit(&mut b, Duration::from_secs(600)),
        )
    })
    .await
    .unwrap();
    assert!(a.success() && b.success());
    assert_eq!(count(&ferry, JobState::Done).await, 300);
    let runs = runs_by_job(&ferry).await;
    assert_eq!(runs.len(), 300, "every job ran");
    for (job, mut events) in runs {
        events.sort_by_key(|(_, at)| *at);
        // start, end, start, end…: never two starts before an end.
        let phases: Vec<&str> = events.iter().map(|(p, _)| p.as_str()).collect();
        assert!(
            phases.chunks(2).all(|pair| pair == ["start", "end"]),
            "job {job} ran twice at once: {phases:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_reconnect_when_postgresql_drops_their_connections() {
    let Some(base) = postgres_url() else {
        eprintln!("skipped: set FERRY_TEST_DATABASE to a PostgreSQL URL (CI does)");
        return;
    };
    let (_dir, ferry) = hostile_lab_with(|_| {}).await;
    let jobs: Vec<NewJob> = (0..200)
        .map(|_| NewJob::new("lab", "record-run", &json!({ "ms": 20 })))
        .collect();
    ferry.store().enqueue_many(&jobs).await.unwrap();
    // This test's connections only: they are the ones in its own schema.
    let schema = ferry
        .store()
        .url()
        .rsplit("search_path%3D")
        .next()
        .unwrap()
        .to_string();
    let worker = {
        let ferry = ferry.clone();
        tokio::spawn(async move {
            let config = WorkerConfig {
                until_idle: true,
                retry_base: Duration::from_millis(200),
                ..Default::default()
            };
            ferry.run_worker(&config, |_| {}).await
        })
    };
    eventually(Duration::from_secs(120), "20 jobs done", async || {
        count(&ferry, JobState::Done).await >= 20
    })
    .await;
    let killed = terminate_connections(&base, &schema).await;
    assert!(killed > 0, "no connection of this test was found to kill");
    let stats = worker.await.unwrap().expect("the worker survives");
    assert_eq!(count(&ferry, JobState::Done).await, 200, "{stats:?}");
    assert_eq!(runs_by_job(&ferry).await.len(), 200);
}

/// `pg_terminate_backend` every connection whose search path is `schema`.
async fn terminate_connections(base: &str, schema: &str) -> i64 {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(base).await.unwrap();
    // Each test's connections carry its schema as their application name.
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend' AND application_name = $1",
    )
    .bind(schema)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    for pid in &pids {
        let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    }
    pids.len() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_jobs_finish_and_gives_back_the_rest() {
    let (dir, ferry) = hostile_lab_with(|_| {}).await;
    let store = ferry.store();
    let short = ferry
        .enqueue(&NewJob::new("lab", "record-run", &json!({ "ms": 1500 })))
        .await
        .unwrap();
    let endless = ferry
        .enqueue(&NewJob::new("lab", "until-stopped", &json!({})))
        .await
        .unwrap();
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    let mut worker = spawn_worker(dir.path(), &ferry, &["--concurrency", "2", "--grace", "5s"]);
    eventually(Duration::from_secs(120), "both jobs started", async || {
        let runs = runs_by_job(&ferry).await;
        runs.contains_key(&(short as u64))
            && store.job(endless).await.unwrap().progress_done.unwrap_or(0) > 0
    })
    .await;
    let pid = worker.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut worker, Duration::from_secs(120)))
            .await
            .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        store.job(short).await.unwrap().state,
        JobState::Done,
        "finished within the grace period"
    );
    let given_back = store.job(endless).await.unwrap();
    assert_eq!(
        (given_back.state, given_back.attempts),
        (JobState::Pending, 0),
        "its try is not counted"
    );
    assert!(given_back.error.unwrap_or_default().contains("shut down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_job_does_not_hold_up_the_other_slots_or_maintenance() {
    let (_dir, ferry) = hostile_lab_with(|_| {}).await;
    let store = ferry.store();
    let slow = ferry
        .enqueue(&NewJob::new("lab", "until-stopped", &json!({})))
        .await
        .unwrap();
    // A job a dead worker claimed: its lease ends while the slow job runs,
    // so only maintenance done meanwhile rescues it.
    let mut first = NewJob::new("lab", "ok", &json!({ "orphan": true }));
    first.priority = 0;
    let orphan = ferry.enqueue(&first).await.unwrap();
    let claimed = claim(&ferry, 1, Duration::from_secs(3)).await;
    assert_eq!(claimed[0].id, orphan);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = {
        let (ferry, shutdown) = (ferry.clone(), shutdown.clone());
        tokio::spawn(async move {
            let config = WorkerConfig {
                concurrency: 4,
                shutdown,
                // Long enough that only a wake-up, not a poll, starts the
                // short jobs promptly; the test does not time that, though.
                poll_interval: Duration::from_secs(1),
                ..Default::default()
            };
            ferry.run_worker(&config, |_| {}).await
        })
    };
    eventually(Duration::from_secs(120), "the slow job runs", async || {
        store.job(slow).await.unwrap().progress_done.unwrap_or(0) > 0
    })
    .await;
    let mut short = enqueue_ok(&ferry, 20).await;
    short.push(orphan);
    eventually(
        Duration::from_secs(120),
        "the short jobs are done",
        async || {
            let mut all = true;
            for id in &short {
                all &= store.job(*id).await.unwrap().state == JobState::Done;
            }
            all
        },
    )
    .await;
    assert_eq!(
        store.job(slow).await.unwrap().state,
        JobState::Started,
        "the 21 short jobs finished while the slow one still ran"
    );
    store.stop_job(slow).await.unwrap();
    eventually(Duration::from_secs(120), "the slow job ends", async || {
        store.job(slow).await.unwrap().state == JobState::Done
    })
    .await;
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    assert_eq!(stats.done, 22, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_costs_a_try_only_to_the_job_it_was_running() {
    let (dir, ferry) = hostile_lab_with(|_| {}).await;
    let store = ferry.store();
    let mut first = NewJob::new("lab", "until-stopped", &json!({}));
    first.priority = 0;
    let running = ferry.enqueue(&first).await.unwrap();
    let short = enqueue_ok(&ferry, 10).await;
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    // One slot: the first job runs, the worker claims a few ahead (they
    // wait enqueued) and leaves the rest pending.
    let args = ["--concurrency", "1", "--lease", "2s"];
    let mut worker = spawn_worker(dir.path(), &ferry, &args);
    eventually(Duration::from_secs(120), "the first job runs", async || {
        store.job(running).await.unwrap().progress_done.unwrap_or(0) > 0
    })
    .await;
    let mut claimed_only = Vec::new();
    for id in &short {
        if store.job(*id).await.unwrap().state == JobState::Enqueued {
            claimed_only.push(*id);
        }
    }
    assert!(
        (1..10).contains(&claimed_only.len()),
        "a worker with one slot claims a few jobs ahead, not all ten: {claimed_only:?}"
    );
    worker.kill().expect("kill -9");
    worker.wait().unwrap();
    // Asked to stop, so that its next try ends at once.
    store.stop_job(running).await.unwrap();

    let args = ["--until-idle", "--wait-leases", "--lease", "2s"];
    let mut worker = spawn_worker(dir.path(), &ferry, &args);
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut worker, Duration::from_secs(300)))
            .await
            .unwrap();
    assert!(status.success());
    for id in &short {
        let job = store.job(*id).await.unwrap();
        assert_eq!(
            (job.state, job.attempts),
            (JobState::Done, 1),
            "job {id} only ran once and lost no try"
        );
    }
    for id in &claimed_only {
        let log = store.job_logs(*id).await.unwrap();
        assert!(
            log.iter()
                .any(|l| l.message.contains("stopped before starting it")
                    && l.message.contains("no try counted")),
            "{log:?}"
        );
    }
    let job = store.job(running).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 2), "{job:?}");
    let log = store.job_logs(running).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.message.contains("try 1 lost") && l.message.contains("while running it")),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_idle_stops_when_nothing_is_runnable_now_and_says_what_is_left() {
    let (dir, ferry) = hostile_lab_with(|_| {}).await;
    let store = ferry.store();
    // A retry due in ten seconds, and a job held by a worker that is gone.
    let mut retried = NewJob::new("lab", "fail-retryable", &json!({}));
    retried.retry_pattern = Some(ferry::store::RetryPattern::parse("1:10s").unwrap());
    let retried = ferry.enqueue(&retried).await.unwrap();
    let config = WorkerConfig {
        until_idle: true,
        ..Default::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await.unwrap();
    assert_eq!(
        (stats.retried, stats.done),
        (1, 0),
        "did not wait for the retry"
    );
    let held = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({})))
        .await
        .unwrap();
    assert_eq!(claim(&ferry, 1, Duration::from_secs(3)).await[0].id, held);

    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    let out = Command::new(&bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database", store.url(), "worker", "--until-idle"])
        .env("FERRY_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 done"), "{text}");
    assert!(text.contains("1 pending, the next due in"), "{text}");
    assert!(text.contains("1 held by worker test"), "{text}");
    assert!(text.contains("--wait-leases"), "{text}");

    // Asked to, it waits for the lease to expire, rescues the job and runs it.
    let config = WorkerConfig {
        until_idle: true,
        wait_leases: true,
        poll_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await.unwrap();
    assert_eq!(stats.done, 1, "{stats:?}");
    let job = store.job(held).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
    assert_eq!(store.job(retried).await.unwrap().state, JobState::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_runs_than_the_instance_pool_holds_wait_their_turn_instead_of_failing() {
    // 8 instances: 6 runs at once, the last 2 kept for their unit calls.
    let (_dir, ferry) = hostile_lab_with(|config| config.max_instances = 8).await;
    assert_eq!(ferry.engine().runs_at_once(), 6);
    let slow = json!({ "total": 3, "ms": 20 });
    for _ in 0..30 {
        let job = NewJob::new("lab", "count-slowly", &slow);
        ferry.enqueue(&job).await.unwrap();
    }
    let config = WorkerConfig {
        concurrency: 30,
        batch: 30,
        until_idle: true,
        ..Default::default()
    };
    let stats = ferry.run_worker(&config, |_| {}).await.unwrap();
    assert_eq!(
        (stats.done, stats.failed, stats.retried),
        (30, 0, 0),
        "a worker asked for 30 at once runs 6 at a time; no job fails for want of a slot"
    );

    // Direct runs (as webhooks and `ferry call` make them) wait as well.
    let runner = Arc::new(ferry.runner("lab").await.unwrap());
    let runs: Vec<_> = (0..20)
        .map(|_| {
            let (runner, payload) = (runner.clone(), slow.to_string());
            tokio::spawn(async move { runner.run_job("count-slowly", &payload).await })
        })
        .collect();
    for run in runs {
        let out = run.await.unwrap().unwrap();
        assert!(out.is_ok(), "a run waiting for a slot runs: {out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_holds_a_few_slots_worth_of_slow_jobs_and_leaves_the_rest_to_others() {
    let (_dir, ferry) = hostile_lab_with(|_| {}).await;
    let slow = json!({ "total": 3, "ms": 50 });
    for _ in 0..40 {
        ferry
            .enqueue(&NewJob::new("lab", "count-slowly", &slow))
            .await
            .unwrap();
    }
    // Both workers may hold up to the default 1 024 jobs: what they claim
    // ahead is what their two slots run in a few claims' round trips.
    let worker = |name: &str| {
        let (ferry, name) = (ferry.clone(), name.to_string());
        tokio::spawn(async move {
            let config = WorkerConfig {
                concurrency: 2,
                until_idle: true,
                name: Some(name),
                ..Default::default()
            };
            ferry.run_worker(&config, |_| {}).await.unwrap()
        })
    };
    let first = worker("first");
    eventually(Duration::from_secs(120), "a job starts", async || {
        count(&ferry, JobState::Started).await > 0
    })
    .await;
    let held = count(&ferry, JobState::Enqueued).await + count(&ferry, JobState::Started).await;
    assert!(
        (1..=10).contains(&held),
        "a worker with 2 slots holds its slots and 4 round trips' worth, not its batch: {held}"
    );
    let second = worker("second");
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first.done + second.done, 40, "{first:?} {second:?}");
    assert!(
        second.done > 0,
        "the worker that came second found jobs left: {first:?} {second:?}"
    );
}
