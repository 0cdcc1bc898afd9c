//! `/metrics` after a real import against the shop simulator, parsed with a
//! Prometheus text parser: the counts are those of the jobs the store holds,
//! the histograms counted each try, outbound requests by host equal the
//! transmission log; viewers may read it, callers without a token may not;
//! a `ferry worker --metrics-addr` exposes its own counts without a token.

use ferry::Ferry;
use ferry::store::{JobFilter, JobState, TransmissionFilter};
use ferry::tokens::Role;
use ferry_tests::*;
use prometheus_parse::{Sample, Scrape, Value};
use std::time::Duration;

/// Parse a scrape; fails the test on text the parser cannot read.
fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

/// The samples of `metric` whose labels include every pair of `with`.
fn samples<'a>(scrape: &'a Scrape, metric: &str, with: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| with.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

/// The sum of the counter, gauge or untyped values of `metric` with `with`.
fn total(scrape: &Scrape, metric: &str, with: &[(&str, &str)]) -> f64 {
    samples(scrape, metric, with)
        .iter()
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => panic!("{metric} is not a plain value: {:?}", s.value),
        })
        .sum()
}

/// Every job of the installation, whatever its state.
async fn all_jobs(ferry: &Ferry) -> Vec<ferry::store::JobRow> {
    ferry
        .store()
        .list_jobs(&JobFilter {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .expect("list jobs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_an_import_count_the_jobs_that_ran() {
    let (_dir, ferry, _shop) = shop_setup("shop@2.0", 120, 0, 0).await;
    enqueue_import(&ferry, "acme", "product")
        .await
        .expect("enqueue");
    let stats = drain(&ferry, |_| {}).await.expect("drain");
    assert_eq!(stats.failed, 0, "{stats:?}");

    let url = start_server(&ferry, Default::default()).await;
    let client = reqwest::Client::new();
    let anonymous = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(anonymous.status(), 401, "no token, no metrics");
    let viewer = api_token(&ferry, Role::Viewer).await;
    let response = client
        .get(format!("{url}/metrics"))
        .bearer_auth(&viewer)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    let scrape = parse(&text);

    // Every job the store holds was enqueued, started and done here.
    let jobs = all_jobs(&ferry).await;
    assert!(jobs.len() > 1, "the import fanned out into batches");
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
    let ran = jobs.len() as f64;
    assert_eq!(
        total(&scrape, "ferry_jobs_enqueued_total", &[]),
        ran,
        "{text}"
    );
    assert_eq!(total(&scrape, "ferry_jobs_started_total", &[]), ran);
    assert_eq!(total(&scrape, "ferry_jobs_done_total", &[]), ran);
    assert_eq!(total(&scrape, "ferry_jobs_failed_total", &[]), 0.0);
    assert_eq!(total(&scrape, "ferry_jobs_retried_total", &[]), 0.0);
    let batches = jobs.iter().filter(|j| j.name == "import-batch").count() as f64;
    let by_name = [("instance", "acme"), ("job", "import-batch")];
    assert_eq!(total(&scrape, "ferry_jobs_done_total", &by_name), batches);

    // One duration and one queue wait per try; one instantiation at least per try.
    assert_eq!(total(&scrape, "ferry_job_duration_seconds_count", &[]), ran);
    assert_eq!(
        total(&scrape, "ferry_job_queue_wait_seconds_count", &[]),
        ran
    );
    assert!(
        total(
            &scrape,
            "ferry_instantiation_seconds_count",
            &[("module", "shop")]
        ) >= ran
    );
    assert!(
        total(
            &scrape,
            "ferry_guest_memory_peak_bytes_count",
            &[("instance", "acme")]
        ) >= ran
    );
    let durations = samples(&scrape, "ferry_job_duration_seconds", &[]);
    assert!(
        durations
            .iter()
            .all(|s| matches!(&s.value, Value::Histogram(b) if !b.is_empty())),
        "job durations are histograms with buckets"
    );

    // Outbound requests by host and status: those of the transmission log.
    let sent = ferry
        .store()
        .transmissions(&TransmissionFilter {
            instance: Some("acme".into()),
            limit: 100_000,
            ..Default::default()
        })
        .await
        .expect("transmissions");
    assert!(!sent.is_empty());
    let ok = sent.iter().filter(|t| t.status == Some(200)).count() as f64;
    let host = [("host", "127.0.0.1"), ("status", "200"), ("refusal", "")];
    assert_eq!(total(&scrape, "ferry_outbound_requests_total", &host), ok);
    assert_eq!(
        total(&scrape, "ferry_outbound_requests_total", &[]),
        sent.len() as f64
    );

    // Queue depth from the database, by state and channel.
    assert_eq!(
        total(
            &scrape,
            "ferry_queue_jobs",
            &[("state", "done"), ("channel", "root")]
        ),
        ran
    );
    assert_eq!(total(&scrape, "ferry_lease_rescues_total", &[]), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_serves_its_own_metrics_on_metrics_addr() {
    let (dir, ferry, _shop) = shop_setup("shop@2.0", 30, 0, 0).await;
    enqueue_import(&ferry, "acme", "product")
        .await
        .expect("enqueue");
    // A free port for the worker's listener (the worker binds it again).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut worker = spawn_worker(dir.path(), &ferry, &["--metrics-addr", &addr]);
    eventually(Duration::from_secs(300), "the import is done", async || {
        let jobs = all_jobs(&ferry).await;
        jobs.len() > 1 && jobs.iter().all(|j| j.state == JobState::Done)
    })
    .await;
    let jobs = all_jobs(&ferry).await.len() as f64;
    let client = reqwest::Client::new();
    let mut text = String::new();
    // Its counters move once the recorder reported the last outcome.
    eventually(
        Duration::from_secs(60),
        "the worker's metrics count every job",
        async || {
            let Ok(response) = client.get(format!("http://{addr}/metrics")).send().await else {
                return false;
            };
            assert_eq!(response.status(), 200, "no token needed on --metrics-addr");
            text = response.text().await.unwrap_or_default();
            total(&parse(&text), "ferry_jobs_done_total", &[]) == jobs
        },
    )
    .await;
    let scrape = parse(&text);
    // This process enqueued the first job; the worker stored the batches.
    assert_eq!(total(&scrape, "ferry_jobs_enqueued_total", &[]), jobs - 1.0);
    assert_eq!(
        total(&scrape, "ferry_job_duration_seconds_count", &[]),
        jobs
    );
    let other = client
        .get(format!("http://{addr}/api/health"))
        .send()
        .await
        .expect("GET /api/health");
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
    let _ = worker.kill();
    let _ = worker.wait();
}
