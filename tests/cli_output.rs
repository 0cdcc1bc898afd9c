//! The `ferry` binary as an operator meets it: what a hostile guest wrote is
//! escaped in every human output and exact with `--json`; a job waiting to
//! retry says when it runs, and `requeue` runs it now (locally and through a
//! server); `jobs --limit`, record counts, payloads from files and stdin;
//! network errors in words, and host logs without colour or dependency noise
//! when piped.

use ferry::Ferry;
use ferry::store::{JobState, NewJob, RetryPattern, now_ms};
use ferry_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

/// What the `inject` job leaves everywhere: hides what follows (`ESC[8m`),
/// sets the clipboard (OSC 52), forges a line, reverses text, clears the
/// screen with a one-byte CSI (C1).
const TEXT: &str =
    "\x1b[8mhidden\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\r\n  network: none\u{202e}gnp.exe\u{9b}2J";

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

/// Run the `ferry` binary on `ferry`'s installation (and database), with
/// `input` on stdin and these environment variables.
async fn cli_with(ferry: &Ferry, args: &[&str], input: &str, env: &[(&str, &str)]) -> Run {
    use tokio::io::AsyncWriteExt;
    let bin = tokio::task::block_in_place(ferry_bin);
    let mut command = tokio::process::Command::new(bin);
    command.arg("--data-dir").arg(ferry.data_dir());
    if ferry.store().url().starts_with("postgres") {
        command.arg("--database").arg(ferry.store().url());
    }
    for var in [
        "FERRY_SERVER",
        "FERRY_TOKEN",
        "FERRY_LOG",
        "RUST_LOG",
        "NO_COLOR",
    ] {
        command.env_remove(var);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ferry");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().await.expect("run ferry");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn cli(ferry: &Ferry, args: &[&str]) -> Run {
    cli_with(ferry, args, "", &[]).await
}

/// Whether `text` holds a character a terminal would act on (C0 but line
/// breaks, DEL, C1, bidi controls).
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

async fn enqueue(ferry: &Ferry, instance: &str, name: &str, payload: Value) -> i64 {
    let mut job = NewJob::new(instance, name, &payload);
    job.max_retries = 0;
    ferry.enqueue(&job).await.expect("enqueue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_text_is_escaped_in_every_human_output_and_exact_in_json() {
    let (_dir, ferry) = hostile_lab().await;
    let done = enqueue(&ferry, "lab", "inject", json!({ "text": TEXT })).await;
    let failed = enqueue(
        &ferry,
        "lab",
        "inject",
        json!({ "text": TEXT, "fail": true }),
    )
    .await;
    drain(&ferry, |_| {}).await.expect("run the jobs");
    let (done, failed) = (done.to_string(), failed.to_string());

    for args in [
        vec!["jobs", "show", done.as_str()],
        vec!["jobs", "show", failed.as_str()],
        vec!["jobs"],
        vec!["jobs", "list", "--state", "failed"],
        vec!["checkpoints"],
        vec!["logs"],
        vec!["records", "note"],
    ] {
        let run = cli(&ferry, &args).await;
        assert!(run.ok, "{args:?}: {}", run.stderr);
        assert_eq!(
            raw_control(&run.stdout),
            None,
            "{args:?} printed a raw control character: {:?}",
            run.stdout
        );
        // Shown escaped (as `\x1b`, or as `\u001b` inside JSON values).
        assert!(
            run.stdout.contains("\\x1b[8mhidden") || run.stdout.contains("\\u001b[8mhidden"),
            "{args:?}: {}",
            run.stdout
        );
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.trim_start().starts_with("network:")),
            "{args:?}: a guest wrote a line of its own: {}",
            run.stdout
        );
    }
    let shown = cli(&ferry, &["jobs", "show", &failed]).await.stdout;
    assert!(
        shown.contains("\\x07\\r\\n  network: none\\u{202e}gnp.exe\\u{9b}2J"),
        "{shown}"
    );

    // Scripts get the exact text.
    let detail = cli(&ferry, &["--json", "jobs", "show", &done]).await.json();
    let messages: Vec<&str> = detail["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert!(
        messages.contains(&format!("log {TEXT}").as_str()),
        "{messages:?}"
    );
    let result = detail["job"]["result"]
        .as_str()
        .unwrap_or_else(|| panic!("no result: {detail}"));
    let result: Value = serde_json::from_str(result).unwrap();
    assert_eq!(result, json!({ "result": TEXT }));
    let detail = cli(&ferry, &["--json", "jobs", "show", &failed])
        .await
        .json();
    assert_eq!(detail["job"]["error"], format!("error {TEXT}"));
    let notes = cli(&ferry, &["--json", "checkpoints"]).await.json();
    assert_eq!(notes[0]["message"], format!("note {TEXT}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waiting_to_retry_says_when_it_runs_and_requeue_runs_it_now() {
    let (_dir, ferry) = hostile_lab().await;
    let mut waiting = NewJob::new("lab", "fail-retryable", &json!({}));
    waiting.retry_pattern = Some(RetryPattern::parse("1:1h").unwrap());
    waiting.max_retries = 3;
    waiting.identity_key = Some("nightly".into());
    let waiting = ferry.enqueue(&waiting).await.unwrap();
    let mut final_one = NewJob::new("lab", "fail-final", &json!({}));
    final_one.identity_key = Some("twin".into());
    let final_one = ferry.enqueue(&final_one).await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    let before = ferry.store().job(waiting).await.unwrap();
    assert_eq!((before.state, before.attempts), (JobState::Pending, 1));
    assert!(before.eta.unwrap() > now_ms() + 3_000_000);

    let id = waiting.to_string();
    let shown = cli(&ferry, &["jobs", "show", &id]).await;
    // "in 1h" or "in 59m", or less on a slow, busy machine: about an hour
    // away, not now.
    let when = shown
        .stdout
        .split_once("next try (try 2 of 4): in ")
        .and_then(|(_, rest)| rest.split_once(" ("))
        .map(|(when, _)| when.to_string())
        .unwrap_or_else(|| panic!("no next try: {}", shown.stdout));
    let minutes: u32 = when
        .split_once('m')
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    assert!(
        (when == "1h" || (30..60).contains(&minutes)) && shown.stdout.contains(" UTC)"),
        "{}",
        shown.stdout
    );

    // A real twin (another job with the key, waiting) still keeps a requeue out.
    let mut twin = NewJob::new("lab", "ok", &json!({}));
    twin.identity_key = Some("twin".into());
    let twin = ferry.enqueue(&twin).await.unwrap();
    let refused = cli(&ferry, &["jobs", "requeue", &final_one.to_string()]).await;
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains(&format!("job {twin} with the same identity key `twin`")),
        "{}",
        refused.stderr
    );

    // The waiting job, whose own key is `nightly`, runs now.
    let requeued = cli(&ferry, &["jobs", "requeue", &id]).await;
    assert!(requeued.ok, "{}", requeued.stderr);
    assert!(
        requeued
            .stdout
            .starts_with(&format!("job {waiting} is due now (it was waiting until ")),
        "{}",
        requeued.stdout
    );
    let after = ferry.store().job(waiting).await.unwrap();
    assert_eq!((after.state, after.attempts), (JobState::Pending, 1));
    assert!(after.eta.unwrap() <= now_ms());

    // The same through a server: the admin code is shared.
    let url = start_server(&ferry, Default::default()).await;
    let token = api_token(&ferry, ferry::tokens::Role::Developer).await;
    let remote = ["--server", &url, "--token", &token, "--json"];
    let requeued = cli(&ferry, &[&remote[..], &["jobs", "requeue", &id]].concat()).await;
    assert!(requeued.ok, "{}", requeued.stderr);
    let answer = requeued.json();
    assert_eq!(
        (answer["was"].as_str(), answer["state"].as_str()),
        (Some("pending"), Some("pending"))
    );

    // A remote asking to wait snoozes the instance: `jobs show` says until when.
    ferry
        .add_instance("lab2", "hostile", Default::default())
        .await
        .unwrap();
    // (Only a remote's 429 or 503 snoozes an instance: recorded here as a
    // worker would record it, without a remote to run.)
    let mut slow = NewJob::new("lab2", "ok", &json!({}));
    slow.max_retries = 3;
    slow.priority = -1;
    let slow = ferry.enqueue(&slow).await.unwrap();
    let claimed = claim(&ferry, 1, std::time::Duration::from_secs(60)).await;
    assert_eq!(claimed[0].id, slow);
    let later = now_ms() + 1_800_000;
    ferry
        .store()
        .record_failure(
            &ferry::store::FailedTry {
                id: slow,
                token: claimed[0].lease_token.unwrap(),
                error: "remote said 429 Too Many Requests".into(),
                kind: ferry::error::FailureKind::Retryable,
                retry_at: Some(later),
                count_try: true,
                snooze_until: Some(later),
                module: None,
                started_at: None,
            },
            &[],
        )
        .await
        .unwrap();
    let shown = cli(&ferry, &["jobs", "show", &slow.to_string()]).await;
    assert!(
        shown
            .stdout
            .contains("snoozed: instance `lab2` waits until in ")
            && shown.stdout.contains("remote said 429"),
        "{}",
        shown.stdout
    );
    let remote_show = cli(
        &ferry,
        &[&remote[..], &["jobs", "show", &slow.to_string()]].concat(),
    )
    .await;
    assert_eq!(remote_show.json()["snooze"]["instance"], "lab2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_limit_record_counts_and_payloads_from_files_or_stdin() {
    let (dir, ferry) = hostile_lab().await;
    for n in 0..3 {
        ferry
            .store()
            .create_record("note", json!({ "n": n }))
            .await
            .unwrap();
        enqueue(&ferry, "lab", "ok", json!({ "n": n })).await;
    }
    let listed = cli(&ferry, &["--json", "jobs", "--limit", "2"]).await;
    assert!(listed.ok, "{}", listed.stderr);
    assert_eq!(listed.json().as_array().map(Vec::len), Some(2));
    let pending = cli(
        &ferry,
        &["--json", "jobs", "--state", "pending", "--limit", "1"],
    )
    .await;
    assert_eq!(pending.json().as_array().map(Vec::len), Some(1));

    let notes = cli(&ferry, &["records", "note", "--limit", "2"]).await;
    assert!(
        notes.stdout.contains("2 of 3 note records"),
        "{}",
        notes.stdout
    );
    let none = cli(&ferry, &["records", "nots"]).await;
    assert!(none.ok, "{}", none.stderr);
    assert_eq!(
        none.stdout.trim(),
        "no nots records; models with records: note (3)"
    );

    // A payload larger than one argument may be (128 KiB on Linux).
    let big = json!({ "text": "x".repeat(300_000) });
    let file = dir.path().join("payload.json");
    std::fs::write(&file, big.to_string()).unwrap();
    let at_file = format!("@{}", file.display());
    let from_file = cli(
        &ferry,
        &["--json", "run", "lab", "ok", "--payload", &at_file],
    )
    .await;
    assert!(from_file.ok, "{}", from_file.stderr);
    let from_stdin = cli_with(
        &ferry,
        &["run", "lab", "ok", "--payload", "-"],
        &big.to_string(),
        &[],
    )
    .await;
    assert!(from_stdin.ok, "{}", from_stdin.stderr);
    let pressed = cli(
        &ferry,
        &["--json", "trigger", "lab", "echo-now", "--data", &at_file],
    )
    .await;
    assert!(pressed.ok, "{}", pressed.stderr);
    let jobs = ferry
        .store()
        .list_jobs(&ferry::store::JobFilter {
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    for job in &jobs {
        assert_eq!(serde_json::from_str::<Value>(&job.payload).unwrap(), big);
    }

    let missing = dir.path().join("missing.json");
    let at_missing = format!("@{}", missing.display());
    let refused = cli(&ferry, &["run", "lab", "ok", "--payload", &at_missing]).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains(&format!(
            "--payload {at_missing}: cannot read `{}`",
            missing.display()
        )),
        "{}",
        refused.stderr
    );
    std::fs::write(&file, "{ not json").unwrap();
    let bad = cli(&ferry, &["run", "lab", "ok", "--payload", &at_file]).await;
    assert!(!bad.ok);
    assert!(
        bad.stderr.contains(&format!(
            "--payload: `{}` is not valid JSON",
            file.display()
        )),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_errors_are_said_in_words_and_piped_host_logs_are_plain() {
    let (dir, ferry) = fresh(|c| c.time_budget = Duration::from_secs(20)).await;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let manifest = dir.path().join("connector.toml");
    let allowed = format!("allowed_hosts = [\"http://127.0.0.1:{port}\"]");
    std::fs::write(&manifest, with_capabilities(&text, &allowed)).unwrap();
    ferry.install(&manifest, &hostile.wasm).await.unwrap();
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let closed = enqueue(
        &ferry,
        "lab",
        "fetch",
        json!({ "url": format!("http://127.0.0.1:{port}/x") }),
    )
    .await;
    let refused = enqueue(
        &ferry,
        "lab",
        "fetch",
        json!({ "url": "http://example.com/" }),
    )
    .await;

    // `info` shows the host's own lines; dependencies stay at `error`.
    let worker = cli_with(
        &ferry,
        &["worker", "--until-idle", "--no-cron"],
        "",
        &[("FERRY_LOG", "info")],
    )
    .await;
    assert!(worker.ok, "{}", worker.stderr);
    assert!(
        worker.stderr.contains("outbound request refused"),
        "the host's info lines show: {}",
        worker.stderr
    );
    assert!(
        !worker.stderr.contains('\x1b'),
        "no colour when piped: {:?}",
        worker.stderr
    );
    assert!(
        !worker.stderr.contains("connect error") && !worker.stderr.contains("Os {"),
        "wasmtime-wasi-http's warnings stay out: {}",
        worker.stderr
    );

    let error = ferry
        .store()
        .job(closed)
        .await
        .unwrap()
        .error
        .unwrap_or_default();
    assert!(
        error.contains(&format!(
            "request to http://127.0.0.1:{port}/x failed: connection refused"
        )),
        "{error}"
    );
    assert!(!error.contains("ErrorCode"), "{error}");
    let error = ferry
        .store()
        .job(refused)
        .await
        .unwrap()
        .error
        .unwrap_or_default();
    assert!(error.contains("allowed_hosts"), "{error}");

    // A server that is not there: why, in words.
    let server = format!("http://127.0.0.1:{port}");
    let nobody = cli(&ferry, &["--server", &server, "jobs"]).await;
    assert!(!nobody.ok);
    assert!(
        nobody
            .stderr
            .contains("cannot reach the server: connection refused"),
        "{}",
        nobody.stderr
    );
}
