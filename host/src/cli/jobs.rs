//! `ferry jobs …`: the operators' job operations of [`ferry::admin`], on the
//! local installation or, with `--server URL`, on a running `ferry serve`.

use super::globals::Globals;
use super::output::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use ferry::admin::{JobAction, PruneOutcome, PruneRequest};
use ferry::audit;
use ferry::store::{JobFilter, JobState, Trigger};
use std::time::Duration;

/// `ferry jobs`: a subcommand, or the options of `list` (its default).
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct JobsArgs {
    #[command(subcommand)]
    command: Option<JobsCommand>,
    #[command(flatten)]
    list: ListArgs,
}

/// Which jobs to list.
#[derive(Args)]
pub(super) struct ListArgs {
    /// Only jobs in this state (pending, enqueued, started, done, failed, cancelled, paused).
    #[arg(long)]
    state: Option<String>,
    /// Only jobs of this backend instance.
    #[arg(long)]
    instance: Option<String>,
    /// Only jobs of this channel or its sub-channels.
    #[arg(long)]
    channel: Option<String>,
    /// Only jobs run by, or enqueued for, this module.
    #[arg(long)]
    module: Option<String>,
    /// Only jobs of this name.
    #[arg(long)]
    job_name: Option<String>,
    /// Only jobs started this way (cron, webhook, button, event, api, cli, job).
    #[arg(long)]
    trigger: Option<String>,
    /// Only jobs whose error or log contains this text (case-insensitive).
    #[arg(long)]
    grep: Option<String>,
    /// Only jobs created within this long (e.g. 30m, 2h, 1d) or since a time
    /// (2026-12-03T18:00:00Z).
    #[arg(long, value_parser = super::args::parse_time)]
    since: Option<i64>,
    /// Only jobs created before … ago (e.g. 1h) or before a time (RFC 3339).
    #[arg(long, value_parser = super::args::parse_time)]
    until: Option<i64>,
    /// Only jobs whose id is below this one (the next page: the smallest id shown).
    #[arg(long)]
    before: Option<i64>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

impl ListArgs {
    fn filter(&self) -> Result<JobFilter> {
        Ok(JobFilter {
            state: self.state.as_deref().map(JobState::parse).transpose()?,
            instance: self.instance.clone(),
            channel: self.channel.clone(),
            module: self.module.clone(),
            name: self.job_name.clone(),
            trigger: self.trigger.as_deref().map(Trigger::parse).transpose()?,
            text: self.grep.clone(),
            since: self.since,
            until: self.until,
            before: self.before,
            limit: self.limit,
        })
    }
}

#[derive(Subcommand)]
pub(super) enum JobsCommand {
    /// List jobs, newest first (also `ferry jobs` with these options).
    List(Box<ListArgs>),
    /// Show a job with its log.
    Show {
        /// Job id.
        id: i64,
        /// Also its steps (jobs made of steps): status, position, counts.
        #[arg(long)]
        steps: bool,
        /// Also the items its steps did not write, and why (the first --limit).
        #[arg(long)]
        warnings: bool,
        /// At most this many warnings.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Pause a job made of steps: a pending one at once, a running one at its
    /// next chunk boundary. No worker runs it until it is resumed.
    Pause {
        /// Job id.
        id: i64,
    },
    /// Resume a paused job: it continues from where its steps are.
    Resume {
        /// Job id.
        id: i64,
    },
    /// Put a done, failed or cancelled job back in the queue, its tries reset
    /// (a job made of steps resumes its unfinished steps from their position);
    /// a pending job waiting for its retry runs now.
    Requeue {
        /// Job id.
        id: i64,
    },
    /// Cancel a pending job.
    Cancel {
        /// Job id.
        id: i64,
    },
    /// Ask a running job to stop (it sees it through `stop-requested`); a
    /// pending one is cancelled.
    Stop {
        /// Job id.
        id: i64,
    },
    /// Mark a job done by hand (its work was done another way).
    Done {
        /// Job id.
        id: i64,
    },
    /// Forget finished jobs (done, failed, cancelled) older than an age, with
    /// their log lines and steps, and the transmissions and sent outbox
    /// messages as old. Workers do it on their own (`--job-retention`).
    Prune {
        /// How old, e.g. 30d or 12h (at least an hour).
        #[arg(long, value_parser = super::args::parse_age)]
        older_than: Duration,
        /// Only count what would be forgotten.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(super) async fn run(cli: &Globals, out: &Output, args: &JobsArgs) -> Result<()> {
    let admin = cli.admin().await?;
    let action = match &args.command {
        None => {
            out.jobs(&admin.list_jobs(&args.list.filter()?).await?);
            return Ok(());
        }
        Some(JobsCommand::List(list)) => {
            out.jobs(&admin.list_jobs(&list.filter()?).await?);
            return Ok(());
        }
        Some(JobsCommand::Show {
            id,
            steps,
            warnings,
            limit,
        }) => {
            let detail = admin.job(*id).await?;
            let steps = match steps {
                true => Some(admin.job_steps(*id).await?),
                false => None,
            };
            let warnings = match warnings {
                true => Some(admin.job_warnings(*id, *limit).await?),
                false => None,
            };
            out.job_with(&detail, steps.as_deref(), warnings.as_ref());
            return Ok(());
        }
        Some(JobsCommand::Pause { id }) => (*id, JobAction::Pause),
        Some(JobsCommand::Resume { id }) => (*id, JobAction::Resume),
        Some(JobsCommand::Requeue { id }) => (*id, JobAction::Requeue),
        Some(JobsCommand::Cancel { id }) => (*id, JobAction::Cancel),
        Some(JobsCommand::Stop { id }) => (*id, JobAction::Stop),
        Some(JobsCommand::Done { id }) => (*id, JobAction::Done),
        Some(JobsCommand::Prune {
            older_than,
            dry_run,
        }) => {
            let request = PruneRequest {
                older_than_ms: u64::try_from(older_than.as_millis()).unwrap_or(u64::MAX),
                dry_run: *dry_run,
            };
            let outcome = admin.prune(&request, audit::CLI).await?;
            out.value(&serde_json::to_value(outcome)?, &pruned(&outcome));
            return Ok(());
        }
    };
    out.action(&admin.act(action.0, action.1).await?);
    Ok(())
}

/// What `ferry jobs prune` says it did.
fn pruned(outcome: &PruneOutcome) -> String {
    let p = &outcome.pruned;
    let verb = if outcome.dry_run {
        "would forget"
    } else {
        "forgot"
    };
    format!(
        "{verb} {} finished job(s) with {} log line(s) and {} step row(s), {} transmission(s), \
         {} sent outbox message(s), older than {}",
        p.jobs,
        p.log_lines,
        p.step_rows,
        p.transmissions,
        p.outbox,
        super::output::time(outcome.before)
    )
}
