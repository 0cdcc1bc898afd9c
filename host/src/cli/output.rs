//! How the CLI prints: tables for people, JSON (`--json`) for scripts.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use ferry::Installed;
use ferry::admin::{ActionResult, InstanceInfo, JobAction, JobDetail, JobInfo, Pressed};
use ferry::backend::{Description, Registry};
use ferry::builder::Built;
use ferry::store::{Checkpoint, JobState, LinkRow, RecordRow, TokenRow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};

/// Where results go.
pub struct Output {
    json: bool,
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    t
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

impl Output {
    /// Human output unless `json`.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    fn emit<T: Serialize>(&self, data: &T, human: impl FnOnce() -> String) {
        let text = if self.json {
            serde_json::to_string_pretty(data).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        } else {
            human()
        };
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
            // The reader went away (`ferry jobs | head`): nothing left to say.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(1);
        }
    }

    /// A value, with its human rendering.
    pub fn value(&self, data: &Value, human: &str) {
        self.emit(data, || human.to_string());
    }

    /// A one-line message.
    pub fn message(&self, text: &str) {
        self.emit(&json!({ "message": text }), || text.to_string());
    }

    /// A progress bar on a terminal (hidden for `--json` or when piped).
    pub fn progress_bar(&self, what: &str) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }

    fn describe_units(d: &Description) -> String {
        let units: Vec<String> = d
            .units
            .iter()
            .map(|u| format!("{}:{}", u.kind, u.model))
            .collect();
        if units.is_empty() {
            "none".into()
        } else {
            units.join(", ")
        }
    }

    fn describe_jobs(d: &Description) -> String {
        let jobs: Vec<&str> = d.jobs.iter().map(|j| j.name.as_str()).collect();
        if jobs.is_empty() {
            "none".into()
        } else {
            jobs.join(", ")
        }
    }

    /// Result of `ferry build`.
    pub fn built(&self, built: &Built, d: &Description) {
        let data = json!({ "wasm": built.wasm, "size": built.size, "description": d });
        self.emit(&data, || {
            format!(
                "built {} ({:.1} KiB)\n  implements the connector world ✓\n  units: {}\n  jobs:  {}",
                built.wasm.display(),
                built.size as f64 / 1024.0,
                Self::describe_units(d),
                Self::describe_jobs(d)
            )
        });
    }

    /// Result of `ferry install`.
    pub fn installed(&self, i: &Installed) {
        self.emit(
            &json!({ "module": i.module, "description": i.description }),
            || {
                // What the module may reach, for the operator to review.
                let capabilities = ferry::manifest::Manifest::parse(&i.module.manifest)
                    .map(|m| m.capabilities)
                    .unwrap_or_default();
                let list = |items: &[String]| {
                    if items.is_empty() {
                        "none".to_string()
                    } else {
                        items.join(", ")
                    }
                };
                format!(
                    "installed {} {} ({})\n  units: {}\n  jobs:  {}\n  network: {}\n  \
                     secrets revealed to it: {}",
                    i.module.name,
                    i.module.version,
                    &i.module.content_hash[..12],
                    Self::describe_units(&i.description),
                    Self::describe_jobs(&i.description),
                    list(&capabilities.allowed_hosts),
                    list(&capabilities.reveal),
                )
            },
        );
    }

    /// Installed modules.
    pub fn connectors(&self, registry: &Registry) {
        let rows: Vec<Value> = registry
            .modules()
            .map(|m| {
                json!({
                    "name": m.name(), "version": m.manifest.module.version, "hash": m.content_hash,
                    "backends": m.manifest.backends.iter().map(|b| json!({"key": b.key().to_string(), "parent": b.parent})).collect::<Vec<_>>(),
                    "description": m.description,
                })
            })
            .collect();
        self.emit(&rows, || {
            let mut t = table(&["module", "version", "backends", "units", "jobs"]);
            for m in registry.modules() {
                let backends = m
                    .manifest
                    .backends
                    .iter()
                    .map(|b| match &b.parent {
                        Some(p) => format!("{} → {p}", b.key()),
                        None => b.key().to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                t.add_row(vec![
                    m.name().to_string(),
                    m.manifest.module.version.clone(),
                    backends,
                    m.description.units.len().to_string(),
                    m.description
                        .jobs
                        .iter()
                        .map(|j| j.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]);
            }
            t.to_string()
        });
    }

    /// Backend instances (params holding secrets shown as `***`).
    pub fn instances(&self, instances: &[InstanceInfo]) {
        self.emit(&instances, || {
            let mut t = table(&["instance", "backend", "params"]);
            for i in instances {
                t.add_row(vec![
                    i.name.clone(),
                    i.backend.clone(),
                    Value::Object(i.params.clone()).to_string(),
                ]);
            }
            t.to_string()
        });
    }

    /// API tokens (never the tokens themselves).
    pub fn tokens(&self, tokens: &[TokenRow]) {
        self.emit(&tokens, || {
            if tokens.is_empty() {
                return "no API tokens (make one: ferry token create NAME --role viewer)".into();
            }
            let mut t = table(&["token", "role", "created", "last used"]);
            for token in tokens {
                t.add_row(vec![
                    token.name.clone(),
                    token.role.clone(),
                    time(token.created_at),
                    token
                        .last_used_at
                        .map(time)
                        .unwrap_or_else(|| "never".into()),
                ]);
            }
            t.to_string()
        });
    }

    /// A list of jobs.
    pub fn jobs(&self, jobs: &[JobInfo]) {
        self.emit(&jobs, || {
            let mut t = table(&[
                "id",
                "state",
                "instance",
                "job",
                "prio",
                "tries",
                "module",
                "description / error",
            ]);
            for j in jobs {
                let note = j.error.clone().unwrap_or_else(|| j.description.clone());
                t.add_row(vec![
                    j.id.to_string(),
                    j.state.to_string(),
                    j.instance.clone(),
                    j.name.clone(),
                    j.priority.to_string(),
                    j.attempts.to_string(),
                    j.module.clone().unwrap_or_default(),
                    short(&note, 60),
                ]);
            }
            t.to_string()
        });
    }

    /// One job with its log.
    pub fn job(&self, detail: &JobDetail) {
        let (job, logs) = (&detail.job, &detail.logs);
        self.emit(detail, || {
            let mut s = format!(
                "job {} `{}` for {}: {} after {} tries\n  payload: {}\n",
                job.id,
                job.name,
                job.instance,
                job.state,
                job.attempts,
                short(&job.payload, 200)
            );
            if let Some(m) = &job.module {
                s.push_str(&format!(
                    "  module:  {m} ({})\n",
                    job.module_hash.as_deref().map(|h| &h[..12]).unwrap_or("")
                ));
            }
            if let (Some(t), Some(d)) = (job.progress_total, job.progress_done) {
                s.push_str(&format!("  progress: {d}/{t}\n"));
            }
            if let Some(r) = &job.result {
                s.push_str(&format!("  result:  {}\n", short(r, 400)));
            }
            if let Some(e) = &job.error {
                s.push_str(&format!(
                    "  error ({}): {e}\n",
                    job.error_kind.as_deref().unwrap_or("?")
                ));
            }
            for l in logs {
                s.push_str(&format!(
                    "  {} try {} {:5} [{}] {}\n",
                    time(l.at),
                    l.attempt,
                    l.level,
                    l.module,
                    l.message
                ));
            }
            s.trim_end().to_string()
        });
    }

    /// What an operator's action on a job did.
    pub fn action(&self, done: &ActionResult) {
        let id = done.id;
        let text = match (done.action, done.state) {
            (JobAction::Requeue, _) => format!("job {id} is pending again"),
            (JobAction::Cancel, _) => format!("job {id} cancelled"),
            (JobAction::Stop, JobState::Started) => format!("job {id} was asked to stop"),
            (JobAction::Stop, state) => format!("job {id} is {state}"),
            (JobAction::Done, _) => format!("job {id} set done"),
        };
        let mut data = json!(done);
        data["message"] = json!(text);
        self.emit(&data, || text);
    }

    /// A button pressed.
    pub fn pressed(&self, pressed: &Pressed) {
        let text = format!("enqueued job {}", pressed.job);
        self.emit(&json!({ "job": pressed.job, "message": text }), || text);
    }

    /// Local records.
    pub fn records(&self, rows: &[RecordRow]) {
        self.emit(&rows, || {
            let mut t = table(&["id", "model", "values", "updated"]);
            for r in rows {
                t.add_row(vec![
                    r.id.to_string(),
                    r.model.clone(),
                    short(&Value::Object(r.values.clone()).to_string(), 100),
                    time(r.updated_at),
                ]);
            }
            t.to_string()
        });
    }

    /// Links.
    pub fn links(&self, rows: &[LinkRow]) {
        self.emit(&rows, || {
            let mut t = table(&["instance", "model", "local id", "external id", "synced"]);
            for l in rows {
                t.add_row(vec![
                    l.instance.clone(),
                    l.model.clone(),
                    l.local_id.to_string(),
                    l.external_id.clone(),
                    l.sync_date.map(time).unwrap_or_default(),
                ]);
            }
            t.to_string()
        });
    }

    /// Checkpoints.
    pub fn checkpoints(&self, rows: &[Checkpoint]) {
        self.emit(&rows, || {
            if rows.is_empty() {
                return "no checkpoints".into();
            }
            let mut t = table(&["id", "instance", "record", "message", "when"]);
            for c in rows {
                t.add_row(vec![
                    c.id.to_string(),
                    c.instance.clone(),
                    format!("{} {}", c.model, c.record_id),
                    c.message.clone(),
                    time(c.created_at),
                ]);
            }
            t.to_string()
        });
    }
}
