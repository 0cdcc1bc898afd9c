//! Human renderings of crafted guest text: nothing a terminal would obey, no
//! line a guest wrote on its own; `--json` exact.

use super::Output;
use crate::cli::terminal::inert;
use ferry::Installed;
use ferry::admin::{ActionResult, JobAction, JobDetail, LogEntry, Snooze};
use ferry::backend::{Description, JobDecl, UnitDecl};
use ferry::store::{Checkpoint, InstalledModule, JobRow, JobState, LinkRow, RecordRow, now_ms};
use serde_json::{Value, json};

/// Hides what follows, sets the clipboard, forges a line, reorders text.
const HIDE: &str = "\x1b[8m";
const CLIPBOARD: &str = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07";
const FORGED: &str = "\n  network: none";
const BIDI: &str = "\u{202e}txt.exe";
const C1: &str = "\u{9b}2J";

fn hostile(tag: &str) -> String {
    format!("{tag}{HIDE}{CLIPBOARD}{FORGED}{BIDI}{C1}\r\x08")
}

fn job_row(name: &str, state: &str, attempts: i64, eta: Option<i64>) -> JobRow {
    serde_json::from_value(json!({
        "id": 7, "instance": "lab", "name": name, "payload": hostile("payload"),
        "priority": 10, "eta": eta, "max_retries": 5, "attempts": attempts,
        "retry_pattern": null, "identity_key": null, "merge_key": null,
        "channel": "root", "group": null, "pin": null, "pin_policy": "keep",
        "lease_token": null, "lease_until": null, "worker": null, "state": state,
        "description": hostile("description"), "user": "cli", "module": "hostile",
        "module_hash": "abc", "progress_total": null, "progress_done": null,
        "result": format!("{{\"text\":\"{}\"}}", hostile("result").replace('\n', "\\n")),
        "error": hostile("error"), "error_kind": "final", "stop_requested": false,
        "created_at": 0, "started_at": null, "finished_at": null,
    }))
    .expect("a job row")
}

fn detail(job: JobRow) -> JobDetail {
    JobDetail {
        job,
        logs: vec![LogEntry {
            attempt: 1,
            at: 0,
            level: "info".into(),
            module: "hostile".into(),
            message: hostile("log"),
        }],
        snooze: None,
        dependencies: Vec::new(),
    }
}

/// No terminal control, and no line that starts with what a guest wrote.
fn assert_tame(text: &str) {
    assert!(inert(text), "{text:?}");
    for forged in ["network:", "txt.exe"] {
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with(forged)),
            "a guest line of its own: {text}"
        );
    }
}

#[test]
fn jobs_show_and_list_escape_what_the_guest_wrote() {
    let out = Output::capturing(false);
    let job = job_row(&hostile("name"), "failed", 1, None);
    out.job(&detail(job.clone()));
    out.jobs(&[job]);
    let text = out.captured();
    assert_tame(&text);
    assert!(text.contains("name\\x1b[8m\\x1b]52;c;"), "{text}");
    assert!(text.contains("[hostile] log\\x1b[8m"), "{text}");
    assert!(text.contains("error (final): error\\x1b[8m"), "{text}");
    assert!(
        text.contains("\\n  network: none\\u{202e}txt.exe\\u{9b}2J\\r\\x08"),
        "{text}"
    );
}

#[test]
fn json_output_stays_exact() {
    let out = Output::capturing(true);
    let shown = detail(job_row(&hostile("name"), "failed", 1, None));
    out.job(&shown);
    let back: Value = serde_json::from_str(&out.captured()).unwrap();
    assert_eq!(back["job"]["name"], hostile("name"));
    assert_eq!(back["logs"][0]["message"], hostile("log"));
    assert_eq!(back["job"]["error"], hostile("error"));
}

#[test]
fn an_install_summary_cannot_be_forged() {
    let description = Description {
        units: vec![UnitDecl {
            kind: hostile("mapper"),
            model: "product".into(),
            methods: vec![],
        }],
        jobs: vec![JobDecl {
            name: hostile("import"),
            description: String::new(),
            params: vec![],
            steps: vec![],
        }],
        ..Default::default()
    };
    let installed = Installed {
        module: InstalledModule {
            name: hostile("shop"),
            version: hostile("1.0"),
            content_hash: "0123456789abcdef".into(),
            manifest: String::new(),
            description: String::new(),
            wasm_path: String::new(),
            installed_at: 0,
        },
        description,
        // Warnings quote manifest text: escaped like the rest.
        warnings: vec![hostile("models = [\"x\"]")],
    };
    let out = Output::capturing(false);
    out.installed(&installed);
    let text = out.captured();
    assert!(inert(&text), "{text:?}");
    let network: Vec<&str> = text.lines().filter(|l| l.contains("network:")).collect();
    assert_eq!(network.len(), 5, "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("  network: "))
            .count(),
        1,
        "one real network line: {text}"
    );
}

