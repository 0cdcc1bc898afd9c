//! `hostile`: a connector that misbehaves on purpose, to show that the host
//! contains it. Each job does one bad thing; `ok` does nothing wrong, so tests can
//! check that the host runs the next job after a bad one. A few jobs probe host
//! APIs that the shop connectors do not use (runtime subscriptions, search).

use ferry_sdk::prelude::*;
use serde_json::{Value, json};

fn connector() -> Connector {
    Connector::new()
        .job("ok", "Succeeds and echoes its payload", |_ctx, payload| {
            Ok(json!({ "echo": payload }))
        })
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
        .job("fetch", "GETs the URL in the payload", |_ctx, payload| {
            let url = payload["url"].as_str().unwrap_or_default();
            let resp = ferry_sdk::http::Request::get(url).send()?;
            Ok(json!({ "status": resp.status }))
        })
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
            "read-env",
            "Reads environment variables and files",
            |_ctx, _payload| {
                let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let file = std::fs::read_to_string("/etc/passwd").is_ok();
                Ok(json!({ "env": env, "read_file": file }))
            },
        )
}

ferry_sdk::export_connector!(connector);
