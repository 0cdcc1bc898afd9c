//! `ferry cron`: the schedules of the backend instances, and operators'
//! changes to them. The scheduler itself runs in `ferry worker`.

use super::globals::Globals;
use super::output::Output;
use super::terminal::{Grid, time};
use anyhow::Result;
use clap::Subcommand;
use ferry::admin::CronSchedule;
use ferry::triggers::cron::{self, Setting};

#[derive(Subcommand)]
pub(super) enum CronCommand {
    /// List the schedules in effect, per backend instance.
    List {
        /// Only this backend instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Change a schedule of one backend instance: a cron expression
    /// ("*/5 * * * *", UTC), `off`, or `default` (the manifest's).
    Set {
        /// Backend instance.
        instance: String,
        /// Name of the schedule (see `ferry cron list`).
        name: String,
        /// Cron expression, `off` or `default`.
        schedule: String,
        /// Run this job profile on the schedule: its parameters instead of
        /// the manifest's payload (with a cron expression).
        #[arg(long)]
        profile: Option<String>,
    },
}

fn show(out: &Output, entries: &[CronSchedule]) -> Result<()> {
    let mut table = Grid::new(&[
        "instance",
        "name",
        "job",
        "schedule",
        "set by",
        "handled until",
        "last job",
        "next",
    ]);
    for e in entries {
        table.row([
            e.instance.clone(),
            e.name.clone(),
            e.job.clone(),
            e.schedule.clone().unwrap_or_else(|| "off".into()),
            match (&e.profile, e.overridden) {
                (Some(p), _) => format!("operator (profile {p})"),
                (None, true) => "operator".into(),
                (None, false) => "manifest".into(),
            },
            time(e.last_tick),
            e.last_job
                .map(|id| id.to_string())
                .unwrap_or_else(|| "-".into()),
            time(e.next_tick),
        ]);
    }
    let human = if entries.is_empty() {
        "no schedules (modules declare them with [[cron]])".to_string()
    } else {
        table.to_string()
    };
    out.value(&serde_json::to_value(entries)?, &human);
    Ok(())
}

/// Run `ferry cron`: `list` through the admin operations (so it works with
/// `--server` too), `set` on the local installation.
pub(super) async fn run(globals: &Globals, out: &Output, command: &CronCommand) -> Result<()> {
    match command {
        CronCommand::List { instance } => {
            let admin = globals.admin().await?;
            show(out, &admin.cron_schedules(instance.as_deref()).await?)
        }
        CronCommand::Set {
            instance,
            name,
            schedule,
            profile,
        } => {
            let setting: Setting = schedule.parse()?;
            let ferry = globals.open().await?;
            let entry = cron::set_with_profile(
                ferry.store(),
                &ferry.registry(),
                instance,
                name,
                &setting,
                profile.as_deref(),
            )
            .await?;
            show(out, &[CronSchedule::from(entry)])
        }
    }
}