#[test]
fn tables_of_records_links_and_checkpoints_escape_every_cell() {
    let out = Output::capturing(false);
    let mut values = serde_json::Map::new();
    values.insert("name".into(), json!(hostile("value")));
    out.records(
        "note",
        &[RecordRow {
            id: 1,
            model: "note".into(),
            values,
            created_at: 0,
            updated_at: 0,
            revision: 1,
        }],
        Some(1),
        &[],
    );
    out.links(&[LinkRow {
        instance: "lab".into(),
        model: "note".into(),
        local_id: 1,
        external_id: hostile("ext"),
        sync_date: None,
        data: json!({ "note": hostile("data") }),
        remote_version: None,
        synced_revision: None,
    }]);
    out.checkpoints(&[Checkpoint {
        id: 1,
        instance: "lab".into(),
        model: "note".into(),
        record_id: 1,
        message: hostile("note"),
        job_id: None,
        created_at: 0,
    }]);
    out.message(&hostile("message"));
    let text = out.captured();
    assert_tame(&text);
    assert!(text.contains("ext\\x1b[8m"), "{text}");
    assert!(text.contains("note\\x1b[8m"), "{text}");
}

#[test]
fn a_job_waiting_to_retry_says_when_it_runs() {
    let now = now_ms();
    let out = Output::capturing(false);
    let mut waiting = detail(job_row("import", "pending", 2, Some(now + 90_000)));
    out.job(&waiting);
    let text = out.captured();
    assert!(
        text.contains("next try (try 3 of 6): in 1m 30s ("),
        "{text}"
    );
    assert!(text.contains(" UTC)"), "{text}");

    waiting.snooze = Some(Snooze {
        instance: "lab".into(),
        until: now + 3_600_000,
        reason: "remote said 429".into(),
    });
    let out = Output::capturing(false);
    out.job(&waiting);
    let text = out.captured();
    assert!(text.contains("next try (try 3 of 6): in 1h ("), "{text}");
    assert!(
        text.contains("snoozed: instance `lab` waits until in 1h (")
            && text.contains("remote said 429"),
        "{text}"
    );
}

#[test]
fn requeueing_a_waiting_job_says_it_is_due_now() {
    let out = Output::capturing(false);
    out.action(&ActionResult {
        id: 4,
        action: JobAction::Requeue,
        state: JobState::Pending,
        was: Some(JobState::Pending),
        was_due: Some(now_ms() + 60_000),
    });
    out.action(&ActionResult {
        id: 5,
        action: JobAction::Requeue,
        state: JobState::Pending,
        was: Some(JobState::Failed),
        was_due: None,
    });
    let text = out.captured();
    assert!(
        text.starts_with("job 4 is due now (it was waiting until "),
        "{text}"
    );
    assert!(text.ends_with("job 5 is pending again"), "{text}");
}

#[test]
fn records_say_how_many_the_model_has() {
    let row = |id| RecordRow {
        id,
        model: "product".into(),
        values: Default::default(),
        created_at: 0,
        updated_at: 0,
        revision: 1,
    };
    let out = Output::capturing(false);
    out.records("product", &[row(1), row(2)], Some(1203), &[]);
    assert!(
        out.captured().contains("2 of 1 203 product records"),
        "{}",
        out.captured()
    );
    let out = Output::capturing(false);
    out.records(
        "prodct",
        &[],
        Some(0),
        &[("product".into(), 1203), ("order".into(), 4)],
    );
    assert_eq!(
        out.captured(),
        "no prodct records; models with records: product (1 203), order (4)"
    );
    let out = Output::capturing(false);
    out.records("product", &[], Some(0), &[]);
    assert_eq!(
        out.captured(),
        "no product records; there are no records of any model yet"
    );
}

#[test]
fn a_conflict_shows_guest_values_without_obeying_or_forging_lines() {
    let out = Output::capturing(false);
    let conflict: ferry::admin::ConflictInfo = serde_json::from_value(json!({
        "id": 3, "instance": "lab", "model": "note", "local_id": 1,
        "external_id": hostile("ext"),
        "local": { "name": hostile("mine") }, "remote": { "name": hostile("theirs") },
        "diff": { hostile("field"): { "local": hostile("mine"), "remote": hostile("theirs") } },
        "take_local": { "name": hostile("export"), "payload": { "x": hostile("payload") } },
        "take_remote": { "name": "import-record", "payload": {} },
        "state": "resolved", "created_at": 0, "job_id": null, "resolved_at": 0,
        "resolved_by": hostile("api:"), "resolution": "local",
    }))
    .expect("a conflict");
    out.conflict(&conflict);
    out.conflicts(std::slice::from_ref(&conflict), true);
    let text = out.captured();
    assert_tame(&text);
    assert!(text.contains("ext\\x1b[8m"), "{text}");
    assert!(text.contains("field\\x1b[8m"), "{text}");
}
