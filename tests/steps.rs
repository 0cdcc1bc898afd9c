//! Jobs made of steps (contract 0.2): what the store keeps of a step between
//! tries (position, counts, warnings), that a chunk's commit is all or
//! nothing and only under the job's lease, and what operators do with a job
//! made of steps (pause, resume, stop at a chunk boundary, requeue). Run on
//! SQLite, and on PostgreSQL with `FERRY_TEST_DATABASE`.

use ferry::Ferry;
use ferry::store::{
    ChunkCommit, Halt, JobState, LocalWrite, MAX_STEP_WARNINGS, NewJob, StepStatus,
};
use ferry_tests::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// A job of instance `acme` (not run: the tests drive its steps by hand),
/// claimed and started; its id and lease token.
async fn claimed_job(ferry: &Ferry) -> (i64, i64) {
    let id = ferry
        .store()
        .enqueue(&NewJob::new("acme", "import-products", &json!({})))
        .await
        .unwrap();
    let jobs = claim(ferry, 1, Duration::from_secs(60)).await;
    assert_eq!(jobs.len(), 1);
    let token = jobs[0].lease_token.unwrap();
    let started = ferry
        .store()
        .mark_started(&[(id, token, ferry::store::now_ms())])
        .await
        .unwrap();
    assert_eq!(started, vec![id]);
    (id, token)
}

fn product(n: usize) -> LocalWrite {
    LocalWrite::CreateLinked {
        model: "product".into(),
        values: json!({"name": format!("p{n}"), "list_price": n}),
        external_id: format!("ext-{n}"),
        remote_version: Some(format!("v{n}")),
    }
}

