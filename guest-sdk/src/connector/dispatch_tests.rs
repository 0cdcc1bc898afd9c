//! The step exports dispatch to the steps a connector declares, natively:
//! these steps never reach the host, so a detached context serves.

use crate::bindings::exports::ferry::connector0_2_0::guest as wit;
use crate::job::{JobDef, Param};
use crate::step::{Chunk, LocalWrite, Processed, Step, StepCall, Written};
use crate::{Connector, Context, ErrorKind, Result};
use serde_json::{Value, json};

/// Ten items `{n}`, read by index.
fn read_numbers(_: &Context, step: &StepCall, position: Option<Value>, size: u32) -> Result<Chunk> {
    let total = step.param("total").as_u64().unwrap_or(10);
    let from = position.and_then(|p| p.as_u64()).unwrap_or(0);
    let items: Vec<Value> = (from..total)
        .take(size as usize)
        .map(|n| json!({ "n": n }))
        .collect();
    let next = from + items.len() as u64;
    Ok(Chunk::new(items, (next < total).then(|| json!(next))))
}

/// Odd numbers are filtered, 4 is invalid, the rest kept doubled.
fn check(_: &Context, _: &StepCall, item: Value) -> Result<Processed> {
    let n = item["n"].as_u64().unwrap_or_default();
    Ok(match n {
        4 => Processed::Invalid("`n` is 4, which this step refuses".into()),
        n if n % 2 == 1 => Processed::Filtered,
        n => Processed::Keep(json!({ "n": n, "double": n * 2 })),
    })
}

/// Creates a linked record per item; 8 is refused by "the remote".
fn store(_: &Context, _: &StepCall, items: Vec<Value>, out: &mut Written) -> Result<()> {
    for item in items {
        if item["n"] == 8 {
            out.skip(item, "the remote refused 8");
            continue;
        }
        let id = item["n"].to_string();
        out.writes
            .create_linked("number", item.clone(), &id, Some("v1".into()));
        out.count += 1;
    }
    out.writes.checkpoint("number", 1, "look at it");
    Ok(())
}

fn report(_: &Context, step: &StepCall) -> Result<Value> {
    Ok(json!({ "job": step.job, "attempt": step.attempt, "total": step.param("total") }))
}

fn connector() -> Connector {
    Connector::new()
        .job("plain", "A plain job", |_, payload| {
            Ok(json!({ "got": payload }))
        })
        .batch(
            JobDef::new("numbers", "Numbers, step by step")
                .param(Param::integer("total").default(10).minimum(0.0))
                .param(Param::duration("since").describe("Window"))
                .param(Param::enumeration("mode", &["all", "even"]).required())
                .step(Step::items("double", 3, read_numbers, check, store).describe("Double"))
                .step(Step::tasklet("report", report)),
        )
}

fn call(step: &str, chunk: u64) -> StepCall {
    StepCall {
        job_id: 7,
        job: "numbers".into(),
        step: step.into(),
        params: json!({ "total": 10, "mode": "all" }),
        attempt: 2,
        chunk,
    }
}

#[test]
fn describe_reports_params_and_steps_and_plain_jobs_have_none() {
    let d = connector().describe();
    let plain = &d.jobs[0];
    assert_eq!(plain.name, "plain");
    assert!(plain.params.is_empty() && plain.steps.is_empty());

    let batch = &d.jobs[1];
    assert_eq!(batch.params.len(), 3);
    let total = &batch.params[0];
    assert_eq!(total.type_, wit::ParamType::Integer);
    assert_eq!(total.default.as_deref(), Some("10"));
    assert_eq!(total.minimum, Some(0.0));
    assert!(!total.required);
    assert_eq!(batch.params[1].type_, wit::ParamType::Duration);
    assert_eq!(batch.params[1].description, "Window");
    let mode = &batch.params[2];
    assert_eq!(mode.type_, wit::ParamType::Enumeration);
    assert!(mode.required);
    assert_eq!(
        mode.one_of,
        vec!["\"all\"".to_string(), "\"even\"".to_string()]
    );

    let steps: Vec<(&str, wit::StepKind, u32)> = batch
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.chunk_size))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("double", wit::StepKind::Items, 3),
            ("report", wit::StepKind::Tasklet, 1)
        ]
    );
    assert_eq!(batch.steps[0].description, "Double");
}

