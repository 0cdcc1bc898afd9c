//! How the CLI prints: tables for people, JSON (`--json`) for scripts.
//!
//! Human output never passes guest text to the terminal as is: table cells
//! go through [`Grid`], fields of free text through [`line`], and every human
//! output, whole, through [`block`] before it is written. `--json` is exact
//! (serde escapes what JSON needs).

mod conflicts;
mod jobs;

use super::terminal::{Cell, Grid, block, line};
use ferry::Installed;
use ferry::admin::{InstanceInfo, Pressed};
use ferry::backend::{Description, Registry};
use ferry::builder::Built;
use ferry::store::{Checkpoint, LinkRow, RecordRow, TokenRow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};

/// Where results go.
pub struct Output {
    json: bool,
    /// When set (by tests), what would have been printed goes here instead.
    captured: Option<std::cell::RefCell<Vec<String>>>,
}

/// A time in ms, as `YYYY-MM-DD HH:MM:SS` (UTC).
pub(super) fn time(ms: i64) -> String {
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

/// The first 12 characters of a content hash (all of a shorter one).
fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// `items`, each escaped as one line, joined with `, `; `none` when empty.
fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|i| line(i.as_ref()).into_owned())
        .collect();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `1203` as `1 203`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(d);
    }
    if n < 0 { format!("-{out}") } else { out }
}

impl Output {
    /// Human output unless `json`.
    pub fn new(json: bool) -> Self {
        Output {
            json,
            captured: None,
        }
    }

    /// An output that keeps what it would print, for [`Output::captured`].
    #[cfg(test)]
    pub fn capturing(json: bool) -> Self {
        Output {
            json,
            captured: Some(Default::default()),
        }
    }

    /// What would have been printed so far.
    #[cfg(test)]
    pub fn captured(&self) -> String {
        self.captured
            .as_ref()
            .map(|c| c.borrow().join("\n"))
            .unwrap_or_default()
    }

    fn emit<T: Serialize>(&self, data: &T, human: impl FnOnce() -> String) {
        let text = if self.json {
            serde_json::to_string_pretty(data).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        } else {
            block(&human()).into_owned()
        };
        self.write(text);
    }

    /// One entry of a stream (`ferry logs --follow`): with `--json`, one
    /// compact JSON object per line, as line-oriented tools read them.
    pub fn streamed(&self, data: &Value, human: &str) {
        let text = if self.json {
            data.to_string()
        } else {
            line(human).into_owned()
        };
        self.write(text);
    }