/// Commit chunk `chunk` of step `fetch`: `writes`, reading `read` items.
async fn commit(
    ferry: &Ferry,
    (id, token): (i64, i64),
    chunk: i64,
    next: Option<&Value>,
    writes: &[LocalWrite],
    warnings: &[(Value, String)],
) -> bool {
    let c = ChunkCommit {
        job_id: id,
        token,
        instance: "acme",
        step: "fetch",
        chunk,
        next,
        read: (writes.len() + warnings.len()) as i64,
        written: writes.len() as i64,
        filtered: 0,
        warnings,
        writes,
        cursors: &[],
        messages: &[],
    };
    ferry
        .store()
        .commit_chunk(&c, &|_| Vec::new())
        .await
        .expect("commit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_commits_its_records_links_position_counts_and_warnings_together() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    let row = store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap()
        .expect("the claim holds");
    assert_eq!(
        (row.status, row.chunks, row.position),
        (StepStatus::Started, 0, None)
    );

    let writes: Vec<LocalWrite> = (0..3).map(product).collect();
    let bad = [(json!({"id": 9}), "negative list_price".to_string())];
    assert!(commit(&ferry, job, 0, Some(&json!(3)), &writes, &bad).await);

    assert_eq!(store.count_records("product").await.unwrap(), 3);
    let link = store
        .link_by_external("acme", "product", "ext-1")
        .await
        .unwrap()
        .expect("linked");
    assert_eq!(link.remote_version.as_deref(), Some("v1"));
    assert_eq!(
        link.synced_revision,
        Some(1),
        "synced at the new record's revision"
    );
    let steps = store.job_steps(job.0).await.unwrap();
    assert_eq!(steps.len(), 1);
    let s = &steps[0];
    assert_eq!((s.chunks, s.read, s.written, s.skipped), (1, 4, 3, 1));
    assert_eq!(s.position, Some(json!(3)));
    assert_eq!(s.status, StepStatus::Started);
    let warnings = store.step_warnings(job.0, 10).await.unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].item, json!({"id": 9}));
    assert_eq!(warnings[0].reason, "negative list_price");
    assert_eq!(
        ferry.store().job(job.0).await.unwrap().progress_done,
        Some(4)
    );

    // The reader is done: the step completes with its last chunk.
    assert!(commit(&ferry, job, 1, None, &[product(3)], &[]).await);
    let s = &store.job_steps(job.0).await.unwrap()[0];
    assert_eq!(s.status, StepStatus::Completed);
    assert_eq!((s.chunks, s.written), (2, 4));
    assert_eq!(s.position, Some(json!(3)), "the last position is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_whose_claim_was_lost_or_whose_write_fails_stores_nothing() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    assert!(
        commit(
            &ferry,
            job,
            0,
            Some(&json!(2)),
            &[product(0), product(1)],
            &[]
        )
        .await
    );

    // Another claim's token (a worker whose lease was rescued): fenced.
    let stale = (job.0, job.1 + 1);
    let warned = [(json!(5), "x".to_string())];
    assert!(!commit(&ferry, stale, 1, Some(&json!(4)), &[product(2)], &warned).await);
    assert!(
        store
            .begin_step(stale.0, stale.1, "fetch", 0, "items")
            .await
            .unwrap()
            .is_none()
    );

    // A write that fails (a record that does not exist) rolls the chunk back.
    let missing = LocalWrite::Write {
        model: "product".into(),
        id: 999_999,
        values: json!({"name": "x"}),
        synced_from: None,
    };
    let c = ChunkCommit {
        job_id: job.0,
        token: job.1,
        instance: "acme",
        step: "fetch",
        chunk: 1,
        next: Some(&json!(4)),
        read: 2,
        written: 2,
        filtered: 0,
        warnings: &warned,
        writes: &[product(2), missing],
        cursors: &[],
        messages: &[],
    };
    assert!(store.commit_chunk(&c, &|_| Vec::new()).await.is_err());

    assert_eq!(store.count_records("product").await.unwrap(), 2);
    assert!(store.step_warnings(job.0, 10).await.unwrap().is_empty());
    let s = &store.job_steps(job.0).await.unwrap()[0];
    assert_eq!(
        (s.chunks, s.read, s.position.clone()),
        (1, 2, Some(json!(2)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_past_the_bound_per_step_are_counted_not_kept() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    let over = MAX_STEP_WARNINGS as usize + 25;
    let warnings: Vec<(Value, String)> = (0..over)
        .map(|n| (json!({"id": n}), "invalid".to_string()))
        .collect();
    assert!(commit(&ferry, job, 0, Some(&json!(over)), &[], &warnings).await);
    let (kept, dropped) = store.count_step_warnings(job.0).await.unwrap();
    assert_eq!((kept, dropped), (MAX_STEP_WARNINGS, 25));
    let s = &store.job_steps(job.0).await.unwrap()[0];
    assert_eq!(s.skipped, over as i64, "every skipped item is counted");
    let first = store.step_warnings(job.0, 2).await.unwrap();
    assert_eq!(first[0].item, json!({"id": 0}), "the first ones are kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_job_waits_unclaimed_until_resumed_and_continues_from_its_position() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    assert!(commit(&ferry, job, 0, Some(&json!(1)), &[product(0)], &[]).await);

    // Asked while it runs: the driver sees it at the next chunk boundary.
    assert_eq!(store.pause_job(job.0).await.unwrap(), JobState::Started);
    assert_eq!(
        store.step_halt(job.0, job.1).await.unwrap(),
        Some(Halt::Pause)
    );
    assert!(
        store
            .halt_job_at_step(job.0, job.1, "fetch", Halt::Pause, "paused by an operator")
            .await
            .unwrap()
    );
    assert_eq!(store.job(job.0).await.unwrap().state, JobState::Paused);
    assert_eq!(
        store.job_steps(job.0).await.unwrap()[0].status,
        StepStatus::Paused
    );
    assert!(
        claim(&ferry, 5, Duration::from_secs(60)).await.is_empty(),
        "no worker claims it"
    );
    // Its old claim can write nothing more.
    assert!(!commit(&ferry, job, 1, None, &[product(1)], &[]).await);

    assert_eq!(store.resume_job(job.0).await.unwrap(), JobState::Pending);
    let again = claim(&ferry, 5, Duration::from_secs(60)).await;
    assert_eq!(again.len(), 1);
    let token = again[0].lease_token.unwrap();
    let row = store
        .begin_step(job.0, token, "fetch", 0, "items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.chunks, row.position),
        (StepStatus::Started, 1, Some(json!(1)))
    );
    assert!(
        store.resume_job(job.0).await.is_err(),
        "only a paused job resumes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_stopped_at_a_chunk_boundary_is_cancelled_and_a_requeue_resumes_it() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    assert!(commit(&ferry, job, 0, Some(&json!(1)), &[product(0)], &[]).await);
    assert_eq!(store.stop_job(job.0).await.unwrap(), JobState::Started);
    assert_eq!(
        store.step_halt(job.0, job.1).await.unwrap(),
        Some(Halt::Stop)
    );
    assert!(
        store
            .halt_job_at_step(job.0, job.1, "fetch", Halt::Stop, "stopped by an operator")
            .await
            .unwrap()
    );
    let stopped = store.job(job.0).await.unwrap();
    assert_eq!(stopped.state, JobState::Cancelled);
    assert_eq!(
        store.job_steps(job.0).await.unwrap()[0].status,
        StepStatus::Stopped
    );

    // Requeued, it resumes where it stopped.
    store.requeue_job(job.0).await.unwrap();
    let again = claim(&ferry, 1, Duration::from_secs(60)).await;
    let token = again[0].lease_token.unwrap();
    let row = store
        .begin_step(job.0, token, "fetch", 0, "items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.chunks, row.read), (1, 1));

    // Once every step completed, a requeue runs the job from its first step.
    assert!(commit(&ferry, (job.0, token), 1, None, &[product(1)], &[]).await);
    store.set_job_done(job.0, None).await.unwrap();
    store.requeue_job(job.0).await.unwrap();
    assert!(store.job_steps(job.0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_job_pauses_at_once_and_a_paused_one_can_be_stopped() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let id = store
        .enqueue(&NewJob::new("acme", "export-products", &json!({})))
        .await
        .unwrap();
    assert_eq!(store.pause_job(id).await.unwrap(), JobState::Paused);
    assert_eq!(store.count_jobs(JobState::Paused).await.unwrap(), 1);
    assert!(claim(&ferry, 5, Duration::from_secs(60)).await.is_empty());
    assert_eq!(store.stop_job(id).await.unwrap(), JobState::Cancelled);
    assert!(
        store.pause_job(id).await.is_err(),
        "a cancelled job does not pause"
    );

    // A plain job running now has no chunk boundary to pause at.
    let (plain, _) = claimed_job(&ferry).await;
    let refused = store.pause_job(plain).await.unwrap_err().to_string();
    assert!(refused.contains("ferry jobs stop"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_component_installs_and_imports_next_to_a_0_2_one() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shop-0.1.0");
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["shop"]).await;
    // The 0.1 build under another name, so that both are installed at once.
    let manifest = std::fs::read_to_string(fixture.join("connector.toml"))
        .unwrap()
        .replace("name = \"shop\"", "name = \"shop-old\"")
        .replace("parent = \"shop\"", "parent = \"shop-old\"");
    let renamed = dir.path().join("shop-old.toml");
    std::fs::write(&renamed, manifest).unwrap();
    ferry
        .install(&renamed, &fixture.join("shop.wasm"))
        .await
        .expect("the 0.1 component installs beside the 0.2 one");
    let (_old_shop, old_url) = start_shop(20, 0, 0).await.unwrap();
    let (_new_shop, new_url) = start_shop(30, 0, 0).await.unwrap();
    ferry
        .add_instance("old", "shop-old", shop_params("shop-old", &old_url))
        .await
        .unwrap();
    ferry
        .add_instance("new", "shop", shop_params("shop", &new_url))
        .await
        .unwrap();
    enqueue_import(&ferry, "old", "product").await.unwrap();
    enqueue_import(&ferry, "new", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    for (instance, n) in [("old", 20), ("new", 30)] {
        let links = ferry
            .store()
            .search_links(Some(instance), Some("product"), None, None, 0)
            .await
            .unwrap();
        assert_eq!(links.len(), n, "products imported through `{instance}`");
    }
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_shows_steps_and_warnings_and_pauses_and_resumes_jobs() {
    use ferry::admin::{Admin, JobAction, Remote};
    let (_dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    let warned = [(json!({"id": 4}), "`name` is empty".to_string())];
    assert!(commit(&ferry, job, 0, Some(&json!(2)), &[product(0)], &warned).await);

    let url = start_server(&ferry, ferry::serve::ServeOptions::default()).await;
    let viewer = api_token(&ferry, ferry::tokens::Role::Viewer).await;
    let developer = api_token(&ferry, ferry::tokens::Role::Developer).await;
    let as_viewer = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(viewer)));
    let as_developer = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(developer)));

    let steps = as_viewer.job_steps(job.0).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].step.as_str(), steps[0].read, steps[0].skipped),
        ("fetch", 2, 1)
    );
    assert_eq!(steps[0].position, Some(json!(2)));
    let warnings = as_viewer.job_warnings(job.0, 10).await.unwrap();
    assert_eq!((warnings.kept, warnings.dropped), (1, 0));
    assert_eq!(warnings.warnings[0].reason, "`name` is empty");
    assert!(
        as_viewer.act(job.0, JobAction::Pause).await.is_err(),
        "a viewer may not pause"
    );

    let paused = as_developer.act(job.0, JobAction::Pause).await.unwrap();
    assert_eq!(
        paused.state,
        JobState::Started,
        "asked to pause at its next chunk"
    );
    assert_eq!(
        store.step_halt(job.0, job.1).await.unwrap(),
        Some(Halt::Pause)
    );
    let resumed = as_developer.act(job.0, JobAction::Resume).await.unwrap();
    assert_eq!(resumed.state, JobState::Started, "no longer asked");
    assert_eq!(
        store.step_halt(job.0, job.1).await.unwrap(),
        Some(Halt::Run)
    );
    let error = as_developer
        .act(job.0, JobAction::Resume)
        .await
        .unwrap_err();
    assert_eq!(ferry::admin::http_status(&error), 409, "{error}");
    assert_eq!(
        ferry::admin::http_status(&as_viewer.job_steps(999_999).await.unwrap_err()),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_jobs_show_lists_the_steps_and_their_warnings() {
    let (dir, ferry) = fresh(|_| {}).await;
    let job = claimed_job(&ferry).await;
    let store = ferry.store();
    store
        .begin_step(job.0, job.1, "fetch", 0, "items")
        .await
        .unwrap();
    let warned = [(json!({"id": 4}), "`name` is empty".to_string())];
    assert!(commit(&ferry, job, 0, Some(&json!(2)), &[product(0)], &warned).await);
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    let show = |json: bool| {
        let mut command = std::process::Command::new(&bin);
        command
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--database")
            .arg(ferry.store().url());
        if json {
            command.arg("--json");
        }
        let out = command
            .args(["jobs", "show", &job.0.to_string(), "--steps", "--warnings"])
            .output()
            .expect("run ferry");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = show(false);
    assert!(
        text.contains("fetch") && text.contains("items") && text.contains("started"),
        "{text}"
    );
    assert!(text.contains("1 warnings kept; showing 1"), "{text}");
    assert!(text.contains("`name` is empty"), "{text}");
    let data: Value = serde_json::from_str(&show(true)).unwrap();
    assert_eq!(data["steps"][0]["read"], json!(2));
    assert_eq!(data["warnings"]["warnings"][0]["item"], json!({"id": 4}));
}
