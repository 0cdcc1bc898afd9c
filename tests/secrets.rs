//! Secrets: sealed at rest, set from stdin and never printed, and presented by
//! the host as sealed credentials only toward the hosts a credential is bound
//! to; the guest never sees a value, and values are redacted from its log.
//! A secret the manifest lists in `[capabilities] reveal` is handed to the
//! guest, audited, and redacted from the job's log, error and result.

use ferry::Ferry;
use ferry::audit;
use ferry::secrets::{self, MasterKey};
use ferry::store::{AuditFilter, JobRow, JobState, NewJob, TransmissionFilter};
use ferry_tests::*;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// The shop simulator's default bearer token, kept as a secret of `lab`.
const VALUE: &str = "demo-token";

/// The hostile connector allowed the shop at `url` and `localhost` on its
/// port, with credentials bound to `url` only.
async fn lab(url: &str) -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(|c| c.time_budget = Duration::from_secs(20)).await;
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let port = url.rsplit(':').next().unwrap();
    let manifest = dir.path().join("connector.toml");
    let text = with_capabilities(
        &text,
        &format!(r#"allowed_hosts = ["{{{{ params.url }}}}", "http://localhost:{port}"]"#),
    );
    std::fs::write(
        &manifest,
        format!(
            r#"{text}
[params.url]
required = true

[[capabilities.credential]]
name = "shop-token"
secret = "token"
hosts = ["GET {{{{ params.url }}}}"]
present = "bearer"

[[capabilities.credential]]
name = "shop-key"
secret = "token"
hosts = ["{{{{ params.url }}}}/_test/*"]
header = "X-Api-Key"

[[capabilities.credential]]
name = "shop-query"
secret = "token"
hosts = ["{{{{ params.url }}}}"]
query = "api_key"

[[capabilities.credential]]
name = "elsewhere"
secret = "other-token"
hosts = ["{{{{ params.url }}}}"]
present = "basic"
user = "me"
"#
        ),
    )
    .unwrap();
    ferry.install(&manifest, &hostile.wasm).await.unwrap();
    let params = json!({ "url": url }).as_object().cloned().unwrap();
    ferry
        .add_instance("lab", "hostile", params.clone())
        .await
        .unwrap();
    ferry
        .add_instance("other", "hostile", params)
        .await
        .unwrap();
    (dir, ferry)
}

async fn fetch(ferry: &Ferry, payload: Value) -> i64 {
    let mut job = NewJob::new("lab", "fetch", &payload);
    job.max_retries = 0;
    ferry.enqueue(&job).await.unwrap()
}

fn status_of(job: &JobRow) -> u64 {
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let result: Value = serde_json::from_str(job.result.as_deref().unwrap()).unwrap();
    result["status"].as_u64().unwrap()
}

fn error_of(job: &JobRow) -> String {
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    job.error.clone().unwrap_or_default()
}

