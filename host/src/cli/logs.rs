//! `ferry logs`: the lines jobs wrote, across jobs, newest first, with
//! filters (`--follow` streams new ones). `--transmissions`: what connector
//! code sent out, and what the sandbox refused. `--audit`: who revealed, set
//! or removed which secret (never a value). All through [`ferry::admin`], so
//! they work on the local installation and with `--server URL`.

use super::globals::Globals;
use super::output::Output;
use super::terminal::{Grid, line};
use anyhow::Result;
use clap::Args;
use ferry::admin::Admin;
use ferry::store::{
    AuditEntry, AuditFilter, JobState, LogFilter, LogLevel, LogRecord, Transmission,
    TransmissionFilter, Trigger,
};
use serde_json::json;
use std::time::Duration;

/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// `ferry logs`.
#[derive(Args)]
pub(super) struct LogsArgs {
    /// Outbound HTTP requests of guests (sent and refused) instead of job lines.
    #[arg(long, conflicts_with = "audit")]
    transmissions: bool,
    /// The audit log (secrets revealed to guests and refused, set and
    /// removed; cursors and settings changed) instead of job lines.
    #[arg(long)]
    audit: bool,
    /// Only this backend instance.
    #[arg(long)]
    instance: Option<String>,
    /// Only this job.
    #[arg(long)]
    job: Option<i64>,
    /// Only lines of jobs of this module, or lines it wrote (transmissions:
    /// requests of this module).
    #[arg(long, conflicts_with = "audit")]
    module: Option<String>,
    /// Only lines of jobs of this name.
    #[arg(long, conflicts_with_all = ["audit", "transmissions"])]
    job_name: Option<String>,
    /// Only lines of jobs started this way (cron, webhook, button, event, api, cli, job).
    #[arg(long, conflicts_with_all = ["audit", "transmissions"])]
    trigger: Option<String>,
    /// Only lines of this level and above (trace, debug, info, warn, error).
    #[arg(long, conflicts_with_all = ["audit", "transmissions"])]
    level: Option<String>,
    /// Only lines of jobs now in this state (pending, enqueued, started,
    /// done, failed, cancelled, paused).
    #[arg(long, conflicts_with_all = ["audit", "transmissions"])]
    state: Option<String>,
    /// Only lines containing this text (case-insensitive).
    #[arg(long, conflicts_with_all = ["audit", "transmissions"])]
    grep: Option<String>,
    /// Only requests to this host.
    #[arg(long, requires = "transmissions")]
    host: Option<String>,
    /// Only requests answered with this HTTP status.
    #[arg(long, requires = "transmissions")]
    status: Option<i64>,
    /// Only requests the sandbox refused.
    #[arg(long, requires = "transmissions")]
    refused: bool,
    /// Only audit entries of this actor (cli, api:TOKEN, job:ID…).
    #[arg(long, requires = "audit")]
    actor: Option<String>,
    /// Only audit entries of this action (secret.set, cursor.clear…).
    #[arg(long, requires = "audit")]
    action: Option<String>,
    /// Only entries of the last … (e.g. 30m, 2h, 7d) or since a time
    /// (2026-12-03T18:00:00Z).
    #[arg(long, value_parser = super::args::parse_time)]
    since: Option<i64>,
    /// Only entries before … ago (e.g. 1h) or before a time (RFC 3339).
    #[arg(long, value_parser = super::args::parse_time)]
    until: Option<i64>,
    /// Only entries whose id is below this one (the next page back).
    #[arg(long)]
    before: Option<i64>,
    /// Keep printing new job lines as they are written (Ctrl-C to stop).
    #[arg(long, conflicts_with_all = ["audit", "transmissions", "before"])]
    follow: bool,
    /// At most this many (newest first).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Instead of listing, forget transmissions older than this (e.g. 30d;
    /// local installation only).
    #[arg(long, value_parser = super::args::parse_age, requires = "transmissions",
          conflicts_with_all = ["instance", "job", "refused", "audit"])]
    prune_older_than: Option<std::time::Duration>,
}

impl LogsArgs {
    /// The filter of job lines these options ask for.
    fn filter(&self) -> Result<LogFilter> {
        Ok(LogFilter {
            instance: self.instance.clone(),
            module: self.module.clone(),
            job_name: self.job_name.clone(),
            trigger: self.trigger.as_deref().map(Trigger::parse).transpose()?,
            level: self.level.as_deref().map(LogLevel::parse).transpose()?,
            state: self.state.as_deref().map(JobState::parse).transpose()?,
            since: self.since,
            until: self.until,
            grep: self.grep.clone(),
            job: self.job,
            before: self.before,
            after: None,
            limit: self.limit,
        })
    }
}

