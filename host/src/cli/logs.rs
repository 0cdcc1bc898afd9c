//! `ferry logs --transmissions`: what connector code sent out, and what the
//! sandbox refused. `ferry logs --audit`: who revealed, set or removed which
//! secret (never a value).

use super::output::Output;
use super::terminal::Grid;
use anyhow::{Result, bail};
use clap::Args;
use ferry::Ferry;
use ferry::store::{AuditEntry, AuditFilter, Transmission, TransmissionFilter};
use serde_json::json;

/// `ferry logs`.
#[derive(Args)]
pub(super) struct LogsArgs {
    /// Outbound HTTP requests of guests (sent and refused).
    #[arg(long, conflicts_with = "audit")]
    transmissions: bool,
    /// The audit log: secrets revealed to guests (and refused), set and removed.
    #[arg(long)]
    audit: bool,
    /// Only this backend instance.
    #[arg(long)]
    instance: Option<String>,
    /// Only this job.
    #[arg(long)]
    job: Option<i64>,
    /// Only requests the sandbox refused.
    #[arg(long, conflicts_with = "audit")]
    refused: bool,
    /// Only audit entries of the last … (e.g. 2h, 7d).
    #[arg(long, value_parser = super::args::parse_age, requires = "audit")]
    since: Option<std::time::Duration>,
    /// At most this many (newest first).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Instead of listing, forget transmissions older than this (e.g. 30d).
    #[arg(long, value_parser = super::args::parse_age, conflicts_with_all = ["instance", "job", "refused", "audit"])]
    prune_older_than: Option<std::time::Duration>,
}

/// Run `ferry logs`.
pub(super) async fn run(ferry: &Ferry, out: &Output, args: &LogsArgs) -> Result<()> {
    if args.audit {
        let since_ms = args.since.map(|age| {
            let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
            ferry::store::now_ms().saturating_sub(age_ms)
        });
        let rows = ferry::audit::list(
            ferry.store(),
            &AuditFilter {
                instance: args.instance.clone(),
                job: args.job,
                since_ms,
                limit: args.limit,
                ..AuditFilter::default()
            },
        )
        .await?;
        out.value(&json!(rows), &render_audit(&rows));
        return Ok(());
    }
    if !args.transmissions {
        bail!(
            "which log? `--transmissions` lists outbound requests, `--audit` reveals and changes \
             of secrets (job logs: `ferry jobs show ID`)"
        );
    }
    if let Some(age) = args.prune_older_than {
        let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        let before = ferry::store::now_ms().saturating_sub(age_ms);
        let n = ferry.store().prune_transmissions(before).await?;
        out.message(&format!("forgot {n} transmission(s)"));
        return Ok(());
    }
    let rows = ferry
        .store()
        .transmissions(&TransmissionFilter {
            instance: args.instance.clone(),
            job: args.job,
            refused_only: args.refused,
            limit: args.limit,
            ..TransmissionFilter::default()
        })
        .await?;
    out.value(&json!(rows), &render(&rows));
    Ok(())
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
