//! Jobs for people: the list, one job with its log and when it runs next,
//! and what an operator's action did.

use super::{Output, short, short_hash, time};
use crate::cli::terminal::{Grid, line};
use ferry::admin::{ActionResult, JobAction, JobDetail, JobInfo, StepInfo, StepWarnings};
use ferry::store::{JobState, MAX_STEP_WARNINGS, now_ms};
use serde_json::json;
use std::fmt::Write;

/// `at` for people, against `now`: `in 4m 12s (2026-01-02 10:00:00 UTC)`.
pub(super) fn when(at: i64, now: i64) -> String {
    let secs = u64::try_from((at - now).max(0))
        .unwrap_or_default()
        .div_ceil(1000);
    let relative = if secs == 0 {
        "now".to_string()
    } else {
        format!(
            "in {}",
            humantime::format_duration(std::time::Duration::from_secs(secs))
        )
    };
    format!("{relative} ({} UTC)", time(at))
}

/// When a pending job runs next, and why not sooner: its eta (a retry's
/// backoff, a delay) and its instance's snooze, whichever ends later.
fn next_run(detail: &JobDetail, now: i64) -> Option<String> {
    let job = &detail.job;
    if job.state != JobState::Pending {
        return None;
    }
    let eta = job.eta.unwrap_or(0);
    let snoozed = detail.snooze.as_ref().filter(|s| s.until > now);
    let due = eta.max(snoozed.map(|s| s.until).unwrap_or(0));
    let label = if job.attempts > 0 {
        format!(
            "next try (try {} of {})",
            job.attempts + 1,
            job.max_retries + 1
        )
    } else {
        "runs".to_string()
    };
    let mut s = String::new();
    if due > now {
        let _ = writeln!(s, "  {label}: {}", when(due, now));
    } else if job.attempts > 0 {
        let _ = writeln!(s, "  {label}: due now, when a worker is free");
    }
    for dependency in &detail.dependencies {
        let _ = match (&dependency.job, &dependency.group) {
            (Some(id), _) => writeln!(
                s,
                "  waits for: job {id} ({})",
                dependency.job_state.map_or("gone", |state| state.as_str())
            ),
            (None, Some(group)) => writeln!(
                s,
                "  waits for: group `{}` ({} not done)",
                line(group),
                dependency.group_open
            ),
            (None, None) => Ok(()),
        };
    }
    if let Some(snooze) = snoozed {
        let _ = writeln!(
            s,
            "  snoozed: instance `{}` waits until {}: {}",
            line(&snooze.instance),
            when(snooze.until, now),
            line(&snooze.reason)
        );
    }
    (!s.is_empty()).then_some(s)
}

