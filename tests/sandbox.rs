//! The sandbox contains connector code its operators did not write: outbound
//! requests go only where the manifest allows (checked again after DNS, on
//! every redirect hop), bodies are capped, every request is logged, and a guest
//! that recurses, floods its log or reaches for files fails or gets nothing,
//! while the next job on the same Ferry runs fine.

use ferry::Ferry;
use ferry::engine::EngineConfig;
use ferry::store::{JobRow, JobState, NewJob, Transmission, TransmissionFilter};
use ferry_tests::*;
use serde_json::{Value, json};
use std::time::Duration;
use tempfile::TempDir;

/// Limits for these tests: small memory, a time budget that a busy machine
/// still meets for a few local requests.
fn limits(config: &mut EngineConfig) {
    config.memory_limit = 32 << 20;
    config.time_budget = Duration::from_secs(20);
}

/// Ferry with the hostile connector allowed `hosts`, as instance `lab` whose
/// param `url` is `url`.
async fn lab(
    hosts: &[&str],
    url: &str,
    configure: impl FnOnce(&mut EngineConfig),
) -> (TempDir, Ferry) {
    lab_with(hosts, url, "", configure).await
}

/// Like [`lab`], with more manifest text (`extra`) after `allowed_hosts`.
async fn lab_with(
    hosts: &[&str],
    url: &str,
    extra: &str,
    configure: impl FnOnce(&mut EngineConfig),
) -> (TempDir, Ferry) {
    let (dir, ferry) = fresh(|c| {
        limits(c);
        configure(c);
    })
    .await;
    let hostile = tokio::task::block_in_place(|| built("hostile"));
    let text = std::fs::read_to_string(&hostile.manifest).unwrap();
    let entries: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
    let manifest = dir.path().join("connector.toml");
    let text = with_capabilities(&text, &format!("allowed_hosts = [{}]", entries.join(", ")));
    std::fs::write(
        &manifest,
        format!("{text}\n[params.url]\nrequired = true\n\n{extra}\n"),
    )
    .unwrap();
    ferry.install(&manifest, &hostile.wasm).await.unwrap();
    let params = json!({ "url": url }).as_object().cloned().unwrap();
    ferry.add_instance("lab", "hostile", params).await.unwrap();
    (dir, ferry)
}

async fn job(ferry: &Ferry, name: &str, payload: Value) -> i64 {
    let mut job = NewJob::new("lab", name, &payload);
    job.max_retries = 0;
    ferry.enqueue(&job).await.unwrap()
}

/// Run `fetch` jobs for these payloads and an `ok` job after them; return the
/// fetch jobs as they ended, checking that `ok` ran.
async fn fetch_all(ferry: &Ferry, payloads: Vec<Value>) -> Vec<JobRow> {
    let mut ids = Vec::new();
    for payload in payloads {
        ids.push(job(ferry, "fetch", payload).await);
    }
    let ok = job(ferry, "ok", json!({})).await;
    drain(ferry, |_| {}).await.unwrap();
    assert_eq!(ferry.store().job(ok).await.unwrap().state, JobState::Done);
    let mut jobs = Vec::new();
    for id in ids {
        jobs.push(ferry.store().job(id).await.unwrap());
    }
    jobs
}

fn error_of(job: &JobRow) -> String {
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    job.error.clone().unwrap_or_default()
}

fn status_of(job: &JobRow) -> u64 {
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let result: Value = serde_json::from_str(job.result.as_deref().unwrap()).unwrap();
    result["status"].as_u64().unwrap()
}

