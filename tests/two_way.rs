//! Two-way sync under crashes and conflicts: a worker killed with `kill -9`
//! between a remote create and its bind makes no second remote record; a
//! record changed on both sides is decided by the binding's policy, never
//! overwritten silently; a batch import killed midway restarts from its
//! committed cursor, missing nothing and importing nothing twice.

use ferry::Ferry;
use ferry::store::{
    ConflictFilter, ConflictPolicy, ConflictRow, ConflictState, JobFilter, JobState, NewJob, Take,
};
use ferry_tests::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A small pseudo-random sequence (no need for a crate): where to kill.
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        eprintln!("kill points seeded with {seed}");
        Dice(seed | 1)
    }
    /// A number in `low..high`.
    fn roll(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low)
    }
}

/// The shop URL of backend instance `acme`.
async fn shop_url(ferry: &Ferry) -> String {
    let instance = ferry.store().instance("acme").await.unwrap();
    instance.params["url"].as_str().unwrap().to_string()
}

async fn all_jobs(ferry: &Ferry) -> Vec<ferry::store::JobRow> {
    ferry
        .store()
        .list_jobs(&JobFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Kill the worker 20 times at random points of an export of 500 new records,
/// with creates slow enough that many kills land between a remote create and
/// its bind, on `backend` (`shop@1.7` finds the record again by its
/// `Idempotency-Key`, `shop@2.0` by its external reference field).
async fn export_survives_kills(backend: &str) {
    let (dir, ferry, shop) = shop_setup(backend, 0, 0, 0).await;
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    for n in 0..500 {
        let record = ferry
            .store()
            .create_record("product", json!({ "name": format!("P{n}"), "default_code": format!("SKU{n}"), "list_price": 10.0 }))
            .await
            .unwrap();
        let mut job = NewJob::new(
            "acme",
            "export-record",
            &json!({ "model": "product", "record_id": record.id }),
        );
        job.identity_key = Some(format!("export:product:{}", record.id));
        ferry.enqueue(&job).await.unwrap();
    }
    // Creates answer 50 ms after the record is stored: most kills land
    // between a remote create and its bind.
    shop.data().create_delay_ms = 50;

    let mut dice = Dice::new();
    for _ in 0..20 {
        let before = shop.data().count("products");
        let mut worker = spawn_worker(dir.path(), &ferry, &["--lease", "1s", "--concurrency", "2"]);
        // Killed while it works, however long it takes to start on a busy
        // machine: once it has created a record, at a random point after.
        let started = std::time::Instant::now();
        while shop.data().count("products") == before && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(dice.roll(0, 300))).await;
        worker.kill().expect("kill -9");
        worker.wait().unwrap();
    }
    let remote_before_last = shop.data().count("products");
    assert!(
        remote_before_last < 500,
        "the kills came before the end ({remote_before_last} created)"
    );
    finish(spawn_worker(
        dir.path(),
        &ferry,
        &["--lease", "1s", "--until-idle", "--wait-leases"],
    ))
    .await;

    let jobs = all_jobs(&ferry).await;
    let not_done: Vec<_> = jobs.iter().filter(|j| j.state != JobState::Done).collect();
    assert!(
        not_done.is_empty(),
        "{} job(s) not done, e.g. {:?}",
        not_done.len(),
        not_done.first()
    );
    assert_eq!(
        shop.data().count("products"),
        500,
        "the shop holds each record once"
    );
    let links = ferry
        .store()
        .search_links(Some("acme"), Some("product"), None, Some(1000), 0)
        .await
        .unwrap();
    assert_eq!(links.len(), 500, "every record is bound");
    let external: HashSet<_> = links.iter().map(|l| l.external_id.clone()).collect();
    assert_eq!(external.len(), 500, "each remote record bound once");
    let replayed = shop.data().replayed.get("products").copied().unwrap_or(0);
    eprintln!(
        "{backend}: {remote_before_last} created before the last worker; \
         {replayed} create(s) answered again by idempotency key"
    );
    if backend == "shop@1.7" {
        assert!(
            replayed > 0,
            "some kill landed between a create and its bind (the retry replayed it)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_killed_between_create_and_bind_never_creates_twice_by_idempotency_key() {
    export_survives_kills("shop@1.7").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_killed_between_create_and_bind_never_creates_twice_by_external_reference() {
    export_survives_kills("shop@2.0").await;
}

/// A batch import killed midway: the next batch starts from the committed
/// cursor, misses nothing and imports nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_midway_resumes_from_its_committed_cursor() {
    let (dir, ferry, shop) = shop_setup("shop@1.7", 300, 0, 0).await;
    let url = shop_url(&ferry).await;
    let bin = tokio::task::spawn_blocking(ferry_bin).await.unwrap();
    assert!(bin.exists());
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let mut worker = spawn_worker(dir.path(), &ferry, &["--lease", "1s", "--concurrency", "4"]);
    eventually(
        Duration::from_secs(300),
        "50 products imported",
        async || ferry.store().count_records("product").await.unwrap() >= 50,
    )
    .await;
    worker.kill().expect("kill -9");
    worker.wait().unwrap();
    let imported = ferry.store().count_records("product").await.unwrap();
    assert!(
        imported < 300,
        "killed before the end ({imported} imported)"
    );
    finish(spawn_worker(
        dir.path(),
        &ferry,
        &["--lease", "1s", "--until-idle", "--wait-leases"],
    ))
    .await;
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 300);
    let cursor = ferry
        .store()
        .cursor("acme", "import:product")
        .await
        .unwrap();
    let newest = (1..=300)
        .filter_map(|id| {
            shop.data()
                .get("products", id)
                .map(|p| p["updated_at"].as_i64().unwrap())
        })
        .max();
    assert_eq!(
        cursor.and_then(|c| c.as_i64()),
        newest,
        "the cursor is the shop's newest change"
    );

    // Ten products change in the shop; the next batch queues exactly those.
    for id in (5..=50).step_by(5) {
        let response = reqwest::Client::new()
            .put(format!("{url}/api/v1/products/{id}"))
            .header("x-api-key", shop_simulator::DEFAULT_API_KEY)
            .json(&json!({ "name": format!("Changed {id}") }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    let before: HashSet<i64> = all_jobs(&ferry).await.iter().map(|j| j.id).collect();
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let new_imports: Vec<_> = all_jobs(&ferry)
        .await
        .into_iter()
        .filter(|j| !before.contains(&j.id) && j.name == "import-record")
        .collect();
    assert_eq!(
        new_imports.len(),
        10,
        "only the changed products are queued"
    );

    // The local side is the shop's truth: every product once, with its values.
    assert_eq!(ferry.store().count_records("product").await.unwrap(), 300);
    for id in 1..=300u64 {
        let link = ferry
            .store()
            .link_by_external("acme", "product", &id.to_string())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("product {id} is bound"));
        let local = ferry
            .store()
            .read_record("product", link.local_id)
            .await
            .unwrap();
        let remote = shop.data().get("products", id).cloned().unwrap();
        assert_eq!(local.values["name"], remote["name"], "product {id}");
    }
}

/// Product `id` of the shop changed on both sides since its last sync: a
/// person renamed it locally (its export is queued), then the shop renamed it.
async fn change_both_sides(ferry: &Ferry, shop: &shop_simulator::Shop, id: u64) -> i64 {
    let link = ferry
        .store()
        .link_by_external("acme", "product", &id.to_string())
        .await
        .unwrap()
        .expect("imported");
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "name": format!("Local {id}") }),
            "test",
        )
        .await
        .unwrap();
    // The shop's change comes later (its clock is the wall clock, in ms).
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), json!(format!("Remote {id}")));
    shop.data()
        .update("products", id, fields)
        .expect("in the shop");
    link.local_id
}

