//! Export: a local change goes back to the shop exactly once, and a shop that
//! answers 503 gets the job retried.

use ferry::store::{JobFilter, JobState};
use ferry_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_change_is_exported_exactly_once() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 10, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    assert_eq!(
        shop.data().writes.get("products"),
        None,
        "importing wrote nothing back"
    );

    let link = store
        .link_by_external("acme", "product", "3")
        .await
        .unwrap()
        .unwrap();
    let changed = ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "name": "New name", "list_price": 42.5 }),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(changed.len(), 2);
    let pending = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Pending),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].name, "export-record");
    assert_eq!(
        pending[0].priority, 4,
        "priority from the manifest subscription"
    );

    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 0));
    {
        let data = shop.data();
        assert_eq!(data.writes.get("products"), Some(&1));
        assert_eq!(
            data.requests.get("PATCH v2 products"),
            Some(&1),
            "written through the v2 adapter"
        );
        let remote = data.get("products", 3).unwrap();
        assert_eq!(remote["name"], json!("New name"));
        assert_eq!(remote["price"], json!("42.50"));
    }

    // Nothing loops back: the export's own bind does not fire another export.
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop.data().writes.get("products"), Some(&1));
    assert_eq!(store.count_jobs(JobState::Pending).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_from_the_shop_is_retried_after_retry_after() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 3, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let link = ferry
        .store()
        .link_by_external("acme", "product", "2")
        .await
        .unwrap()
        .unwrap();
    shop.data().fail_next = 1;
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "name": "After maintenance" }),
            "test",
        )
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(
        (stats.retried, stats.done, stats.failed),
        (1, 1, 0),
        "{stats:?}"
    );
    let job = ferry
        .store()
        .list_jobs(&JobFilter {
            state: Some(JobState::Done),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.attempts, 2);
    let logs = ferry.store().job_logs(job.id).await.unwrap();
    assert!(logs.iter().any(|l| l.message.contains("503")), "{logs:?}");
    assert_eq!(
        shop.data().get("products", 2).unwrap()["name"],
        json!("After maintenance")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_waiting_to_go_out_merge_into_one_export() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 5, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    let link = store
        .link_by_external("acme", "product", "4")
        .await
        .unwrap()
        .unwrap();
    // Two changes of one record, before any worker runs.
    for values in [
        json!({ "name": "First rename" }),
        json!({ "list_price": 9.5 }),
    ] {
        ferry
            .write_record("product", link.local_id, values, "test")
            .await
            .unwrap();
    }
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "name": "Second rename" }),
            "test",
        )
        .await
        .unwrap();
    let pending = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Pending),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "one export for the record: {pending:?}");
    let payload: serde_json::Value = serde_json::from_str(&pending[0].payload).unwrap();
    let mut fields: Vec<&str> = payload["changed_fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["list_price", "name"],
        "the union of the changed fields"
    );

    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!((stats.done, stats.failed), (1, 0));
    let data = shop.data();
    assert_eq!(
        data.writes.get("products"),
        Some(&1),
        "one write to the shop"
    );
    let remote = data.get("products", 4).unwrap();
    assert_eq!(remote["name"], json!("Second rename"), "latest values win");
    assert_eq!(remote["price"], json!("9.50"));
}