async fn log_of(ferry: &Ferry, job: i64) -> Vec<Transmission> {
    let mut rows = ferry
        .store()
        .transmissions(&TransmissionFilter {
            job: Some(job),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    rows.reverse();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_outside_allowed_hosts_are_refused_and_logged() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let (_dir, ferry) = lab(&["https://api.shop.example"], &url, |_| {}).await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("{url}/_admin/stats") }),
            json!({ "url": "http://169.254.169.254/latest/meta-data/" }),
        ],
    )
    .await;
    for j in &jobs {
        assert_eq!(j.error_kind.as_deref(), Some("denied"), "{j:?}");
        assert!(
            error_of(j).contains("is not in the manifest's allowed_hosts"),
            "{j:?}"
        );
    }
    let refused = ferry
        .store()
        .transmissions(&TransmissionFilter {
            instance: Some("lab".into()),
            refused_only: true,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refused.len(), 2, "{refused:?}");
    // Jobs run concurrently: find the row by its job.
    let metadata = refused
        .iter()
        .find(|t| t.job_id == Some(jobs[1].id))
        .expect("a row for the metadata request");
    assert_eq!(
        (
            metadata.method.as_str(),
            metadata.url.as_str(),
            metadata.module.as_str()
        ),
        ("GET", "http://169.254.169.254/latest/meta-data/", "hostile")
    );
    assert_eq!(
        metadata.refused.as_deref(),
        Some("http://169.254.169.254:80 is not in the manifest's allowed_hosts")
    );
    assert_eq!((metadata.status, metadata.bytes_received), (None, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_addresses_are_refused_even_when_every_host_is_allowed() {
    let (shop, url) = start_shop(1, 0, 0).await.unwrap();
    let port = url.rsplit(':').next().unwrap().to_string();
    let (_dir, ferry) = lab(&["http://*:*"], &url, |_| {}).await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("http://127.0.0.1:{port}/_admin/stats") }),
            json!({ "url": "http://169.254.169.254/latest/meta-data/" }),
            json!({ "url": format!("http://[::1]:{port}/_admin/stats") }),
            json!({ "url": format!("http://localhost:{port}/_admin/stats") }),
            json!({ "url": "http://[fd00:ec2::254]/latest/meta-data/" }),
        ],
    )
    .await;
    let reasons: Vec<String> = jobs.iter().map(error_of).collect();
    assert!(
        reasons[0].contains("127.0.0.1 is a loopback address"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("169.254.169.254 is a cloud metadata address"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("::1 is a loopback address"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].contains("`localhost` resolves to 127.0.0.1, a loopback address"),
        "{reasons:?}"
    );
    assert!(reasons[4].contains("cloud metadata"), "{reasons:?}");
    assert!(
        jobs.iter()
            .all(|j| j.error_kind.as_deref() == Some("denied"))
    );
    // Nothing reached the shop.
    assert!(
        shop.data().requests.is_empty(),
        "{:?}",
        shop.data().requests
    );
    let rows = log_of(&ferry, jobs[3].id).await;
    assert!(
        rows[0].refused.as_deref().unwrap().contains("loopback"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_purpose_addresses_and_hidden_ipv4_are_denied_not_connected() {
    // A listener on the port: a request that got through would reach it.
    let (shop, url) = start_shop(1, 0, 0).await.unwrap();
    let port = url.rsplit(':').next().unwrap().to_string();
    let (_dir, ferry) = lab(&["http://*:*"], &url, |_| {}).await;
    // Each is refused as what the registry line says it is.
    #[rustfmt::skip]
    let cases = [
        ("[::127.0.0.1]", "::7f00:1 is an IPv4-compatible (deprecated) address (RFC 4291) of 127.0.0.1, a loopback address"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is an IPv4-mapped address (RFC 4291) of 127.0.0.1, a loopback address"),
        ("[64:ff9b:1::7f00:1]", "64:ff9b:1::7f00:1 is a local-use NAT64 (IPv4-IPv6 translation) address (RFC 8215)"),
        ("[64:ff9b::7f00:1]", "64:ff9b::7f00:1 is a NAT64 (IPv4-IPv6 translation) address (RFC 6052) of 127.0.0.1, a loopback"),
        ("[2002:7f00:1::1]", "2002:7f00:1::1 is a 6to4 address (RFC 3056) of 127.0.0.1, a loopback address"),
        ("[::ffff:169.254.169.254]", "of 169.254.169.254, a cloud metadata address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified (\"this host on this network\") address"),
        ("[::]", ":: is an unspecified address"),
        ("[fec0::1]", "fec0::1 is a site-local (deprecated) address (RFC 3879)"),
        ("[100::1]", "100::1 is a discard-only address (RFC 6666)"),
        ("[2001:db8::1]", "2001:db8::1 is a documentation address (RFC 3849)"),
        ("[3fff::1]", "3fff::1 is a documentation address (RFC 9637)"),
        ("[2001:2::1]", "2001:2::1 is a benchmarking address (RFC 5180)"),
        ("[2001::1]", "2001::1 is a Teredo address (RFC 4380)"),
        ("[5f00::1]", "5f00::1 is a segment routing (SRv6) SID address (RFC 9602)"),
        ("198.18.0.1", "198.18.0.1 is a benchmarking address (RFC 2544)"),
        ("192.0.0.9", "192.0.0.9 is an IETF protocol assignments address (RFC 6890)"),
        ("203.0.113.5", "203.0.113.5 is a documentation (TEST-NET-3) address (RFC 5737)"),
        ("240.0.0.1", "240.0.0.1 is a reserved address (RFC 1112)"),
        ("255.255.255.255", "255.255.255.255 is a limited broadcast address"),
    ];
    let payloads = cases
        .iter()
        .map(|(host, _)| json!({ "url": format!("http://{host}:{port}/_admin/stats") }))
        .collect();
    let jobs = fetch_all(&ferry, payloads).await;
    for ((host, said), job) in cases.iter().zip(&jobs) {
        assert_eq!(job.error_kind.as_deref(), Some("denied"), "{host}: {job:?}");
        let error = error_of(job);
        assert!(error.contains(said), "{host}: {error}");
        assert!(
            error.contains("reached only when allowed_hosts names the IP itself"),
            "{error}"
        );
        // The refusal is in the transmission log, and nothing was sent.
        let rows = log_of(&ferry, job.id).await;
        assert_eq!(rows.len(), 1, "{host}: {rows:?}");
        let refused = rows[0].refused.as_deref().unwrap_or_default();
        assert!(refused.contains(said), "{host}: {rows:?}");
        assert_eq!((rows[0].status, rows[0].bytes_sent), (None, 0), "{rows:?}");
    }
    assert!(
        shop.data().requests.is_empty(),
        "{:?}",
        shop.data().requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_naming_the_ip_reaches_a_local_server_and_the_answer_is_logged() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let port = url.rsplit(':').next().unwrap().to_string();
    let (_dir, ferry) = lab(&["{{ params.url }}"], &url, |_| {}).await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("{url}/_admin/stats?key=secret-value") }),
            json!({ "url": format!("http://localhost:{port}/_admin/stats") }),
        ],
    )
    .await;
    assert_eq!(status_of(&jobs[0]), 200);
    assert!(error_of(&jobs[1]).contains("allowed_hosts"));
    let rows = log_of(&ferry, jobs[0].id).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.status, Some(200));
    assert_eq!(
        row.url,
        format!("{url}/_admin/stats?key=***"),
        "query values are redacted"
    );
    assert!(
        row.bytes_received > 0 && row.refused.is_none() && row.error.is_none(),
        "{row:?}"
    );
    // Old rows can be forgotten.
    let store = ferry.store();
    let all = store
        .transmissions(&TransmissionFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let first = all.iter().map(|t| t.at).min().unwrap();
    let last = all.iter().map(|t| t.at).max().unwrap();
    assert_eq!(store.prune_transmissions(first).await.unwrap(), 0);
    assert_eq!(store.prune_transmissions(last + 1).await.unwrap(), 2);
    assert!(log_of(&ferry, jobs[0].id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_redirect_hop_is_checked() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let (_dir, ferry) = lab(&["{{ params.url }}"], &url, |_| {}).await;
    let to_stats = format!("{url}/_test/redirect?to={url}/_admin/stats");
    let to_metadata = format!("{url}/_test/redirect?to=http://169.254.169.254/latest/meta-data/");
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": to_stats, "follow": 3 }),
            json!({ "url": to_metadata, "follow": 3 }),
        ],
    )
    .await;
    assert_eq!(status_of(&jobs[0]), 200);
    let error = error_of(&jobs[1]);
    assert!(
        error.contains("http://169.254.169.254:80 is not in the manifest's allowed_hosts"),
        "{error}"
    );
    let hops = log_of(&ferry, jobs[1].id).await;
    assert_eq!(hops.len(), 2, "{hops:?}");
    assert_eq!(hops[0].status, Some(302));
    assert!(hops[1].refused.is_some(), "{hops:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_response_is_cut_with_a_clear_error() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let (_dir, ferry) = lab(&["{{ params.url }}"], &url, |c| {
        c.outbound.max_response_body = 1 << 20;
    })
    .await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("{url}/_test/huge?bytes={}", 64 << 20) }),
            json!({ "url": format!("{url}/_test/huge?bytes=1000") }),
        ],
    )
    .await;
    let error = error_of(&jobs[0]);
    assert!(
        error.contains("cut at 1048576 bytes") && error.contains("max_response_body"),
        "{error}"
    );
    assert_eq!(jobs[0].error_kind.as_deref(), Some("final"));
    assert_eq!(status_of(&jobs[1]), 200);
    let row = &log_of(&ferry, jobs[0].id).await[0];
    assert_eq!(
        (row.status, row.bytes_received),
        (Some(200), 1 << 20),
        "{row:?}"
    );
    assert!(
        row.error.as_deref().unwrap().contains("max_response_body"),
        "{row:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_and_path_rules_narrow_what_a_host_allows() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let (_dir, ferry) = lab(&["GET {{ params.url }}/_admin/*"], &url, |_| {}).await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("{url}/_admin/stats") }),
            json!({ "url": format!("{url}/_admin/stats"), "method": "DELETE" }),
            json!({ "url": format!("{url}/api/v1/products") }),
        ],
    )
    .await;
    assert_eq!(status_of(&jobs[0]), 200);
    let rule = format!("GET {url}/_admin/*");
    assert!(
        error_of(&jobs[1]).contains(&format!(
            "DELETE /_admin/stats on {url} is not allowed by allowed_hosts ({rule})"
        )),
        "{:?}",
        jobs[1]
    );
    assert!(
        error_of(&jobs[2]).contains("GET /api/v1/products"),
        "{:?}",
        jobs[2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_entry_allows_subdomains_only() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let port = url.rsplit(':').next().unwrap().to_string();
    let entry = format!("http://*.localhost:{port}");
    // The operator vouches for loopback, so that the subdomains (which the host
    // resolves to 127.0.0.1 itself) can be reached in this test.
    let (_dir, ferry) = lab(&[&entry], &url, |c| {
        c.outbound.trusted_networks = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let jobs = fetch_all(
        &ferry,
        vec![
            json!({ "url": format!("http://api.localhost:{port}/_admin/stats") }),
            json!({ "url": format!("http://localhost:{port}/_admin/stats") }),
            json!({ "url": format!("http://api.localhost:{}/_admin/stats", port.parse::<u16>().unwrap() + 1) }),
        ],
    )
    .await;
    assert_eq!(status_of(&jobs[0]), 200);
    assert!(error_of(&jobs[1]).contains("is not in the manifest's allowed_hosts"));
    assert!(error_of(&jobs[2]).contains("is not in the manifest's allowed_hosts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_invocation_are_capped() {
    let (_shop, url) = start_shop(1, 0, 0).await.unwrap();
    let (_dir, ferry) = lab(&["{{ params.url }}"], &url, |c| {
        c.outbound.max_requests = 2;
    })
    .await;
    let twice = format!("{url}/_test/redirect?to={url}/_test/redirect%3Fto%3D{url}/_admin/stats");
    let jobs = fetch_all(&ferry, vec![json!({ "url": twice, "follow": 5 })]).await;
    assert!(
        error_of(&jobs[0]).contains("more than 2 requests in one invocation"),
        "{:?}",
        jobs[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_log_floods_and_file_access_are_contained() {
    let (_dir, ferry) = hostile_lab().await;
    let recurse = job(&ferry, "recurse", json!({})).await;
    let flood = job(&ferry, "flood-log", json!({ "count": 20_000 })).await;
    let files = job(&ferry, "read-files", json!({})).await;
    let env = job(&ferry, "read-env", json!({})).await;
    let ok = job(&ferry, "ok", json!({})).await;
    drain(&ferry, |_| {}).await.unwrap();
    let store = ferry.store();

    let recurse = store.job(recurse).await.unwrap();
    assert!(error_of(&recurse).contains("stack overflow"), "{recurse:?}");

    assert_eq!(store.job(flood).await.unwrap().state, JobState::Done);
    let lines = store.job_logs(flood).await.unwrap();
    assert!(lines.len() <= 2_001, "{} lines kept", lines.len());
    let last = lines.last().unwrap();
    assert_eq!(
        (last.level.as_str(), last.module.as_str()),
        ("warn", "host")
    );
    assert!(
        last.message
            .contains("more log lines dropped (limit 2000 per run)"),
        "{last:?}"
    );

    let files = store.job(files).await.unwrap();
    assert_eq!(
        files.result.as_deref(),
        Some(r#"{"reached":[]}"#),
        "{files:?}"
    );
    let env = store.job(env).await.unwrap();
    assert_eq!(
        env.result.as_deref(),
        Some(r#"{"env":[],"read_file":false}"#)
    );
    assert_eq!(store.job(ok).await.unwrap().state, JobState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fuel_limit_stops_a_busy_guest_with_a_reason() {
    let (_dir, ferry) = fresh(|c| {
        tight(c);
        c.fuel = Some(50_000_000);
    })
    .await;
    install(&ferry, &["hostile"]).await;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await
        .unwrap();
    let spin = job(&ferry, "spin", json!({})).await;
    let ok = job(&ferry, "ok", json!({ "n": 2 })).await;
    drain(&ferry, |_| {}).await.unwrap();
    let spin = ferry.store().job(spin).await.unwrap();
    assert!(
        error_of(&spin).contains("fuel limit of 50000000 exceeded"),
        "{spin:?}"
    );
    assert_eq!(ferry.store().job(ok).await.unwrap().state, JobState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_directory_is_granted_only_when_asked_and_capped() {
    let (dir, ferry) = lab_with(
        &[],
        "http://unused.invalid",
        "[capabilities.work_dir]\nmax_bytes = 65536\n",
        |_| {},
    )
    .await;
    let run = async |name: &str, payload: Value| {
        let id = job(&ferry, name, payload).await;
        drain(&ferry, |_| {}).await.unwrap();
        let done = ferry.store().job(id).await.unwrap();
        assert_eq!(done.state, JobState::Done, "{done:?}");
        let result: Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
        (id, result)
    };
    let (_, first) = run("write-file", json!({ "name": "a.csv", "bytes": 40_000 })).await;
    assert_eq!(first, json!({ "written": true, "files": ["a.csv"] }));
    let on_host = dir.path().join("work").join("lab").join("a.csv");
    assert_eq!(std::fs::metadata(&on_host).unwrap().len(), 40_000);
    // Under the cap when the run starts: it may write (and go over).
    let (_, second) = run("write-file", json!({ "name": "b.csv", "bytes": 40_000 })).await;
    assert_eq!(second["written"], json!(true));
    // Over the cap: read-only until cleaned, and the run's log says why.
    let (id, third) = run("write-file", json!({ "name": "c.csv", "bytes": 10 })).await;
    assert_eq!(
        third,
        json!({ "written": false, "files": ["a.csv", "b.csv"] })
    );
    let logs = ferry.store().job_logs(id).await.unwrap();
    assert!(
        logs.iter().any(|l| l
            .message
            .contains("over its cap of 65536 (max_bytes): read-only")),
        "{logs:?}"
    );
    // The rest of the file system stays out of reach.
    let (_, files) = run("read-files", json!({})).await;
    assert_eq!(files, json!({ "reached": [] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_capability_there_is_no_work_directory() {
    let (_dir, ferry) = hostile_lab().await;
    let id = job(
        &ferry,
        "write-file",
        json!({ "name": "a.csv", "bytes": 10 }),
    )
    .await;
    drain(&ferry, |_| {}).await.unwrap();
    let done = ferry.store().job(id).await.unwrap();
    assert_eq!(
        done.result.as_deref(),
        Some(r#"{"files":[],"written":false}"#),
        "{done:?}"
    );
}