async fn names(
    ferry: &Ferry,
    shop: &shop_simulator::Shop,
    id: u64,
    local_id: i64,
) -> (Value, Value) {
    let local = ferry
        .store()
        .read_record("product", local_id)
        .await
        .unwrap();
    let remote = shop.data().get("products", id).cloned().unwrap();
    (local.values["name"].clone(), remote["name"].clone())
}

fn shop_writes(shop: &shop_simulator::Shop) -> u64 {
    shop.data().writes.get("products").copied().unwrap_or(0)
}

async fn open_conflicts(ferry: &Ferry) -> Vec<ConflictRow> {
    ferry
        .store()
        .conflicts(&ConflictFilter {
            state: Some(ConflictState::Open),
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_on_both_sides_is_decided_by_its_policy_never_silently() {
    let (_dir, ferry, shop) = shop_setup("shop@1.7", 6, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();
    let policy = async |p: ConflictPolicy| {
        store
            .set_conflict_policy("acme", "product", p, "test")
            .await
            .unwrap()
    };

    // remote-wins: the export writes nothing; the shop's version is imported.
    policy(ConflictPolicy::RemoteWins).await;
    let local = change_both_sides(&ferry, &shop, 1).await;
    let writes = shop_writes(&shop);
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes, "remote-wins sends nothing");
    assert_eq!(
        names(&ferry, &shop, 1, local).await,
        (json!("Remote 1"), json!("Remote 1"))
    );

    // local-wins: the local version goes out, once.
    policy(ConflictPolicy::LocalWins).await;
    let local = change_both_sides(&ferry, &shop, 2).await;
    let writes = shop_writes(&shop);
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes + 1, "local-wins writes once");
    assert_eq!(
        names(&ferry, &shop, 2, local).await,
        (json!("Local 2"), json!("Local 2"))
    );

    // newest-wins: the shop changed last, so its version wins.
    policy(ConflictPolicy::NewestWins).await;
    let local = change_both_sides(&ferry, &shop, 3).await;
    let writes = shop_writes(&shop);
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes);
    assert_eq!(
        names(&ferry, &shop, 3, local).await,
        (json!("Remote 3"), json!("Remote 3"))
    );

    // manual: nothing is written; a conflict holds both versions and the diff.
    policy(ConflictPolicy::Manual).await;
    assert!(open_conflicts(&ferry).await.is_empty());
    let local = change_both_sides(&ferry, &shop, 4).await;
    let writes = shop_writes(&shop);
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes, "manual writes nothing");
    assert_eq!(
        names(&ferry, &shop, 4, local).await,
        (json!("Local 4"), json!("Remote 4"))
    );
    let open = open_conflicts(&ferry).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let conflict = &open[0];
    assert_eq!(
        (conflict.local_id, conflict.external_id.as_str()),
        (local, "4")
    );
    assert_eq!(
        conflict.diff["name"],
        json!({ "local": "Local 4", "remote": "Remote 4" }),
        "the diff names the field in conflict: {:?}",
        conflict.diff
    );
    assert_eq!(
        conflict.diff.len(),
        1,
        "only that field: {:?}",
        conflict.diff
    );

    // An import of that record meets the same conflict: still one open conflict.
    let mut import = NewJob::new(
        "acme",
        "import-record",
        &json!({ "model": "product", "external_id": "4" }),
    );
    import.identity_key = Some("import:product:4".into());
    ferry.enqueue(&import).await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(
        names(&ferry, &shop, 4, local).await,
        (json!("Local 4"), json!("Remote 4"))
    );
    let open = open_conflicts(&ferry).await;
    assert_eq!(open.len(), 1, "the newer report replaces the open one");

    // Resolved by taking the local version: exported once, and the conflict is closed.
    store
        .resolve_conflict(open[0].id, &Take::Local, "test")
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes + 1, "exported once");
    assert_eq!(
        names(&ferry, &shop, 4, local).await,
        (json!("Local 4"), json!("Local 4"))
    );
    assert!(open_conflicts(&ferry).await.is_empty());
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes + 1, "and nothing after");

    // Another, resolved by taking the shop's version: imported once.
    let local = change_both_sides(&ferry, &shop, 5).await;
    drain(&ferry, |_| {}).await.unwrap();
    let open = open_conflicts(&ferry).await;
    assert_eq!(open.len(), 1);
    let writes = shop_writes(&shop);
    store
        .resolve_conflict(open[0].id, &Take::Remote, "test")
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(
        names(&ferry, &shop, 5, local).await,
        (json!("Remote 5"), json!("Remote 5"))
    );
    assert_eq!(shop_writes(&shop), writes, "nothing went back to the shop");
    let again = store
        .resolve_conflict(open[0].id, &Take::Local, "test")
        .await;
    assert!(again.is_err(), "a resolved conflict is not resolved twice");
}