/// Run `ferry logs`.
pub(super) async fn run(globals: &Globals, out: &Output, args: &LogsArgs) -> Result<()> {
    if let Some(age) = args.prune_older_than {
        let ferry = globals.open().await?;
        let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        let before = ferry::store::now_ms().saturating_sub(age_ms);
        let n = ferry.store().prune_transmissions(before).await?;
        out.message(&format!("forgot {n} transmission(s)"));
        return Ok(());
    }
    let admin = globals.admin().await?;
    if args.audit {
        let rows = admin
            .audit(&AuditFilter {
                instance: args.instance.clone(),
                job: args.job,
                actor: args.actor.clone(),
                action: args.action.clone(),
                since_ms: args.since,
                until: args.until,
                before: args.before,
                limit: args.limit,
            })
            .await?;
        out.value(&json!(rows), &render_audit(&rows));
        return Ok(());
    }
    if args.transmissions {
        let rows = admin
            .transmissions(&TransmissionFilter {
                instance: args.instance.clone(),
                job: args.job,
                module: args.module.clone(),
                host: args.host.clone(),
                status: args.status,
                refused_only: args.refused,
                since: args.since,
                until: args.until,
                before: args.before,
                limit: args.limit,
            })
            .await?;
        out.value(&json!(rows), &render(&rows));
        return Ok(());
    }
    let filter = args.filter()?;
    let mut records = admin.logs(&filter).await?;
    if !args.follow {
        out.value(&json!(records), &render_lines(&records));
        return Ok(());
    }
    // Oldest first on screen, as `tail -f` does, then each new line as it comes.
    records.reverse();
    follow(&admin, out, filter, records).await
}

/// Print `shown`, then poll for lines after the last one, forever.
async fn follow(
    admin: &Admin,
    out: &Output,
    mut filter: LogFilter,
    shown: Vec<LogRecord>,
) -> Result<()> {
    let mut last = match shown.last() {
        Some(record) => Some(record.id),
        None => admin
            .logs(&LogFilter {
                limit: 1,
                ..LogFilter::default()
            })
            .await?
            .first()
            .map(|r| r.id),
    };
    print_lines(out, &shown);
    filter.before = None;
    filter.limit = ferry::store::MAX_LOG_LINES;
    loop {
        filter.after = Some(last.unwrap_or(0));
        let batch = admin.logs(&filter).await?;
        if let Some(record) = batch.last() {
            last = Some(record.id);
        }
        print_lines(out, &batch);
        if batch.len() < filter.limit as usize {
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    }
}

/// Print `records` as they are, one per line (JSON: one object per line).
fn print_lines(out: &Output, records: &[LogRecord]) {
    for r in records {
        out.streamed(&json!(r), &line_text(r));
    }
}

/// A job line as one terminal line: what the guest wrote is escaped whole
/// (line breaks too), so that it can never pass for a line of its own.
fn line_text(r: &LogRecord) -> String {
    format!(
        "{} {:<5} {}/{} #{} [{}] {}",
        time(r.at),
        line(&r.level.to_uppercase()),
        line(&r.instance),
        line(&r.job_name),
        r.job_id,
        line(&r.module),
        line(&r.message)
    )
}

fn render_lines(records: &[LogRecord]) -> String {
    if records.is_empty() {
        return "no log lines".into();
    }
    records.iter().map(line_text).collect::<Vec<_>>().join("\n")
}

fn time(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn render_audit(rows: &[AuditEntry]) -> String {
    if rows.is_empty() {
        return "no audit entries".into();
    }
    let mut t = Grid::new(&[
        "id", "time", "actor", "action", "instance", "secret", "job", "detail",
    ]);
    for r in rows {
        t.row([
            r.id.to_string(),
            time(r.at),
            r.actor.clone(),
            r.action.clone(),
            r.instance.clone(),
            r.subject.clone(),
            r.job_id.map(|j| j.to_string()).unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ]);
    }
    t.to_string()
}

fn render(rows: &[Transmission]) -> String {
    if rows.is_empty() {
        return "no transmissions".into();
    }
    let mut t = Grid::new(&[
        "id", "time", "instance", "job", "request", "outcome", "sent", "received", "ms",
    ]);
    for r in rows {
        let outcome = match (&r.refused, &r.error, r.status) {
            (Some(why), _, _) => format!("refused: {why}"),
            (None, Some(e), Some(status)) => format!("{status}, then {e}"),
            (None, Some(e), None) => format!("failed: {e}"),
            (None, None, Some(status)) => status.to_string(),
            (None, None, None) => "-".into(),
        };
        t.row([
            r.id.to_string(),
            time(r.at),
            r.instance.clone(),
            r.job_id.map(|j| j.to_string()).unwrap_or_default(),
            format!("{} {}", r.method, r.url),
            outcome,
            r.bytes_sent.to_string(),
            r.bytes_received.to_string(),
            r.duration_ms.to_string(),
        ]);
    }
    t.to_string()
}
