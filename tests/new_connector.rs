//! `ferry new`: the crate it makes builds, passes its own tests, installs,
//! and (the `rest` template) syncs products with the shop simulator, with
//! no file edited.

use ferry::store::JobState;
use ferry_tests::{drain, enqueue_import, ferry_bin, fresh, start_shop};
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// `ferry ARGS…` on `ferry`'s data; panics with its stderr when it fails.
fn ferry_cli(ferry: &ferry::Ferry, args: &[&str]) -> String {
    let out = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(ferry.data_dir())
        .arg("--database")
        .arg(ferry.store().url())
        .args(args)
        // Dependencies already compiled for the example connectors are reused.
        .env("CARGO_TARGET_DIR", ferry::demo::examples_target_dir())
        .output()
        .expect("run ferry");
    assert!(
        out.status.success(),
        "ferry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pin the new crate's dependencies to the versions of this workspace, so
/// that the build reuses what the example connectors compiled (a fresh
/// resolution would compile the newest ones instead: slower, same result).
fn same_versions_as_the_workspace(crate_dir: &Path) {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(lock, crate_dir.join("Cargo.lock")).expect("copy Cargo.lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_rest_connector_builds_installs_and_syncs_with_the_shop() {
    let (dir, ferry) = fresh(|_| {}).await;
    let crate_dir = dir.path().join("crm");
    let made = ferry_cli(
        &ferry,
        &[
            "new",
            "crm",
            "--template",
            "rest",
            "--dir",
            crate_dir.to_str().unwrap(),
        ],
    );
    assert!(made.contains("made"), "{made}");
    same_versions_as_the_workspace(&crate_dir);

    // Its own tests pass at once.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tested = tokio::task::block_in_place(|| {
        Command::new(cargo)
            .args(["test", "--quiet", "--manifest-path"])
            .arg(crate_dir.join("Cargo.toml"))
            .env(
                "CARGO_TARGET_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
            )
            .output()
            .expect("run cargo test")
    });
    assert!(
        tested.status.success(),
        "cargo test of the new crate: {}",
        String::from_utf8_lossy(&tested.stderr)
    );

    // `ferry install DIR` builds and installs it.
    let installed = tokio::task::block_in_place(|| {
        ferry_cli(&ferry, &["install", crate_dir.to_str().unwrap()])
    });
    assert!(installed.contains("installed crm 0.1.0"), "{installed}");
    assert!(ferry.refresh().await.unwrap(), "the install is picked up");

    let (shop, url) = start_shop(40, 0, 0).await.unwrap();
    let params = json!({ "url": url, "api_key": shop_simulator::DEFAULT_API_KEY });
    ferry
        .add_instance("acme", "crm", params.as_object().unwrap().clone())
        .await
        .unwrap();
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 40);

    // A second import duplicates nothing.
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(store.count_records("product").await.unwrap(), 40);

    // A local change is exported once, through the template's mapper.
    let link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .expect("product 7 linked");
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "list_price": 19.9 }),
            "test",
        )
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(store.count_jobs(JobState::Failed).await.unwrap(), 0);
    let data = shop.data();
    assert_eq!(data.writes.get("products"), Some(&1));
    assert_eq!(data.get("products", 7).unwrap()["price"], json!("19.90"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_new_refuses_to_write_over_a_directory_and_names_the_templates() {
    let (dir, ferry) = fresh(|_| {}).await;
    let out = Command::new(ferry_bin())
        .args(["new", "x", "--template", "graphql", "--dir"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("minimal, rest"),
        "{err}"
    );
    std::fs::write(dir.path().join("busy.txt"), "mine").unwrap();
    let out = Command::new(ferry_bin())
        .args(["new", "x", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("not empty"), "{err}");
    drop(ferry);
}