/// The generic importer and exporter run twice (the queue is at least once):
/// the second run writes nothing on either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_or_export_run_again_is_a_no_op() {
    let (_dir, ferry, shop) = shop_setup("shop@2.0", 3, 0, 0).await;
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let link = ferry
        .store()
        .link_by_external("acme", "product", "2")
        .await
        .unwrap()
        .unwrap();
    let revision = ferry
        .store()
        .read_record("product", link.local_id)
        .await
        .unwrap()
        .revision;

    // The same import again: the shop's version is the one synced.
    let import = json!({ "model": "product", "external_id": "2" });
    ferry
        .enqueue(&NewJob::new("acme", "import-record", &import))
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let after = ferry
        .store()
        .read_record("product", link.local_id)
        .await
        .unwrap();
    assert_eq!(after.revision, revision, "no local write");

    // A local change is exported; the same export again sends nothing.
    ferry
        .write_record("product", link.local_id, json!({ "name": "Once" }), "test")
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let writes = shop_writes(&shop);
    let export = json!({ "model": "product", "record_id": link.local_id });
    ferry
        .enqueue(&NewJob::new("acme", "export-record", &export))
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(shop_writes(&shop), writes, "no second write to the shop");
    assert_eq!(
        shop.data().get("products", 2).unwrap()["name"],
        json!("Once")
    );
}
