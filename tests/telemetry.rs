//! What a `ferry worker` process tells operators besides its work: traces
//! sent to an OTLP/HTTP collector (a tiny one in this test) when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, one trace per job with its
//! instantiations, unit calls and outbound requests; and log lines, as JSON
//! or text, that name the instance, module and job of the run they belong
//! to, and never carry a terminal escape when piped.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use ferry::Ferry;
use ferry::store::{JobFilter, JobState, NewJob, TransmissionFilter};
use ferry_tests::*;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP collector (JSON protocol) on a free port: its endpoint and
/// the export requests it received.
async fn collector() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Received>, body: Bytes| async move {
                let export: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                received.lock().unwrap().push(export);
                ([("content-type", "application/json")], "{}")
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, received)
}

/// A span as the collector got it.
#[derive(Debug, Clone)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    attributes: HashMap<String, String>,
}

/// Every span of every export request.
fn spans(received: &Received) -> Vec<Span> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for export in received.lock().unwrap().iter() {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let attributes = span["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let value = a["value"]
                                .as_object()
                                .and_then(|o| o.values().next())
                                .map(text)
                                .unwrap_or_default();
                            (text(&a["key"]), value)
                        })
                        .collect();
                    out.push(Span {
                        trace: text(&span["traceId"]),
                        id: text(&span["spanId"]),
                        parent: span["parentSpanId"].as_str().unwrap_or_default().into(),
                        name: text(&span["name"]),
                        attributes,
                    });
                }
            }
        }
    }
    out
}

/// Run `ferry worker --until-idle` on `ferry`'s installation with `env` and
/// `args`; its output once it ended well.
async fn worker(
    dir: &std::path::Path,
    ferry: &Ferry,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(ferry_bin());
    command
        .arg("--data-dir")
        .arg(dir)
        .arg("--database")
        .arg(ferry.store().url())
        .args(["worker", "--until-idle"])
        .args(args)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run ferry worker");
    assert!(
        output.status.success(),
        "the worker failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_sends_one_trace_per_job_with_its_calls_and_requests() {
    let (dir, ferry, _shop) = shop_setup("shop@2.0", 25, 0, 0).await;
    enqueue_import(&ferry, "acme", "product")
        .await
        .expect("enqueue");
    let (endpoint, received) = collector().await;
    worker(
        dir.path(),
        &ferry,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "ferry-under-test"),
            ("FERRY_LOG", "error"),
        ],
    )
    .await;
    // The worker flushed its spans before it exited.
    let jobs = ferry
        .store()
        .list_jobs(&JobFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(jobs.len() > 1 && jobs.iter().all(|j| j.state == JobState::Done));
    let service = received.lock().unwrap()[0]["resourceSpans"][0]["resource"].to_string();
    assert!(service.contains("ferry-under-test"), "{service}");
    let spans = spans(&received);

    // One root span per job, each its own trace, naming the job.
    let roots: Vec<&Span> = spans.iter().filter(|s| s.name == "job").collect();
    let ids: HashSet<String> = roots
        .iter()
        .map(|s| s.attributes["job_id"].clone())
        .collect();
    let expected: HashSet<String> = jobs.iter().map(|j| j.id.to_string()).collect();
    assert_eq!(ids, expected, "one job span per job");
    assert_eq!(roots.len(), jobs.len());
    let traces: HashSet<&str> = roots.iter().map(|s| s.trace.as_str()).collect();
    assert_eq!(traces.len(), jobs.len(), "one trace per job");
    for root in &roots {
        assert!(root.parent.is_empty(), "{root:?}");
        assert_eq!(root.attributes["instance"], "acme");
        assert_eq!(root.attributes["module"], "shop");
        let job = jobs
            .iter()
            .find(|j| j.id.to_string() == root.attributes["job_id"])
            .unwrap();
        assert_eq!(root.attributes["job"], job.name);
        // Its instantiation is a span of its trace.
        assert!(
            spans
                .iter()
                .any(|s| s.trace == root.trace && s.name == "instantiate"),
            "job {} has no instantiate span",
            job.id
        );
    }
    // Every span belongs to a job's trace, under a parent of that trace.
    let by_id: HashMap<&str, &Span> = spans.iter().map(|s| (s.id.as_str(), s)).collect();
    for span in &spans {
        assert!(
            traces.contains(span.trace.as_str()),
            "{span:?} outside any job trace"
        );
        if span.name != "job" {
            let parent = by_id
                .get(span.parent.as_str())
                .expect("parent span exported");
            assert_eq!(parent.trace, span.trace);
        }
    }
    // Each outbound request is a span with method, host and status: as many
    // as the transmission log holds.
    let sent = ferry
        .store()
        .transmissions(&TransmissionFilter {
            instance: Some("acme".into()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let requests: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "outbound request")
        .collect();
    assert_eq!(requests.len(), sent.len(), "one span per transmission");
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.attributes["method"], "GET");
        assert_eq!(request.attributes["host"], "127.0.0.1");
        assert_eq!(request.attributes["status"], "200");
    }
    // Unit calls are spans too, naming the module that answered.
    let units: Vec<&Span> = spans.iter().filter(|s| s.name == "unit").collect();
    assert!(
        !units.is_empty(),
        "the import calls units: {:?}",
        spans.iter().map(|s| &s.name).collect::<HashSet<_>>()
    );
    assert!(units.iter().all(|u| !u.attributes["module"].is_empty()));
}

/// A job of the hostile connector that logs terminal control sequences.
async fn inject(ferry: &Ferry) -> i64 {
    ferry
        .enqueue(&NewJob::new("lab", "inject", &json!({})))
        .await
        .expect("enqueue inject")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_name_instance_module_and_job() {
    let (dir, ferry) = hostile_lab().await;
    let id = inject(&ferry).await;
    let output = worker(
        dir.path(),
        &ferry,
        &["--log-format", "json"],
        &[("FERRY_LOG", "ferry=debug")],
    )
    .await;
    assert!(!output.stderr.contains(&0x1b), "no ESC byte in JSON lines");
    let text = String::from_utf8(output.stderr).expect("UTF-8 lines");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // The guest's log line, inside the job's span.
    let line = lines
        .iter()
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("log "))
        })
        .unwrap_or_else(|| panic!("the guest's line is missing:\n{text}"));
    assert_eq!(line["span"]["name"], "job", "{line}");
    assert_eq!(line["span"]["job_id"], id, "{line}");
    assert_eq!(line["span"]["instance"], "lab", "{line}");
    assert_eq!(line["span"]["module"], "hostile", "{line}");
    // The guest's text is there, escaped by JSON, not lost.
    assert!(
        line["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("\u{1b}]52;c;")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_log_lines_piped_carry_the_job_and_no_escape() {
    let (dir, ferry) = hostile_lab().await;
    let id = inject(&ferry).await;
    let output = worker(dir.path(), &ferry, &[], &[("FERRY_LOG", "ferry=debug")]).await;
    assert!(!output.stderr.contains(&0x1b), "no ESC byte when piped");
    let text = String::from_utf8(output.stderr).expect("UTF-8 lines");
    let line = text
        .lines()
        .find(|l| l.contains(" log "))
        .unwrap_or_else(|| panic!("the guest's line is missing:\n{text}"));
    for field in [
        format!("job_id={id}"),
        "instance=lab".into(),
        "module=hostile".into(),
    ] {
        assert!(line.contains(&field), "{field} missing in {line}");
    }
    assert!(
        line.contains("\\x1b]52;c;"),
        "the escape is shown escaped: {line}"
    );
}
