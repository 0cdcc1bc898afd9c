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

    installs_and_syncs_with_the_shop(&ferry, &crate_dir, "crm").await;
}

/// `ferry install DIR` of a new `rest` connector named `name`, then the
/// behaviour the template promises against the shop simulator: every
/// product imported, a second import duplicates nothing, a local change
/// exported once.
async fn installs_and_syncs_with_the_shop(ferry: &ferry::Ferry, crate_dir: &Path, name: &str) {
    let installed =
        tokio::task::block_in_place(|| ferry_cli(ferry, &["install", crate_dir.to_str().unwrap()]));
    assert!(
        installed.contains(&format!("installed {name} 0.1.0")),
        "{installed}"
    );
    assert!(ferry.refresh().await.unwrap(), "the install is picked up");

    let (shop, url) = start_shop(40, 0, 0).await.unwrap();
    let params = json!({ "url": url, "api_key": shop_simulator::DEFAULT_API_KEY });
    ferry
        .add_instance("acme", name, params.as_object().unwrap().clone())
        .await
        .unwrap();
    enqueue_import(ferry, "acme", "product").await.unwrap();
    let stats = drain(ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 40);

    // A second import duplicates nothing.
    enqueue_import(ferry, "acme", "product").await.unwrap();
    drain(ferry, |_| {}).await.unwrap();
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
    let stats = drain(ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(store.count_jobs(JobState::Failed).await.unwrap(), 0);
    let data = shop.data();
    assert_eq!(data.writes.get("products"), Some(&1));
    assert_eq!(data.get("products", 7).unwrap()["price"], json!("19.90"));
}

/// `ferry new NAME --lang LANG --template TEMPLATE` in `dir`; the folder made.
fn new_connector(
    ferry: &ferry::Ferry,
    dir: &Path,
    name: &str,
    lang: &str,
    template: &str,
) -> std::path::PathBuf {
    let folder = dir.join(name);
    let made = ferry_cli(
        ferry,
        &[
            "new",
            name,
            "--lang",
            lang,
            "--template",
            template,
            "--dir",
            folder.to_str().unwrap(),
        ],
    );
    assert!(made.contains("made") && made.contains(lang), "{made}");
    folder
}

/// Run `program args…` in `dir`; panics with its output when it fails.
fn passes(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{program} {args:?} in {}: {text}",
        dir.display()
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_python_connector_passes_its_tests_and_its_recorded_scenario() {
    let (dir, ferry) = fresh(|_| {}).await;
    let folder = new_connector(&ferry, dir.path(), "greeter", "python", "minimal");
    let unit = tokio::task::block_in_place(|| passes(&folder, "python3", &["-m", "unittest"]));
    assert!(unit.contains("Ran 2 tests"), "{unit}");

    // Its scenario runs the component in the sandbox: recorded, then replayed.
    let recorded = tokio::task::block_in_place(|| {
        ferry_cli(&ferry, &["test", folder.to_str().unwrap(), "--record"])
    });
    assert!(
        recorded.contains("1 scenarios recorded, 0 failed"),
        "{recorded}"
    );
    let replayed =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &["test", folder.to_str().unwrap()]));
    assert!(
        replayed.contains("1 scenarios replayed, 0 failed"),
        "{replayed}"
    );
    assert!(
        !folder.join("__pycache__").exists(),
        "the build writes nothing into the sources"
    );

    // The `rest` template in Python builds and passes its tests too.
    let rest = new_connector(&ferry, dir.path(), "crm-py", "python", "rest");
    let unit = tokio::task::block_in_place(|| passes(&rest, "python3", &["-m", "unittest"]));
    assert!(unit.contains("Ran 2 tests"), "{unit}");
    let built =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &["build", rest.to_str().unwrap()]));
    assert!(built.contains("crm-py"), "{built}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_javascript_rest_connector_passes_its_tests_and_syncs_with_the_shop() {
    let (dir, ferry) = fresh(|_| {}).await;
    let folder = new_connector(&ferry, dir.path(), "crm-js", "js", "rest");
    let unit = tokio::task::block_in_place(|| passes(&folder, "npm", &["test", "--silent"]));
    assert!(unit.contains("pass 2"), "{unit}");
    installs_and_syncs_with_the_shop(&ferry, &folder, "crm-js").await;

    // The `minimal` template in JavaScript builds and passes its tests too.
    let minimal = new_connector(&ferry, dir.path(), "greeter-js", "js", "minimal");
    let unit = tokio::task::block_in_place(|| passes(&minimal, "npm", &["test", "--silent"]));
    assert!(unit.contains("pass 2"), "{unit}");
    let built =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &["build", minimal.to_str().unwrap()]));
    assert!(built.contains("greeter-js"), "{built}");
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
