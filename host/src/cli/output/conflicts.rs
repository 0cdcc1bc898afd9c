//! Conflicts and couples of external ids for people: the list (what is in
//! conflict, since when), one conflict with both versions side by side, what a
//! resolution enqueued, the policies of an instance.

use super::{Output, list, short, time};
use crate::cli::terminal::{Grid, line};
use ferry::admin::ConflictInfo;
use ferry::store::{ConflictState, InstancePair, JobRef, PolicyRow, Resolved, now_ms};
use serde_json::json;
use std::fmt::Write;

/// How long ago `at` was, in its two largest units: `3h 12m`.
fn age(at: i64) -> String {
    let secs = u64::try_from((now_ms() - at).max(0)).unwrap_or_default() / 1000;
    let text = humantime::format_duration(std::time::Duration::from_secs(secs)).to_string();
    let parts: Vec<&str> = text.split(' ').take(2).collect();
    parts.join(" ")
}

fn job_ref(job: &JobRef) -> String {
    format!(
        "{} {}",
        line(&job.name),
        short(&job.payload.to_string(), 100)
    )
}

/// How a resolved conflict was resolved, in words.
fn resolution(c: &ConflictInfo) -> String {
    let at = c.resolved_at.map(time).unwrap_or_default();
    let by = line(c.resolved_by.as_deref().unwrap_or("someone"));
    match c.resolution.as_deref() {
        Some("superseded") => format!("superseded at {at} by a newer report ({by})"),
        how => format!("resolved at {at} by {by}: took {}", how.unwrap_or("a side")),
    }
}

impl Output {
    /// Conflicts; `all`: resolved ones were asked for too.
    pub fn conflicts(&self, rows: &[ConflictInfo], all: bool) {
        self.emit(&rows, || {
            if rows.is_empty() {
                return if all {
                    "no conflicts"
                } else {
                    "no open conflicts"
                }
                .into();
            }
            let mut header = vec![
                "id",
                "instance",
                "model",
                "local id",
                "external id",
                "fields",
                "age",
            ];
            if all {
                header.push("state");
            }
            let mut t = Grid::new(&header);
            for c in rows {
                let mut cells = vec![
                    c.id.to_string(),
                    c.instance.clone(),
                    c.model.clone(),
                    c.local_id.to_string(),
                    c.external_id.clone(),
                    short(&list(c.diff.keys()), 60),
                    age(c.created_at),
                ];
                if all {
                    cells.push(match c.state {
                        ConflictState::Open => "open".into(),
                        ConflictState::Resolved => c.resolution.clone().unwrap_or_default(),
                    });
                }
                t.row(cells);
            }
            format!(
                "{t}\n{} conflict(s); `ferry conflicts show ID` for both versions",
                rows.len()
            )
        });
    }

    /// One conflict: where it is, both versions field by field, what resolving does.
    pub fn conflict(&self, c: &ConflictInfo) {
        self.emit(c, || {
            let mut text = format!(
                "conflict {} of {}: {} {} (external {})\n",
                c.id,
                line(&c.instance),
                line(&c.model),
                c.local_id,
                line(&c.external_id)
            );
            let reporter = c.job_id.map(|j| format!(" by job {j}")).unwrap_or_default();
            let _ = writeln!(
                text,
                "reported {} ({} ago){reporter}",
                time(c.created_at),
                age(c.created_at)
            );
            match c.state {
                ConflictState::Open => text.push_str("state: open\n"),
                ConflictState::Resolved => {
                    let _ = writeln!(text, "state: {}", resolution(c));
                }
            }
            let mut t = Grid::new(&["field", "local", "remote"]);
            for (field, sides) in &c.diff {
                t.row([
                    field.clone(),
                    short(&sides["local"].to_string(), 60),
                    short(&sides["remote"].to_string(), 60),
                ]);
            }
            let _ = writeln!(text, "\nfields in conflict:\n{t}");
            let same: Vec<&String> = c
                .local
                .as_object()
                .map(|o| o.keys().filter(|k| !c.diff.contains_key(*k)).collect())
                .unwrap_or_default();
            let _ = writeln!(text, "same on both sides: {}", list(same));
            let _ = writeln!(text, "\nlocal:  {}", short(&c.local.to_string(), 400));
            let _ = writeln!(text, "remote: {}", short(&c.remote.to_string(), 400));
            let _ = writeln!(text, "\n--take local runs:  {}", job_ref(&c.take_local));
            let _ = write!(text, "--take remote runs: {}", job_ref(&c.take_remote));
            if c.state == ConflictState::Open {
                let _ = write!(
                    text,
                    "\nresolve: ferry conflicts resolve {} --take local|remote|merge [--values JSON]",
                    c.id
                );
            }
            text
        });
    }

    /// What resolving a conflict did.
    pub fn resolved(&self, r: &Resolved) {
        let c = &r.conflict;
        let took = c.resolution.as_deref().unwrap_or("a side");
        let job = if took == "remote" {
            &c.take_remote
        } else {
            &c.take_local
        };
        self.emit(r, || {
            let merged = if took == "merge" {
                "merged values written to the local record; "
            } else {
                ""
            };
            format!(
                "conflict {} resolved: took {took}; {merged}enqueued job {} ({}) for {}",
                c.id,
                r.job,
                line(&job.name),
                line(&c.instance)
            )
        });
    }

    /// The policies set for an instance's models.
    pub fn policies(&self, instance: &str, rows: &[PolicyRow]) {
        self.emit(&rows, || {
            let mut t = Grid::new(&["model", "policy"]);
            for p in rows {
                t.row([p.model.clone(), p.policy.as_str().to_string()]);
            }
            let others = if rows.is_empty() {
                format!("no conflict policies set for {instance}: every model is manual")
            } else {
                format!("{t}\nother models of {instance}: manual")
            };
            format!("{others}\nset one: ferry conflicts policy {instance} MODEL remote-wins|local-wins|newest-wins|manual")
        });
    }

    /// The policy of one model; `set`: it was just set.
    pub fn policy(&self, row: &PolicyRow, set: bool) {
        let verb = if set { "set to" } else { "is" };
        self.emit(row, || {
            format!(
                "conflict policy of {} in {} {verb} {}",
                line(&row.model),
                line(&row.instance),
                row.policy.as_str()
            )
        });
    }

    /// Couples of external ids.
    pub fn pairs(&self, rows: &[InstancePair]) {
        self.emit(&rows, || {
            if rows.is_empty() {
                return "no couples of external ids".into();
            }
            let mut t = Grid::new(&["instance", "label", "left", "right", "updated"]);
            for p in rows {
                t.row([
                    p.instance.clone(),
                    p.label.clone(),
                    p.left_id.clone(),
                    p.right_id.clone(),
                    time(p.updated_at),
                ]);
            }
            t.to_string()
        });
    }

    /// A couple removed.
    pub fn unpaired(&self, p: &InstancePair) {
        let data = json!({ "removed": p });
        self.emit(&data, || {
            format!(
                "removed couple {} {} ↔ {} of {}",
                line(&p.label),
                line(&p.left_id),
                line(&p.right_id),
                line(&p.instance)
            )
        });
    }
}
