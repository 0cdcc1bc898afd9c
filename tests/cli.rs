//! The `ferry` binary: `jobs` gives the same answers on the local installation
//! and, with `--server`, on a running `ferry serve`; `trigger` presses a button.

use ferry::serve::ServeOptions;
use ferry::store::NewJob;
use ferry::{Ferry, demo};
use ferry_tests::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

/// An installation with the `hostile` connector and instance `lab`, served,
/// and the `--server URL --token TOKEN` arguments of a developer's calls.
async fn served_lab() -> (TempDir, Ferry, String, [String; 4]) {
    let dir = tempfile::tempdir().unwrap();
    let ferry = Ferry::open(dir.path()).await.unwrap();
    let built = tokio::task::spawn_blocking(|| demo::build_example("hostile"))
        .await
        .unwrap()
        .expect("build hostile");
    ferry.install(&built.manifest, &built.wasm).await.unwrap();
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = ferry.clone();
    tokio::spawn(async move {
        let options = ServeOptions::default();
        ferry::serve::run(
            served,
            listener,
            options,
            None,
            tokio_util::sync::CancellationToken::new(),
        )
        .await
    });
    let token = ferry::tokens::create(ferry.store(), "dev", ferry::tokens::Role::Developer, "test")
        .await
        .unwrap()
        .token;
    let remote = ["--server".into(), url.clone(), "--token".into(), token];
    (dir, ferry, url, remote)
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Run the built `ferry` binary on the installation in `dir`.
async fn ferry_cli(dir: &Path, args: &[&str]) -> Run {
    ferry_cli_with_input(dir, args, "").await
}

/// Run the built `ferry` binary with `input` on its standard input.
async fn ferry_cli_with_input(dir: &Path, args: &[&str], input: &str) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child =
        tokio::process::Command::new(tokio::task::spawn_blocking(ferry_bin).await.unwrap())
            .arg("--data-dir")
            .arg(dir)
            .args(args)
            .env_remove("FERRY_SERVER")
            .env_remove("FERRY_TOKEN")
            .env_remove("FERRY_DATABASE_URL")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run ferry");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.expect("run ferry");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_commands_give_the_same_answers_locally_and_on_a_server() {
    let (dir, ferry, _, server) = served_lab().await;
    let a = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 1 })))
        .await
        .unwrap();
    let b = ferry
        .enqueue(&NewJob::new("lab", "ok", &json!({ "n": 2 })))
        .await
        .unwrap();
    let a_text = a.to_string();
    let dir = dir.path();
    let remote = async |args: &[&str]| {
        let mut all: Vec<&str> = server.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        ferry_cli(dir, &all).await
    };

    let local = ferry_cli(dir, &["--json", "jobs", "list", "--state", "pending"]).await;
    let on_server = remote(&["--json", "jobs", "list", "--state", "pending"]).await;
    assert!(
        local.ok && on_server.ok,
        "{}{}",
        local.stderr,
        on_server.stderr
    );
    assert_eq!(ids(&local.json()), vec![b, a]);
    assert_eq!(local.json(), on_server.json());

    let shown = remote(&["--json", "jobs", "show", &a_text]).await;
    assert_eq!(shown.json()["job"]["payload"], r#"{"n":1}"#);
    let table = remote(&["jobs", "list"]).await;
    assert!(
        table.ok && table.stdout.contains("pending"),
        "{}",
        table.stdout
    );

    let cancelled = remote(&["jobs", "cancel", &a_text]).await;
    assert!(cancelled.ok, "{}", cancelled.stderr);
    assert_eq!(cancelled.stdout.trim(), format!("job {a} cancelled"));
    assert_eq!(
        ferry.store().job(a).await.unwrap().state,
        ferry::store::JobState::Cancelled
    );

    let again = remote(&["jobs", "cancel", &a_text]).await;
    assert!(!again.ok);
    assert!(
        again
            .stderr
            .contains("only pending or enqueued jobs can be cancelled"),
        "{}",
        again.stderr
    );
    let missing = remote(&["jobs", "show", "987654"]).await;
    assert!(!missing.ok);
    assert!(
        missing.stderr.contains("job `987654` not found"),
        "{}",
        missing.stderr
    );

    let nobody = ferry_cli(dir, &["--server", "http://127.0.0.1:9", "jobs", "list"]).await;
    assert!(!nobody.ok);
    assert!(
        nobody.stderr.contains("cannot reach the server"),
        "{}",
        nobody.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_trigger_enqueues_the_buttons_job_with_the_data() {
    let (dir, ferry, _, server) = served_lab().await;
    let local = ferry_cli(
        dir.path(),
        &[
            "--json",
            "trigger",
            "lab",
            "echo-now",
            "--data",
            r#"{"n": 1}"#,
        ],
    )
    .await;
    assert!(local.ok, "{}", local.stderr);
    let job = ferry
        .store()
        .job(local.json()["job"].as_i64().unwrap())
        .await
        .unwrap();
    assert_eq!(job.name, "ok");
    assert_eq!(
        serde_json::from_str::<Value>(&job.payload).unwrap(),
        json!({ "n": 1 })
    );
    assert_eq!((job.priority, job.channel.as_str()), (3, "root.manual"));
    assert_eq!(job.user, "cli");

    let mut args: Vec<&str> = server.iter().map(String::as_str).collect();
    args.extend(["trigger", "lab", "echo-now", "--data", r#"[2]"#]);
    let remote = ferry_cli(dir.path(), &args).await;
    assert!(remote.ok, "{}", remote.stderr);
    let id: i64 = remote
        .stdout
        .trim()
        .strip_prefix("enqueued job ")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{}", remote.stdout));
    let job = ferry.store().job(id).await.unwrap();
    assert_eq!(job.payload, "[2]");
    assert_eq!(
        job.user, "api:dev",
        "the token's name is recorded as the user"
    );

    let bad = ferry_cli(dir.path(), &["trigger", "lab", "echo-now", "--data", "{"]).await;
    assert!(
        !bad.ok && bad.stderr.contains("--data is not valid JSON"),
        "{}",
        bad.stderr
    );
    let unknown = ferry_cli(dir.path(), &["trigger", "lab", "nope"]).await;
    assert!(!unknown.ok);
    assert!(
        unknown.stderr.contains("button `nope` not found") && unknown.stderr.contains("echo-now"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_serve_runs_jobs_and_stops_cleanly_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let (dir, ferry, _, server) = served_lab().await;
    let mut child =
        tokio::process::Command::new(tokio::task::spawn_blocking(ferry_bin).await.unwrap())
            .arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--concurrency", "2"])
            .env_remove("FERRY_SERVER")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start ferry serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("a first line");
    let url = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .map(|a| format!("http://{}", a.trim_end_matches(':')))
        .unwrap_or_else(|| panic!("no address in {first:?}"));

    // A button pressed on the server; the server's own worker runs the job.
    let pressed = ferry_cli(
        dir.path(),
        &[
            "--server", &url, "--token", &server[3], "--json", "trigger", "lab", "echo-now",
        ],
    )
    .await;
    let id = pressed.json()["job"].as_i64().unwrap();
    eventually(
        Duration::from_secs(120),
        "the pressed job is done",
        async || ferry.store().job(id).await.unwrap().state == ferry::store::JobState::Done,
    )
    .await;

    let pid = child.id().expect("running").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = child.wait().await.unwrap();
    assert!(status.success(), "ferry serve exited with {status}");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    assert_eq!(rest, ["stopped"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_made_locally_and_their_roles_hold_on_the_server() {
    let (dir, _ferry, url, developer) = served_lab().await;
    let dir = dir.path();
    let as_developer = |args: &[&str]| {
        let mut all: Vec<String> = developer.to_vec();
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };

    let made = ferry_cli(
        dir,
        &["--json", "token", "create", "ops", "--role", "manager"],
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let manager = made.json()["token"].as_str().unwrap().to_string();
    assert!(manager.starts_with("ferry_"), "{manager}");
    let listed = ferry_cli(dir, &["token", "list"]).await;
    assert!(listed.ok && listed.stdout.contains("ops") && listed.stdout.contains("manager"));
    assert!(
        !listed.stdout.contains(&manager),
        "a token is shown only once"
    );

    // A developer may not touch secrets; a manager may, and never sees a value.
    let args = as_developer(&["secret", "list"]);
    let refused = ferry_cli(dir, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("needs role manager") && refused.stderr.contains("`dev`"),
        "{}",
        refused.stderr
    );
    let as_manager = ["--server", &url, "--token", &manager];
    let set = ferry_cli_with_input(
        dir,
        &[&as_manager[..], &["secret", "set", "lab", "api_key"]].concat(),
        "s3cret-value\n",
    )
    .await;
    assert!(set.ok, "{}", set.stderr);
    let names = ferry_cli(
        dir,
        &[&as_manager[..], &["--json", "secret", "list", "lab"]].concat(),
    )
    .await;
    assert_eq!(
        names.json(),
        json!([{ "instance": "lab", "secret": "api_key" }])
    );
    assert!(!names.stdout.contains("s3cret"));

    // Without a token, or with a revoked one, nothing; local-only commands say so.
    let anonymous = ferry_cli(dir, &["--server", &url, "jobs", "list"]).await;
    assert!(!anonymous.ok);
    assert!(
        anonymous.stderr.contains("needs an API token"),
        "{}",
        anonymous.stderr
    );
    let revoked = ferry_cli(dir, &["token", "revoke", "ops"]).await;
    assert!(revoked.ok, "{}", revoked.stderr);
    let after = ferry_cli(dir, &[&as_manager[..], &["secret", "list"]].concat()).await;
    assert!(!after.ok);
    assert!(after.stderr.contains("not valid here"), "{}", after.stderr);
    let local_only = ferry_cli(dir, &["--server", &url, "connectors"]).await;
    assert!(!local_only.ok);
    assert!(
        local_only.stderr.contains("local installation only"),
        "{}",
        local_only.stderr
    );
}
