//! A data directory is portable: installed components are kept in the
//! database and paths are relative to the data directory, so a moved or
//! copied directory (or another node's, on a shared database) runs the same
//! modules.

use ferry::store::{JobState, NewJob};
use ferry::{Ferry, FerryOptions};
use ferry_tests::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Run the `ferry` binary in `cwd` with `args`; its stdout, or a panic with
/// what it printed.
fn ferry_in(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new(ferry_bin())
        .current_dir(cwd)
        .args(args)
        .env_remove("FERRY_HOME")
        .env_remove("FERRY_SERVER")
        .env_remove("FERRY_DATABASE_URL")
        .output()
        .expect("run ferry");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ferry {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_data_directory_opened_from_elsewhere_runs_its_modules() {
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let root = tempfile::tempdir().unwrap();
    let first = root.path().join("first");
    std::fs::create_dir_all(&first).unwrap();
    // Installed with a data directory relative to where ferry runs.
    let manifest = hostile.manifest.to_str().unwrap();
    let wasm = hostile.wasm.to_str().unwrap();
    ferry_in(
        &first,
        &[
            "--data-dir",
            ".ferry/lab",
            "install",
            manifest,
            "--wasm",
            wasm,
        ],
    );
    ferry_in(
        &first,
        &[
            "--data-dir",
            ".ferry/lab",
            "backend",
            "add",
            "lab",
            "hostile",
        ],
    );

    let moved = root.path().join("elsewhere").join("lab");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(first.join(".ferry/lab"), &moved).unwrap();
    let other_cwd = root.path().join("other");
    std::fs::create_dir_all(&other_cwd).unwrap();
    let dir = moved.to_str().unwrap();

    let modules: Value = serde_json::from_str(&ferry_in(
        &other_cwd,
        &["--data-dir", dir, "--json", "connectors"],
    ))
    .unwrap();
    let names: Vec<&str> = modules
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["hostile"], "{modules}");

    ferry_in(
        &other_cwd,
        &[
            "--data-dir",
            dir,
            "run",
            "lab",
            "ok",
            "--payload",
            r#"{"n": 1}"#,
            "--wait",
        ],
    );
    let jobs: Value = serde_json::from_str(&ferry_in(
        &other_cwd,
        &["--data-dir", dir, "--json", "jobs"],
    ))
    .unwrap();
    assert_eq!(jobs[0]["state"], "done", "{jobs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_data_directory_on_the_same_database_loads_the_components_from_it() {
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    // A second node: its own (empty) data directory, the same database.
    let node = tempfile::tempdir().unwrap();
    let mut options = FerryOptions::new(node.path());
    options.database_url = Some(match postgres_url() {
        Some(_) => ferry.store().url().to_string(),
        None => format!("sqlite://{}", dir.path().join("ferry.db").display()),
    });
    let second = Ferry::open_with(options).await.unwrap();
    assert!(second.registry().module("hostile").is_some());
    let id = second
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 2 })))
        .await
        .unwrap();
    drain(&second, |_| {}).await.unwrap();
    let job = second.store().job(id).await.unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    assert!(node.path().join("modules").read_dir().unwrap().count() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_module_starts_from_its_compiled_cache_and_a_changed_file_never_runs() {
    // The installation's own compiled cache (not the one tests share).
    let dir = tempfile::tempdir().unwrap();
    let mut options = FerryOptions::new(dir.path());
    options.database_url = test_database().await;
    let ferry = Ferry::open_with(options).await.unwrap();
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let hash = ferry
        .registry()
        .module("hostile")
        .unwrap()
        .content_hash
        .clone();
    let url = postgres_url().map(|_| ferry.store().url().to_string());
    drop(ferry);
    // Someone overwrites the installed component file with something else.
    let modules = dir.path().join("modules");
    for file in modules.read_dir().unwrap() {
        std::fs::write(file.unwrap().path(), b"\0asm not what was installed").unwrap();
    }
    let reopen = async || {
        let mut options = FerryOptions::new(dir.path());
        options.database_url = url.clone();
        Ferry::open_with(options).await.unwrap()
    };
    // Started from the cache of what was installed: the file is not read.
    let ferry = reopen().await;
    let module = ferry
        .registry()
        .module("hostile")
        .cloned()
        .expect("loaded from the cache");
    assert_eq!(module.content_hash, hash);
    let id = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 3 })))
        .await
        .unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(ferry.store().job(id).await.unwrap().state, JobState::Done);
    drop(ferry);
    // Without the cache the file is read, hashed and refused: the module is
    // not loaded (nor run) rather than run changed.
    std::fs::remove_dir_all(dir.path().join("cache")).unwrap();
    let ferry = reopen().await;
    assert!(ferry.registry().module("hostile").is_none());
}
