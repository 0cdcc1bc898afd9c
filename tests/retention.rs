//! Retention: finished jobs older than an age are forgotten with their logs
//! (by an operator with `ferry jobs prune`, the API, or a worker on its
//! own); unfinished jobs, recent ones and cursors are kept.

use ferry::Ferry;
use ferry::admin::{Admin, PruneRequest};
use ferry::queue::WorkerConfig;
use ferry::store::{JobState, NewJob, now_ms};
use ferry_tests::*;
use serde_json::json;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// Make the finished jobs `ids` (and their log lines) `days` old, as if the
/// queue had run them that long ago.
async fn age(ferry: &Ferry, ids: &[i64], days: i64) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(ferry.store().url()).await.unwrap();
    for id in ids {
        sqlx::query("UPDATE jobs SET finished_at = finished_at - $1 WHERE id = $2")
            .bind(days * DAY_MS)
            .bind(id)
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
}

/// Run `n` jobs that each leave a log line; their ids.
async fn run_logged_jobs(ferry: &Ferry, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let payload = json!({ "text": format!("line {i}") });
        ids.push(
            ferry
                .enqueue(&NewJob::new("lab", "inject", &payload))
                .await
                .unwrap(),
        );
    }
    drain(ferry, |_| {}).await.unwrap();
    for id in &ids {
        assert_eq!(ferry.store().job(*id).await.unwrap().state, JobState::Done);
        assert!(!ferry.store().job_logs(*id).await.unwrap().is_empty());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_forgets_old_finished_jobs_with_their_logs_and_keeps_the_rest() {
    let (_dir, ferry) = hostile_lab().await;
    let old = run_logged_jobs(&ferry, 7).await;
    let recent = run_logged_jobs(&ferry, 2).await;
    age(&ferry, &old, 40).await;
    // A job that has not run yet, enqueued long ago, is kept whatever its age.
    let mut later = NewJob::new("lab", "ok", &json!({}));
    later.eta = Some(now_ms() + DAY_MS);
    let pending = ferry.enqueue(&later).await.unwrap();
    let admin = Admin::Local(ferry.clone());

    let month = 30 * DAY_MS as u64;
    let counted = admin
        .prune(
            &PruneRequest {
                older_than_ms: month,
                dry_run: true,
            },
            "test",
        )
        .await
        .unwrap();
    assert_eq!(counted.pruned.jobs, 7, "{counted:?}");
    assert!(counted.pruned.log_lines >= 7, "{counted:?}");
    assert_eq!(
        ferry.store().job(old[0]).await.unwrap().state,
        JobState::Done,
        "a dry run forgets nothing"
    );

    let pruned = admin
        .prune(
            &PruneRequest {
                older_than_ms: month,
                dry_run: false,
            },
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        pruned.pruned, counted.pruned,
        "the dry run counted what the prune forgot"
    );
    for id in &old {
        assert!(
            ferry.store().job(*id).await.is_err(),
            "job {id} is forgotten"
        );
        assert!(
            ferry.store().job_logs(*id).await.unwrap().is_empty(),
            "and its log"
        );
    }
    for id in &recent {
        assert_eq!(ferry.store().job(*id).await.unwrap().state, JobState::Done);
        assert!(!ferry.store().job_logs(*id).await.unwrap().is_empty());
    }
    assert_eq!(
        ferry.store().job(pending).await.unwrap().state,
        JobState::Pending
    );
    // What the jobs wrote stays: the notes they linked and checkpointed.
    assert_eq!(ferry.store().checkpoints().await.unwrap().len(), 9);

    // Said in the audit log, with the counts.
    let audit = ferry::audit::list(ferry.store(), &Default::default())
        .await
        .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == ferry::admin::JOBS_PRUNE)
        .expect("audited");
    assert!(
        entry.detail.as_deref().unwrap().contains("\"jobs\":7"),
        "{entry:?}"
    );

    // Nothing is left to forget; an age under an hour is refused.
    let again = admin
        .prune(
            &PruneRequest {
                older_than_ms: month,
                dry_run: false,
            },
            "test",
        )
        .await
        .unwrap();
    assert!(again.pruned.is_empty(), "{again:?}");
    let slip = admin
        .prune(
            &PruneRequest {
                older_than_ms: 30_000,
                dry_run: false,
            },
            "test",
        )
        .await
        .unwrap_err();
    assert!(slip.to_string().contains("at least an hour"), "{slip}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_goes_batch_by_batch_until_nothing_old_is_left() {
    let (_dir, ferry) = hostile_lab().await;
    let old = run_logged_jobs(&ferry, 11).await;
    age(&ferry, &old, 2).await;
    let before = now_ms() - DAY_MS;
    let pruned = ferry
        .store()
        .prune_before(before, 3, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pruned.jobs, 11, "four batches of at most 3: {pruned:?}");
    assert!(
        ferry
            .store()
            .prunable_before(before)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_worker_forgets_what_is_older_than_its_retention() {
    let (_dir, ferry) = hostile_lab().await;
    let old = run_logged_jobs(&ferry, 3).await;
    let kept = run_logged_jobs(&ferry, 1).await;
    age(&ferry, &old, 8).await;
    let config = WorkerConfig {
        retention: Some(Duration::from_secs(7 * 86_400)),
        ..Default::default()
    };
    let stop = config.shutdown.clone();
    let worker = {
        let ferry = ferry.clone();
        tokio::spawn(async move { ferry.run_worker(&config, |_| {}).await })
    };
    eventually(
        Duration::from_secs(60),
        "the worker prunes at start",
        async || ferry.store().job(old[2]).await.is_err(),
    )
    .await;
    stop.cancel();
    worker.await.unwrap().unwrap();
    for id in &old {
        assert!(
            ferry.store().job(*id).await.is_err(),
            "job {id} is forgotten"
        );
    }
    assert_eq!(
        ferry.store().job(kept[0]).await.unwrap().state,
        JobState::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_jobs_prune_says_what_it_forgot() {
    let (_dir, ferry) = hostile_lab().await;
    let old = run_logged_jobs(&ferry, 2).await;
    age(&ferry, &old, 31).await;
    let (ok, out, err) = ferry_cli(
        &ferry,
        &[],
        &["jobs", "prune", "--older-than", "30d", "--dry-run"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("would forget 2 finished job(s)"), "{out}");
    let (ok, out, err) = ferry_cli(
        &ferry,
        &[],
        &["--json", "jobs", "prune", "--older-than", "30d"],
    );
    assert!(ok, "{err}");
    let outcome: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(outcome["jobs"], 2, "{out}");
    assert_eq!(outcome["dry_run"], false, "{out}");
    let (ok, _, err) = ferry_cli(&ferry, &[], &["jobs", "prune", "--older-than", "30s"]);
    assert!(!ok);
    assert!(err.contains("at least an hour"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_prunes_for_managers_only() {
    let (_dir, ferry) = hostile_lab().await;
    let old = run_logged_jobs(&ferry, 1).await;
    age(&ferry, &old, 3).await;
    let url = start_server(&ferry, Default::default()).await;
    let client = reqwest::Client::new();
    let prune = async |role, body: serde_json::Value| {
        let token = api_token(&ferry, role).await;
        let response = client
            .post(format!("{url}/api/jobs/prune"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    };
    let day = json!({ "older_than_ms": DAY_MS });
    let (status, _) = prune(ferry::tokens::Role::Developer, day.clone()).await;
    assert_eq!(status, 403, "a developer may not forget history");
    let (status, body) = prune(ferry::tokens::Role::Manager, json!({ "older": 1 })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("older_than_ms"), "{body}");
    let (status, body) = prune(ferry::tokens::Role::Manager, day).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"jobs\":1"), "{body}");
    assert!(ferry.store().job(old[0]).await.is_err());
}