#[test]
fn an_item_step_reads_processes_and_writes_chunk_by_chunk() {
    let c = connector();
    let ctx = Context::detached();
    // The host's loop: read from the last position until the reader says none.
    let mut position = None;
    let mut chunks = 0;
    let (mut kept, mut filtered, mut invalid, mut written, mut skipped) = (0, 0, 0, 0, 0);
    let mut writes = Vec::new();
    loop {
        let step = call("double", chunks);
        let chunk = c.read_chunk(&ctx, &step, position.clone(), 3).unwrap();
        assert!(chunk.items.len() <= 3);
        let processed = c.process_chunk(&ctx, &step, chunk.items.clone()).unwrap();
        assert_eq!(processed.len(), chunk.items.len(), "one answer per item");
        let mut keep = Vec::new();
        for p in processed {
            match p {
                Processed::Keep(v) => keep.push(v),
                Processed::Filtered => filtered += 1,
                Processed::Invalid(reason) => {
                    assert!(reason.contains("`n`"));
                    invalid += 1
                }
            }
        }
        kept += keep.len();
        let out = c.write_chunk(&ctx, &step, keep).unwrap();
        written += out.count;
        skipped += out.skipped.len();
        writes.extend(out.writes.as_slice().iter().cloned());
        chunks += 1;
        match chunk.next {
            Some(next) => position = Some(next),
            None => break,
        }
    }
    assert_eq!(chunks, 4, "10 items by 3");
    assert_eq!((kept, filtered, invalid), (4, 5, 1)); // 0 2 6 8 kept, 4 invalid
    assert_eq!((written, skipped), (3, 1)); // 8 refused by the writer
    let created: Vec<&str> = writes
        .iter()
        .filter_map(|w| match w {
            LocalWrite::CreateLinked {
                external_id,
                remote_version,
                ..
            } => {
                assert_eq!(remote_version.as_deref(), Some("v1"));
                Some(external_id.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(created, vec!["0", "2", "6"]);
    assert_eq!(
        writes
            .iter()
            .filter(|w| matches!(w, LocalWrite::Checkpoint { .. }))
            .count(),
        4,
        "one per chunk"
    );
}

#[test]
fn a_tasklet_runs_once_with_the_step_context() {
    let out = connector()
        .run_tasklet(&Context::detached(), &call("report", 0))
        .unwrap();
    assert_eq!(out, json!({ "job": "numbers", "attempt": 2, "total": 10 }));
}

#[test]
fn step_calls_that_do_not_fit_the_declaration_are_refused_with_what_exists() {
    let c = connector();
    let ctx = Context::detached();
    let err = c.read_chunk(&ctx, &call("report", 0), None, 3).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Final);
    assert!(err.message.contains("is a tasklet"), "{}", err.message);

    let err = c.run_tasklet(&ctx, &call("double", 0)).unwrap_err();
    assert!(err.message.contains("is an item step"), "{}", err.message);

    let err = c.write_chunk(&ctx, &call("triple", 0), vec![]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("has: double, report"),
        "{}",
        err.message
    );

    let mut plain = call("x", 0);
    plain.job = "plain".into();
    let err = c.process_chunk(&ctx, &plain, vec![]).unwrap_err();
    assert!(err.message.contains("plain job"), "{}", err.message);

    let mut unknown = call("x", 0);
    unknown.job = "nope".into();
    let err = c.run_tasklet(&ctx, &unknown).unwrap_err();
    assert!(
        err.message.contains("has: plain, numbers"),
        "{}",
        err.message
    );
}

#[test]
fn a_reader_that_reads_more_than_the_chunk_is_refused() {
    let c = Connector::new().batch(JobDef::new("greedy", "").step(Step::items(
        "read",
        2,
        |_: &Context, _: &StepCall, _: Option<Value>, _: u32| {
            Ok(Chunk::new(vec![json!(1), json!(2), json!(3)], None))
        },
        crate::step::keep_all,
        |_: &Context, _: &StepCall, _: Vec<Value>, _: &mut Written| Ok(()),
    )));
    let mut step = call("read", 0);
    step.job = "greedy".into();
    let err = c
        .read_chunk(&Context::detached(), &step, None, 2)
        .unwrap_err();
    assert!(
        err.message.contains("read 3 items for a chunk of 2"),
        "{}",
        err.message
    );
}

#[test]
fn plain_jobs_run_and_batch_jobs_are_left_to_the_host() {
    let c = connector();
    let ctx = Context::detached();
    assert_eq!(
        c.run_job(&ctx, "plain", json!(1)).unwrap(),
        json!({ "got": 1 })
    );
    let err = c.run_job(&ctx, "numbers", json!({})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Final);
    assert!(
        err.message.contains("made of steps (double, report)"),
        "{}",
        err.message
    );
}

#[test]
fn a_full_chunk_continues_after_its_last_item_and_a_short_one_ends() {
    let id = |v: &Value| v["id"].clone();
    let full = Chunk::after_last(vec![json!({"id": 1}), json!({"id": 5})], 2, id);
    assert_eq!(full.next, Some(json!(5)));
    let short = Chunk::after_last(vec![json!({"id": 9})], 2, id);
    assert_eq!(short.next, None);
}