    fn write(&self, text: String) {
        if let Some(captured) = &self.captured {
            captured.borrow_mut().push(text);
            return;
        }
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

    /// A value, with its human rendering (escaped, but for its line breaks).
    pub fn value(&self, data: &Value, human: &str) {
        self.emit(data, || human.to_string());
    }

    /// A one-line message.
    pub fn message(&self, text: &str) {
        self.emit(&json!({ "message": text }), || line(text).into_owned());
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
        list(d.units.iter().map(|u| format!("{}:{}", u.kind, u.model)))
    }

    fn describe_jobs(d: &Description) -> String {
        list(d.jobs.iter().map(|j| j.name.as_str()))
    }

    /// Result of `ferry build`.
    pub fn built(&self, built: &Built, i: &Installed) {
        let d = &i.description;
        let data = json!({
            "wasm": built.wasm, "size": built.size, "description": d, "warnings": i.warnings,
        });
        self.emit(&data, || {
            format!(
                "built {} ({:.1} KiB)\n  implements the connector world ✓\n  units: {}\n  jobs:  {}{}",
                line(&built.wasm.display().to_string()),
                built.size as f64 / 1024.0,
                Self::describe_units(d),
                Self::describe_jobs(d),
                Self::describe_warnings(&i.warnings),
            )
        });
    }

    fn describe_warnings(warnings: &[String]) -> String {
        warnings
            .iter()
            .map(|w| format!("\n  warning: {}", line(w)))
            .collect()
    }

    /// Result of `ferry install`.
    pub fn installed(&self, i: &Installed) {
        self.emit(
            &json!({ "module": i.module, "description": i.description, "warnings": i.warnings }),
            || {
                // What the module may reach, for the operator to review.
                let capabilities = ferry::manifest::Manifest::parse(&i.module.manifest)
                    .map(|m| m.capabilities)
                    .unwrap_or_default();
                format!(
                    "installed {} {} ({})\n  units: {}\n  jobs:  {}\n  network: {}\n  \
                     secrets revealed to it: {}{}",
                    line(&i.module.name),
                    line(&i.module.version),
                    line(short_hash(&i.module.content_hash)),
                    Self::describe_units(&i.description),
                    Self::describe_jobs(&i.description),
                    list(&capabilities.allowed_hosts),
                    list(&capabilities.reveal),
                    Self::describe_warnings(&i.warnings),
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
            let mut t = Grid::new(&["module", "version", "backends", "units", "jobs"]);
            for m in registry.modules() {
                let backends = m.manifest.backends.iter().map(|b| match &b.parent {
                    Some(p) => format!("{} → {p}", b.key()),
                    None => b.key().to_string(),
                });
                t.row([
                    Cell::from(m.name()),
                    Cell::from(&m.manifest.module.version),
                    Cell::lines(backends),
                    Cell::from(m.description.units.len().to_string()),
                    Cell::from(list(m.description.jobs.iter().map(|j| j.name.as_str()))),
                ]);
            }
            t.to_string()
        });
    }

    /// Backend instances (params holding secrets shown as `***`).
    pub fn instances(&self, instances: &[InstanceInfo]) {
        self.emit(&instances, || {
            let mut t = Grid::new(&["instance", "backend", "params"]);
            for i in instances {
                t.row([
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
            let mut t = Grid::new(&["token", "role", "created", "last used"]);
            for token in tokens {
                t.row([
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

    /// A button pressed.
    pub fn pressed(&self, pressed: &Pressed) {
        let text = format!("enqueued job {}", pressed.job);
        self.emit(&json!({ "job": pressed.job, "message": text }), || text);
    }

    /// Local records of `model`: `rows`, out of the `total` it has (if
    /// counted); when it has none, the models that have records (`others`,
    /// with their counts).
    pub fn records(
        &self,
        model: &str,
        rows: &[RecordRow],
        total: Option<i64>,
        others: &[(String, i64)],
    ) {
        self.emit(&rows, || {
            let model = line(model);
            if total == Some(0) && rows.is_empty() {
                let hint = if others.is_empty() {
                    "there are no records of any model yet".to_string()
                } else {
                    let models = others
                        .iter()
                        .map(|(m, n)| format!("{} ({})", line(m), thousands(*n)));
                    format!(
                        "models with records: {}",
                        models.collect::<Vec<_>>().join(", ")
                    )
                };
                return format!("no {model} records; {hint}");
            }
            let mut t = Grid::new(&["id", "model", "values", "updated"]);
            for r in rows {
                t.row([
                    r.id.to_string(),
                    r.model.clone(),
                    short(&Value::Object(r.values.clone()).to_string(), 100),
                    time(r.updated_at),
                ]);
            }
            let Some(total) = total else {
                return t.to_string();
            };
            let total = total.max(rows.len() as i64);
            let more = if (rows.len() as i64) < total {
                " (--limit N for more, --id ID for one)"
            } else {
                ""
            };
            format!(
                "{t}\n{} of {} {model} records{more}",
                thousands(rows.len() as i64),
                thousands(total)
            )
        });
    }

    /// Links.
    pub fn links(&self, rows: &[LinkRow]) {
        self.emit(&rows, || {
            let mut t = Grid::new(&["instance", "model", "local id", "external id", "synced"]);
            for l in rows {
                t.row([
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
            let mut t = Grid::new(&["id", "instance", "record", "message", "when"]);
            for c in rows {
                t.row([
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

#[cfg(test)]
mod tests;