async fn log_text(ferry: &Ferry, job: i64) -> String {
    let lines = ferry.store().job_logs(job).await.unwrap();
    lines
        .iter()
        .map(|l| l.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_credential_is_presented_only_toward_its_hosts() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let port = url.rsplit(':').next().unwrap().to_string();
    let (_dir, ferry) = lab(&url).await;
    let store = ferry.store();
    let key = MasterKey::load(&secrets::key_file(ferry.data_dir())).unwrap();
    secrets::set(store, &key, "lab", "token", VALUE, audit::CLI)
        .await
        .unwrap();
    // Another instance's secret does not serve `lab`.
    secrets::set(
        store,
        &key,
        "other",
        "other-token",
        "other-S3cret-1",
        audit::CLI,
    )
    .await
    .unwrap();

    // Stored sealed: the row holds no plaintext.
    let sealed = store.sealed_secrets("lab").await.unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].1.contains(VALUE) && !sealed[0].1.contains("demo"));

    let echo = format!("{url}/_test/echo");
    let ids = [
        fetch(&ferry, json!({ "url": format!("{url}/v2/catalog/products"), "credential": "shop-token" })).await,
        fetch(&ferry, json!({ "url": format!("{url}/v2/catalog/products") })).await,
        fetch(&ferry, json!({ "url": echo, "credential": "shop-token", "log_body": true })).await,
        fetch(&ferry, json!({ "url": echo, "credential": "shop-key", "log_body": true })).await,
        fetch(&ferry, json!({ "url": format!("{echo}?a=1"), "credential": "shop-query", "log_body": true })).await,
        fetch(&ferry, json!({ "url": format!("http://localhost:{port}/_test/echo"), "credential": "shop-token" })).await,
        fetch(&ferry, json!({ "url": echo, "method": "POST", "credential": "shop-token" })).await,
        fetch(&ferry, json!({ "url": echo, "credential": "nope" })).await,
        fetch(&ferry, json!({ "url": echo, "credential": "elsewhere" })).await,
    ];
    drain(&ferry, |_| {}).await.unwrap();
    let mut jobs = Vec::new();
    for id in ids {
        jobs.push(store.job(id).await.unwrap());
    }

    // Injected toward its host: the shop accepts the token; without it, 401.
    assert_eq!(status_of(&jobs[0]), 200);
    assert_eq!(status_of(&jobs[1]), 401);
    // The echo shows where the value went, redacted in the guest's log line.
    let bearer = log_text(&ferry, ids[2]).await;
    assert!(
        bearer.contains(r#""authorization":"Bearer ***""#),
        "{bearer}"
    );
    assert!(
        !bearer.contains("ferry-credential"),
        "the asking header is stripped: {bearer}"
    );
    let header = log_text(&ferry, ids[3]).await;
    assert!(header.contains(r#""x-api-key":"***""#), "{header}");
    let query = log_text(&ferry, ids[4]).await;
    assert!(query.contains(r#""query":"a=1&api_key=***""#), "{query}");
    for id in &ids[2..5] {
        assert_eq!(status_of(&store.job(*id).await.unwrap()), 200);
    }

    // Refused: another host, a method the binding does not allow, an
    // undeclared credential, a secret set only on another instance.
    let other_host = error_of(&jobs[5]);
    assert!(
        other_host.contains(
            "credential `shop-token` is not bound to GET /_test/echo on http://localhost:"
        ),
        "{other_host}"
    );
    assert!(
        error_of(&jobs[6]).contains("is not bound to POST"),
        "{:?}",
        jobs[6]
    );
    assert!(error_of(&jobs[7]).contains("credential `nope` is not declared in the manifest"));
    let elsewhere = error_of(&jobs[8]);
    assert!(
        elsewhere.contains("secret `other-token` of backend instance `lab` is not set"),
        "{elsewhere}"
    );

    // Nothing a guest or an operator reads holds the value.
    let rows = store
        .transmissions(&TransmissionFilter {
            instance: Some("lab".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), ids.len());
    for row in &rows {
        let text = format!("{row:?}");
        assert!(
            !text.contains(VALUE) && !text.contains("other-S3cret"),
            "{text}"
        );
    }
    assert!(rows.iter().any(|r| {
        r.refused
            .as_deref()
            .is_some_and(|r| r.contains("not bound"))
    }));
    for (job, id) in jobs.iter().zip(ids) {
        let all = format!("{job:?} {}", log_text(&ferry, id).await);
        assert!(!all.contains(VALUE), "{all}");
    }
}

/// The value of `signing_key` of `lab`, which the hostile manifest reveals.
const KEY: &str = "hmac-K3y-of-lab";
/// The value of `signing_key` of `other`.
const OTHER_KEY: &str = "hmac-K3y-of-other";

async fn reveal(ferry: &Ferry, instance: &str, payload: Value) -> i64 {
    let mut job = NewJob::new(instance, "reveal", &payload);
    job.max_retries = 0;
    ferry.enqueue(&job).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_secret_is_revealed_audited_and_redacted_from_what_the_job_leaves() {
    let (_dir, ferry) = hostile_lab_with(|c| c.time_budget = Duration::from_secs(20)).await;
    for instance in ["other", "bare"] {
        ferry
            .add_instance(instance, "hostile", Default::default())
            .await
            .unwrap();
    }
    let store = ferry.store();
    let key = MasterKey::load(&secrets::key_file(ferry.data_dir())).unwrap();
    for (instance, name, value) in [
        ("lab", "signing_key", KEY),
        ("lab", "token", VALUE),
        ("other", "signing_key", OTHER_KEY),
    ] {
        secrets::set(store, &key, instance, name, value, audit::CLI)
            .await
            .unwrap();
    }

    let name = json!({ "name": "signing_key" });
    let ok = reveal(&ferry, "lab", name.clone()).await;
    let failing = reveal(
        &ferry,
        "lab",
        json!({ "name": "signing_key", "fail": true }),
    )
    .await;
    let panicking = reveal(
        &ferry,
        "lab",
        json!({ "name": "signing_key", "panic": true }),
    )
    .await;
    let unlisted = reveal(&ferry, "lab", json!({ "name": "token" })).await;
    // `bare` has no `signing_key`; `other`'s is never reached from it.
    let elsewhere = reveal(&ferry, "bare", name.clone()).await;
    drain(&ferry, |_| {}).await.unwrap();
    let job = async |id| store.job(id).await.unwrap();

    // The guest got the value (its length shows it), but the result, the
    // log line and the errors it wrote it into hold `***`.
    let done = job(ok).await;
    assert_eq!(done.state, JobState::Done, "{done:?}");
    let result: Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({ "value": "***", "bytes": KEY.len() }));
    let log = log_text(&ferry, ok).await;
    assert!(log.contains("revealed signing_key: ***"), "{log}");
    assert_eq!(error_of(&job(failing).await), "failing with ***");
    let panicked = error_of(&job(panicking).await);
    assert!(panicked.contains("panicking with ***"), "{panicked}");
    assert!(
        log_text(&ferry, panicking)
            .await
            .contains("panicking with ***")
    );

    // An unlisted secret is refused, saying what the manifest must declare.
    let refused = job(unlisted).await;
    assert_eq!(refused.error_kind.as_deref(), Some("denied"), "{refused:?}");
    let message = error_of(&refused);
    assert!(
        message.contains("secret `token` is not revealed to module `hostile`")
            && message.contains(r#"[capabilities] reveal = ["token"]"#),
        "{message}"
    );
    let missing = job(elsewhere).await;
    assert_eq!(
        missing.error_kind.as_deref(),
        Some("not-found"),
        "{missing:?}"
    );
    assert!(
        error_of(&missing).contains("secret `signing_key` of backend instance `bare` is not set"),
        "{missing:?}"
    );

    // No job row or log line holds a value.
    for id in [ok, failing, panicking, unlisted, elsewhere] {
        let all = format!("{:?} {}", job(id).await, log_text(&ferry, id).await);
        for value in [KEY, OTHER_KEY, VALUE] {
            assert!(!all.contains(value), "{value} in {all}");
        }
    }

    // The audit log has every reveal, the refused one too, with its job, and
    // the operator's changes; never a value.
    let entries = audit::list(
        store,
        &AuditFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let seen: Vec<(String, String, String, String, Option<i64>)> = entries
        .iter()
        .rev()
        .map(|e| {
            let text = format!("{e:?}");
            assert!(!text.contains(KEY) && !text.contains(VALUE), "{text}");
            (
                e.actor.clone(),
                e.action.clone(),
                e.instance.clone(),
                e.subject.clone(),
                e.job_id,
            )
        })
        .collect();
    let row = |actor: &str, action: &str, instance: &str, subject: &str, job: Option<i64>| {
        (
            actor.to_string(),
            action.to_string(),
            instance.to_string(),
            subject.to_string(),
            job,
        )
    };
    let by_job = |id: i64| format!("job:{id}");
    let expected = [
        row("cli", "secret.set", "lab", "signing_key", None),
        row("cli", "secret.set", "lab", "token", None),
        row("cli", "secret.set", "other", "signing_key", None),
    ];
    let mut reveals = vec![
        row(&by_job(ok), "secret.reveal", "lab", "signing_key", Some(ok)),
        row(
            &by_job(failing),
            "secret.reveal",
            "lab",
            "signing_key",
            Some(failing),
        ),
        row(
            &by_job(panicking),
            "secret.reveal",
            "lab",
            "signing_key",
            Some(panicking),
        ),
        row(
            &by_job(unlisted),
            "secret.reveal-denied",
            "lab",
            "token",
            Some(unlisted),
        ),
        row(
            &by_job(elsewhere),
            "secret.reveal-failed",
            "bare",
            "signing_key",
            Some(elsewhere),
        ),
    ];
    // Jobs may run in any order.
    let mut got_reveals = seen[3..].to_vec();
    got_reveals.sort_by_key(|r| r.4);
    reveals.sort_by_key(|r| r.4);
    assert_eq!(seen[..3], expected[..], "{entries:#?}");
    assert_eq!(got_reveals, reveals, "{entries:#?}");
    let denied = entries
        .iter()
        .find(|e| e.action == "secret.reveal-denied")
        .unwrap();
    assert!(
        denied
            .detail
            .as_deref()
            .unwrap()
            .contains("[capabilities] reveal"),
        "{denied:?}"
    );

    // Filters: one instance, one job.
    let only = |instance: Option<&str>, job: Option<i64>| AuditFilter {
        instance: instance.map(str::to_string),
        job,
        limit: 100,
        ..Default::default()
    };
    let bare = audit::list(store, &only(Some("bare"), None)).await.unwrap();
    assert_eq!(bare.len(), 1, "{bare:?}");
    let of_ok = audit::list(store, &only(None, Some(ok))).await.unwrap();
    assert_eq!(of_ok.len(), 1, "{of_ok:?}");
    assert_eq!(of_ok[0].action, "secret.reveal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reads_a_value_from_stdin_and_never_prints_it() {
    let (dir, ferry) = fresh(|_| {}).await;
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let bin = tokio::task::block_in_place(ferry_bin);
    let ferry_cmd = |args: &[&str], stdin: &str| {
        let mut child = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--database")
            .arg(ferry.store().url())
            .args(args)
            .env_remove(secrets::MASTER_KEY_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(VALUE), "a value was printed: {text}");
        (out.status.success(), text)
    };
    let (ok, text) = tokio::task::block_in_place(|| {
        ferry_cmd(&["secret", "set", "lab", "token"], &format!("{VALUE}\n"))
    });
    assert!(ok, "{text}");
    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["secret", "set", "nobody", "token"], VALUE));
    assert!(!ok && text.contains("nobody"), "{text}");
    // Too short to be redacted: refused, saying why.
    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["secret", "set", "lab", "pin"], "123\n"));
    assert!(
        !ok && text.contains("at least 4 bytes") && text.contains("redacted"),
        "{text}"
    );
    let (ok, text) = tokio::task::block_in_place(|| ferry_cmd(&["--json", "secret", "list"], ""));
    assert!(ok, "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed, json!([{ "instance": "lab", "secret": "token" }]));

    // The key file was created on first use, readable by its owner only, and
    // opens what the CLI sealed.
    let key_file = secrets::key_file(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = MasterKey::load(&key_file).unwrap();
    let sealed = ferry.store().sealed_secrets("lab").await.unwrap();
    assert_eq!(key.open("lab", "token", &sealed[0].1).unwrap(), VALUE);

    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["secret", "remove", "lab", "token"], ""));
    assert!(ok, "{text}");
    let (ok, text) = tokio::task::block_in_place(|| ferry_cmd(&["secret", "list", "lab"], ""));
    assert!(ok && text.contains("no secrets"), "{text}");

    // A reveal by a job, then the audit log as the operator sees it.
    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["secret", "set", "lab", "signing_key"], KEY));
    assert!(ok, "{text}");
    let id = reveal(&ferry, "lab", json!({ "name": "signing_key" })).await;
    drain(&ferry, |_| {}).await.unwrap();
    let (ok, text) = tokio::task::block_in_place(|| {
        ferry_cmd(
            &[
                "--json",
                "logs",
                "--audit",
                "--instance",
                "lab",
                "--since",
                "1h",
            ],
            "",
        )
    });
    assert!(ok && !text.contains(KEY), "{text}");
    let listed: Vec<Value> = serde_json::from_str(&text).unwrap();
    let actions: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .collect();
    let job_actor = format!("job:{id}");
    assert_eq!(
        actions,
        [
            (job_actor.as_str(), "secret.reveal", "signing_key"),
            ("cli", "secret.set", "signing_key"),
            ("cli", "secret.remove", "token"),
            ("cli", "secret.set", "token"),
        ],
        "{text}"
    );
    assert_eq!(listed[0]["job_id"], json!(id));
    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["logs", "--audit", "--limit", "1"], ""));
    assert!(
        ok && text.contains("secret.reveal") && !text.contains("secret.set"),
        "{text}"
    );
    let (ok, text) =
        tokio::task::block_in_place(|| ferry_cmd(&["logs", "--audit", "--instance", "nobody"], ""));
    assert!(ok && text.contains("no audit entries"), "{text}");
}
