//! The operators' views and bulk actions of the admin surface (`Admin` and
//! the API): the overview counts the jobs there are, bulk requeue / cancel
//! act on a filtered set through the per-job operations, and the other
//! views (transmissions, audit, links, checkpoints, modules, cron) filter as
//! asked, with roles, and refuse unknown filter values with a 400.

use crate::console_fixture::history;
use ferry::admin::{Admin, JobAction, Remote};
use ferry::serve::ServeOptions;
use ferry::store::{
    AuditEntry, AuditFilter, JobFilter, JobState, LinkFilter, Transmission, TransmissionFilter,
    now_ms,
};
use ferry::tokens::Role;
use ferry_tests::*;
use serde_json::Value;

async fn remote(ferry: &ferry::Ferry, role: Role) -> (String, String, Admin) {
    let url = start_server(ferry, ServeOptions::default()).await;
    let token = api_token(ferry, role).await;
    let admin = Admin::Remote(Remote::new(&url).unwrap().with_token(Some(token.clone())));
    (url, token, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_the_jobs_there_are() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let h = history(&ferry).await;
    let (_url, _token, admin) = remote(&ferry, Role::Viewer).await;
    let overview = admin.overview().await.unwrap();
    let count = |instance: &str, state: JobState| {
        overview
            .states
            .iter()
            .filter(|c| c.instance == instance && c.state == state)
            .map(|c| c.count)
            .sum::<i64>()
    };
    assert_eq!(count("acme", JobState::Done), 1);
    assert_eq!(count("acme", JobState::Failed), 1);
    assert_eq!(count("beta", JobState::Pending), 2);
    let total: i64 = overview.states.iter().map(|c| c.count).sum();
    assert_eq!(total, 4, "every job counted once: {:?}", overview.states);
    assert!(overview.states.iter().all(|c| c.channel == "root"));

    assert!(
        (60..=61).contains(&overview.per_minute.len()),
        "one entry per minute of the last hour: {}",
        overview.per_minute.len()
    );
    let done: i64 = overview.per_minute.iter().map(|m| m.done).sum();
    let failed: i64 = overview.per_minute.iter().map(|m| m.failed).sum();
    assert_eq!((done, failed), (1, 1));
    assert!(
        overview
            .per_minute
            .windows(2)
            .all(|w| w[1].minute - w[0].minute == 60_000)
    );

    let failing: Vec<i64> = overview.failing.iter().map(|j| j.id).collect();
    assert_eq!(failing, [h.retrying, h.exported], "newest first");
    assert_eq!(
        overview.failing[0].error.as_deref(),
        Some("connection refused"),
        "a retrying job says why"
    );
    assert!(overview.running.is_empty());
    assert!(overview.snoozed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_act_on_the_filtered_set_and_say_what_they_skipped() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let h = history(&ferry).await;
    let (url, _token, developer) = remote(&ferry, Role::Developer).await;

    let failed = JobFilter {
        state: Some(JobState::Failed),
        ..JobFilter::default()
    };
    let outcome = developer
        .act_many(&failed, JobAction::Requeue)
        .await
        .unwrap();
    assert_eq!(
        (outcome.matched, outcome.acted.clone()),
        (1, vec![h.exported])
    );
    assert!(outcome.skipped.is_empty());
    assert_eq!(
        ferry.store().job(h.exported).await.unwrap().state,
        JobState::Pending
    );

    // Cancel every job of acme: the pending one is cancelled, the done one
    // is skipped with the reason the per-job cancel gives.
    let acme = JobFilter {
        instance: Some("acme".into()),
        ..JobFilter::default()
    };
    let outcome = developer.act_many(&acme, JobAction::Cancel).await.unwrap();
    assert_eq!(outcome.matched, 2);
    assert_eq!(outcome.acted, [h.exported]);
    assert_eq!(outcome.skipped.len(), 1);
    assert_eq!(outcome.skipped[0].id, h.imported);
    assert!(
        outcome.skipped[0].reason.contains("done"),
        "{}",
        outcome.skipped[0].reason
    );
    for id in [h.retrying, h.waiting] {
        assert_eq!(
            ferry.store().job(id).await.unwrap().state,
            JobState::Pending
        );
    }

    // Only requeue and cancel act in bulk; viewers cannot.
    let stop = developer
        .act_many(&acme, JobAction::Stop)
        .await
        .unwrap_err();
    assert_eq!(ferry::admin::http_status(&stop), 400, "{stop}");
    let (_, _, viewer) = remote(&ferry, Role::Viewer).await;
    let refused = viewer.act_many(&acme, JobAction::Cancel).await.unwrap_err();
    assert_eq!(ferry::admin::http_status(&refused), 403, "{refused}");

    // A filter value that does not exist is a 400 naming the known ones.
    let token = api_token(&ferry, Role::Developer).await;
    let response = reqwest::Client::new()
        .post(format!("{url}/api/jobs/bulk/cancel"))
        .bearer_auth(&token)
        .body(r#"{"state": "asleep"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("pending"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmissions_audit_links_and_checkpoints_filter_as_asked() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let sent = |url: &str, status: Option<i64>, refused: Option<&str>| Transmission {
        at: now_ms(),
        instance: "acme".into(),
        module: "shop".into(),
        method: "GET".into(),
        url: url.into(),
        status,
        refused: refused.map(String::from),
        ..Transmission::default()
    };
    store
        .record_transmission(&sent(
            "https://api.shop.test:8443/orders?page=***",
            Some(500),
            None,
        ))
        .await
        .unwrap();
    store
        .record_transmission(&sent("https://api.shop.test/products", Some(200), None))
        .await
        .unwrap();
    store
        .record_transmission(&sent(
            "https://api.shop.test.evil.example/x",
            None,
            Some("host not allowed"),
        ))
        .await
        .unwrap();
    for (actor, action) in [("cli", "secret.set"), ("api:ops", "cursor.clear")] {
        let entry = AuditEntry {
            at: now_ms(),
            actor: actor.into(),
            action: action.into(),
            instance: "acme".into(),
            subject: "token".into(),
            ..AuditEntry::default()
        };
        store.record_audit(&entry).await.unwrap();
    }
    store.bind("acme", "product", 7, "P-7", None).await.unwrap();
    store
        .bind("acme", "customer", 7, "C-7", None)
        .await
        .unwrap();
    let checkpoint = store
        .add_checkpoint("acme", "product", 7, "price looks wrong", None)
        .await
        .unwrap();

    let (_url, _token, viewer) = remote(&ferry, Role::Viewer).await;
    let hosts = |host: &str| TransmissionFilter {
        host: Some(host.into()),
        ..TransmissionFilter::default()
    };
    assert_eq!(
        viewer
            .transmissions(&hosts("api.shop.test"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        viewer
            .transmissions(&hosts("shop.test"))
            .await
            .unwrap()
            .len(),
        0
    );
    let errors = TransmissionFilter {
        status: Some(500),
        ..TransmissionFilter::default()
    };
    assert_eq!(
        viewer.transmissions(&errors).await.unwrap()[0].status,
        Some(500)
    );
    let refused = TransmissionFilter {
        refused_only: true,
        ..TransmissionFilter::default()
    };
    let refused = viewer.transmissions(&refused).await.unwrap();
    assert_eq!(refused.len(), 1);
    let newest_first = viewer
        .transmissions(&TransmissionFilter::default())
        .await
        .unwrap();
    let page = TransmissionFilter {
        before: Some(newest_first[0].id),
        ..TransmissionFilter::default()
    };
    assert_eq!(viewer.transmissions(&page).await.unwrap().len(), 2);

    let by_actor = AuditFilter {
        actor: Some("api:ops".into()),
        ..AuditFilter::default()
    };
    let entries = viewer.audit(&by_actor).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "cursor.clear");

    let products = LinkFilter {
        model: Some("product".into()),
        ..LinkFilter::default()
    };
    let links = viewer.links(&products).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].external_id, "P-7");
    let by_external = LinkFilter {
        external_id: Some("C-7".into()),
        ..LinkFilter::default()
    };
    assert_eq!(
        viewer.links(&by_external).await.unwrap()[0].model,
        "customer"
    );

    assert_eq!(viewer.checkpoints().await.unwrap()[0].id, checkpoint);
    let refused = viewer
        .clear_checkpoints(Some(checkpoint))
        .await
        .unwrap_err();
    assert_eq!(ferry::admin::http_status(&refused), 403);
    let (_, _, developer) = remote(&ferry, Role::Developer).await;
    assert_eq!(
        developer
            .clear_checkpoints(Some(checkpoint))
            .await
            .unwrap()
            .cleared,
        1
    );
    let gone = developer
        .clear_checkpoints(Some(checkpoint))
        .await
        .unwrap_err();
    assert_eq!(ferry::admin::http_status(&gone), 404);
    assert!(viewer.checkpoints().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_and_cron_schedules_are_listed() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 1, 0, 0).await;
    let (_url, _token, viewer) = remote(&ferry, Role::Viewer).await;
    let modules = viewer.modules().await.unwrap();
    let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for module in &modules {
        assert!(!module.backends.is_empty(), "{module:?}");
        assert_eq!(module.versions.len(), 1);
        assert!(module.versions[0].current);
        assert_eq!(module.versions[0].content_hash, module.content_hash);
    }
    let schedules = viewer.cron_schedules(Some("acme")).await.unwrap();
    let import = schedules
        .iter()
        .find(|s| s.name == "import-products")
        .expect("the shop's import schedule");
    assert_eq!(import.instance, "acme");
    assert_eq!(import.schedule.as_deref(), Some("*/15 * * * *"));
    assert!(!import.overridden);
    assert!(import.next_tick.is_some());
    let missing = viewer.cron_schedules(Some("nope")).await.unwrap_err();
    assert_eq!(ferry::admin::http_status(&missing), 404);
}

/// The jobs list holds running jobs in their place, newest first, whatever
/// the filter: on PostgreSQL the console's indexes leave claimed and running
/// jobs out, so the list reads them apart and merges them in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_list_merges_running_jobs_in_newest_first() {
    let (_dir, ferry) = fresh(|_| {}).await;
    let store = ferry.store();
    let lease = std::time::Duration::from_secs(60);
    let enqueue = |instance: &'static str| async move {
        let job = ferry::store::NewJob::new(instance, "sync", &serde_json::json!({}));
        store.enqueue(&job).await.unwrap()
    };
    // Oldest to newest: done, started, pending, enqueued (claimed), pending.
    let done = enqueue("acme").await;
    assert_eq!(claim(&ferry, 1, lease).await[0].id, done);
    store.set_job_done(done, None).await.unwrap();
    let started = enqueue("acme").await;
    let claimed = claim(&ferry, 1, lease).await;
    let token = claimed[0].lease_token.unwrap();
    store
        .mark_started(&[(started, token, now_ms())])
        .await
        .unwrap();
    let pending = enqueue("acme").await;
    let beta = enqueue("beta").await;
    let enqueued = claim(&ferry, 1, lease).await[0].id;
    assert_eq!(enqueued, pending, "claims take the oldest first");
    let newest = enqueue("acme").await;

    let ids = |filter: JobFilter| async move {
        let listed: Vec<i64> = store
            .list_jobs(&filter)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        let bulk = store.job_ids(&filter, filter.limit).await.unwrap();
        assert_eq!(listed, bulk, "the list and a bulk action see one set");
        listed
    };
    let all = JobFilter::default();
    assert_eq!(
        ids(all.clone()).await,
        [newest, beta, pending, started, done]
    );
    let acme = JobFilter {
        instance: Some("acme".into()),
        ..JobFilter::default()
    };
    assert_eq!(ids(acme.clone()).await, [newest, pending, started, done]);
    let page = JobFilter {
        limit: 2,
        before: Some(beta),
        ..acme.clone()
    };
    assert_eq!(
        ids(page).await,
        [pending, started],
        "the next page, two rows"
    );
    for (state, want) in [
        (JobState::Started, vec![started]),
        (JobState::Enqueued, vec![pending]),
        (JobState::Pending, vec![newest]),
        (JobState::Done, vec![done]),
    ] {
        let filter = JobFilter {
            state: Some(state),
            ..acme.clone()
        };
        assert_eq!(ids(filter).await, want, "{state}");
    }
    let since = JobFilter {
        since: Some(0),
        name: Some("sync".into()),
        limit: 3,
        ..JobFilter::default()
    };
    assert_eq!(ids(since).await, [newest, beta, pending]);
}