impl Output {
    /// A list of jobs.
    pub fn jobs(&self, jobs: &[JobInfo]) {
        self.emit(&jobs, || {
            let mut t = Grid::new(&[
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
                t.row([
                    j.id.to_string(),
                    j.state.to_string(),
                    j.instance.clone(),
                    j.name.clone(),
                    j.priority.to_string(),
                    j.attempts.to_string(),
                    j.module.clone().unwrap_or_default(),
                    short(&line(&note), 60),
                ]);
            }
            t.to_string()
        });
    }

    /// One job with its log (every guest-written field on one line of its own).
    pub fn job(&self, detail: &JobDetail) {
        self.job_with(detail, None, None);
    }

    /// One job with its log and, when given, its steps and its steps'
    /// warnings (`--json`: one object with `steps` and `warnings` beside).
    pub fn job_with(
        &self,
        detail: &JobDetail,
        steps: Option<&[StepInfo]>,
        warnings: Option<&StepWarnings>,
    ) {
        if steps.is_none() && warnings.is_none() {
            return self.emit(detail, || job_text(detail));
        }
        let mut data = json!(detail);
        data["steps"] = json!(steps);
        data["warnings"] = json!(warnings);
        self.emit(&data, || {
            let mut s = job_text(detail);
            if let Some(steps) = steps {
                s.push_str("\n\n");
                s.push_str(&steps_text(steps));
            }
            if let Some(w) = warnings {
                s.push_str("\n\n");
                s.push_str(&warnings_text(w));
            }
            s
        });
    }
}

/// The steps of a job, one row each.
fn steps_text(steps: &[StepInfo]) -> String {
    if steps.is_empty() {
        return "no steps run (a plain job, or not started yet)".into();
    }
    let mut t = Grid::new(&[
        "#",
        "step",
        "kind",
        "status",
        "chunks",
        "read",
        "written",
        "filtered",
        "skipped",
        "position / result / error",
    ]);
    for st in steps {
        let note = match (&st.error, &st.result, &st.position) {
            (Some(e), _, _) => e.clone(),
            (None, Some(r), _) => r.to_string(),
            (None, None, Some(p)) => format!("at {p}"),
            _ => String::new(),
        };
        t.row([
            st.ordinal.to_string(),
            st.step.clone(),
            st.kind.clone(),
            st.status.as_str().to_string(),
            st.chunks.to_string(),
            st.read.to_string(),
            st.written.to_string(),
            st.filtered.to_string(),
            st.skipped.to_string(),
            short(&line(&note), 60),
        ]);
    }
    t.to_string()
}

/// The warnings of a job's steps, and how many are not shown.
fn warnings_text(w: &StepWarnings) -> String {
    let mut s = format!(
        "{} warnings kept{}; showing {}",
        w.kept,
        match w.dropped {
            0 => String::new(),
            n => format!(" and {n} more counted only (past {MAX_STEP_WARNINGS} per step)"),
        },
        w.warnings.len()
    );
    for warning in &w.warnings {
        let _ = write!(
            s,
            "\n  {} chunk {}: {} ({})",
            line(&warning.step),
            warning.chunk,
            line(&warning.reason),
            short(&line(&warning.item.to_string()), 120)
        );
    }
    s
}

/// One job with its log, for people.
fn job_text(detail: &JobDetail) -> String {
    let (job, logs) = (&detail.job, &detail.logs);
    let mut s = format!(
        "job {} `{}` for {}: {} after {} tries\n  payload: {}\n",
        job.id,
        line(&job.name),
        line(&job.instance),
        job.state,
        job.attempts,
        short(&line(&job.payload), 200)
    );
    if let Some(next) = next_run(detail, now_ms()) {
        s.push_str(&next);
    }
    if let Some(m) = &job.module {
        let hash = job.module_hash.as_deref().map(short_hash).unwrap_or("");
        let _ = writeln!(s, "  module:  {} ({})", line(m), line(hash));
    }
    if let (Some(t), Some(d)) = (job.progress_total, job.progress_done) {
        let _ = writeln!(s, "  progress: {d}/{t}");
    }
    if let Some(r) = &job.result {
        let _ = writeln!(s, "  result:  {}", short(&line(r), 400));
    }
    if let Some(e) = &job.error {
        let kind = job.error_kind.as_deref().unwrap_or("?");
        let _ = writeln!(s, "  error ({}): {}", line(kind), line(e));
    }
    for l in logs {
        let _ = writeln!(
            s,
            "  {} try {} {:5} [{}] {}",
            time(l.at),
            l.attempt,
            line(&l.level),
            line(&l.module),
            line(&l.message)
        );
    }
    s.trim_end().to_string()
}

impl Output {
    /// What an operator's action on a job did.
    pub fn action(&self, done: &ActionResult) {
        let id = done.id;
        let text = match (done.action, done.state) {
            (JobAction::Requeue, _) if done.was == Some(JobState::Pending) => {
                match done.was_due.filter(|&due| due > now_ms()) {
                    Some(due) => {
                        format!(
                            "job {id} is due now (it was waiting until {} UTC)",
                            time(due)
                        )
                    }
                    None => format!("job {id} is due now"),
                }
            }
            (JobAction::Requeue, _) => format!("job {id} is pending again"),
            (JobAction::Cancel, _) => format!("job {id} cancelled"),
            (JobAction::Stop, JobState::Started) => format!("job {id} was asked to stop"),
            (JobAction::Stop, state) => format!("job {id} is {state}"),
            (JobAction::Done, _) => format!("job {id} set done"),
            (JobAction::Pause, JobState::Paused) => format!("job {id} is paused"),
            (JobAction::Pause, state) => {
                format!("job {id} ({state}) was asked to pause at its next chunk boundary")
            }
            (JobAction::Resume, JobState::Pending) => format!("job {id} is pending again"),
            (JobAction::Resume, state) => {
                format!("job {id} ({state}) is no longer asked to pause")
            }
        };
        let mut data = json!(done);
        data["message"] = json!(text);
        self.emit(&data, || text);
    }
}
