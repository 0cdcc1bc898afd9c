//! Cron triggers: `[[cron]]` schedules of the modules, for every backend
//! instance whose backend chain holds the module (a child module's schedule
//! replaces a parent's of the same name).
//!
//! - An operator may change a schedule of one instance or switch it off
//!   ([`set`], `ferry cron set`); [`list`] shows what is in effect.
//! - A schedule never has two runs in flight: a tick is enqueued only when no
//!   job of that schedule (identity key `cron:{name}`) is pending, enqueued or
//!   running. Until then the tick stays due, and it runs once the previous run
//!   has finished.
//! - Ticks missed while nothing ran (all nodes down, previous run too long)
//!   do not pile up: they collapse into one catch-up run ([`due`]).
//! - One scheduler runs across all the nodes that share the database: it holds
//!   the lease [`SCHEDULER_LEASE`] and renews it on each pass; when it stops,
//!   another node takes over. Should two ever overlap, a tick is still enqueued
//!   once: it is marked handled in the transaction that enqueues its job, only
//!   if no one marked it first.

use crate::backend::{BackendKey, Registry, checked_payload};
use crate::error::{Error, Result};
use crate::install::Modules;
use crate::manifest::{CronDecl, Schedule};
use crate::store::{CronRun, JobState, NewJob, Store, now_ms};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Name of the lease the scheduler holds.
pub const SCHEDULER_LEASE: &str = "cron-scheduler";
/// How long the lease lasts without renewal: the longest a schedule waits
/// when the node running the scheduler dies.
const LEASE_TTL: Duration = Duration::from_secs(30);
/// Longest pause between two passes (well within the lease).
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// Pause after a failed pass (database unreachable…).
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// The identity key of the jobs of schedule `name`.
pub fn identity_key(name: &str) -> String {
    format!("cron:{name}")
}

/// When a schedule is due: its latest tick after `after` and at or before
/// `now` (ms since the epoch, UTC). Ticks missed in between collapse into that
/// one: at most one catch-up run, however long nothing ran.
pub fn due(schedule: &Schedule, after: i64, now: i64) -> Option<i64> {
    schedule.latest_at_or_before(now).filter(|&t| t > after)
}

/// One schedule of one backend instance, as in effect.
#[derive(Debug, Clone, Serialize)]
pub struct CronEntry {
    /// Backend instance.
    pub instance: String,
    /// Name of the schedule.
    pub name: String,
    /// Module that declares it.
    pub module: String,
    /// Job it enqueues.
    pub job: String,
    /// The manifest's schedule.
    pub declared: String,
    /// The schedule in effect; none: switched off.
    pub schedule: Option<String>,
    /// Whether an operator changed it (`ferry cron set`).
    pub overridden: bool,
    /// The profile its runs take their parameters from (`ferry cron set
    /// --profile`); none: the manifest's payload.
    pub profile: Option<String>,
    /// The last tick handled, ms.
    pub last_tick: Option<i64>,
    /// The last job enqueued.
    pub last_job: Option<i64>,
    /// When it runs next, ms (now or past: due, waiting for the scheduler or for
    /// the previous run to finish).
    pub next_tick: Option<i64>,
    /// The declaration.
    #[serde(skip)]
    pub decl: CronDecl,
    #[serde(skip)]
    run: Option<CronRun>,
}

/// The schedules of every backend instance (of `instance` only, if given), at `now`.
pub async fn list(
    store: &Store,
    registry: &Registry,
    instance: Option<&str>,
    now: i64,
) -> Result<Vec<CronEntry>> {
    let overrides: BTreeMap<(String, String), (Option<String>, Option<String>)> = store
        .cron_overrides()
        .await?
        .into_iter()
        .map(|o| ((o.instance, o.name), (o.schedule, o.profile)))
        .collect();
    let mut runs: BTreeMap<(String, String), CronRun> = store
        .cron_runs()
        .await?
        .into_iter()
        .map(|r| ((r.instance.clone(), r.name.clone()), r))
        .collect();
    let mut entries = Vec::new();
    for inst in store.instances().await? {
        if instance.is_some_and(|name| name != inst.name) {
            continue;
        }
        let Ok(key) = BackendKey::parse(&inst.backend) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        for at in registry.chain(&key) {
            let Some(module) = registry.module_at(&at) else {
                continue;
            };
            for decl in &module.manifest.crons {
                if !seen.insert(decl.name.clone()) {
                    continue;
                }
                let id = (inst.name.clone(), decl.name.clone());
                let (schedule, profile, overridden) = match overrides.get(&id) {
                    Some((set, profile)) => (set.clone(), profile.clone(), true),
                    None => (Some(decl.schedule.clone()), None, false),
                };
                let run = runs.remove(&id);
                let next_tick = schedule
                    .as_deref()
                    .and_then(|s| Schedule::parse(s).ok())
                    .and_then(|s| {
                        run.as_ref()
                            .and_then(|r| due(&s, r.last_tick, now))
                            .or_else(|| s.next_after(now))
                    });
                entries.push(CronEntry {
                    instance: inst.name.clone(),
                    name: decl.name.clone(),
                    module: module.name().to_string(),
                    job: decl.job.clone(),
                    declared: decl.schedule.clone(),
                    schedule,
                    overridden,
                    profile,
                    last_tick: run.as_ref().map(|r| r.last_tick),
                    last_job: run.as_ref().and_then(|r| r.job_id),
                    next_tick,
                    decl: decl.clone(),
                    run,
                });
            }
        }
    }
    Ok(entries)
}

/// What an operator sets a schedule to.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// This schedule instead of the manifest's.
    Schedule(Box<Schedule>),
    /// Switched off.
    Off,
    /// Back to the manifest's.
    Default,
}

impl std::str::FromStr for Setting {
    type Err = Error;
    /// `off`, `default`, or a cron expression.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "off" => Ok(Setting::Off),
            "default" => Ok(Setting::Default),
            other => Schedule::parse(other)
                .map(|s| Setting::Schedule(Box::new(s)))
                .map_err(|e| {
                    Error::Invalid(format!("schedule {other:?}: {e} (or `off`, `default`)"))
                }),
        }
    }
}

/// Change schedule `name` of `instance`. The new setting counts from now:
/// ticks before it are not caught up. Returns the schedule as now in effect.
pub async fn set(
    store: &Store,
    registry: &Registry,
    instance: &str,
    name: &str,
    setting: &Setting,
) -> Result<CronEntry> {
    set_with_profile(store, registry, instance, name, setting, None).await
}

/// [`set`], the runs of a schedule taking their parameters from `profile`
/// (which must run the schedule's job on `instance`), checked when each runs.
pub async fn set_with_profile(
    store: &Store,
    registry: &Registry,
    instance: &str,
    name: &str,
    setting: &Setting,
    profile: Option<&str>,
) -> Result<CronEntry> {
    store.instance(instance).await?;
    let now = now_ms();
    let entries = list(store, registry, Some(instance), now).await?;
    if !entries.iter().any(|e| e.name == name) {
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        return Err(Error::NotFound {
            kind: "schedule",
            name: format!("{instance}/{name}"),
            hint: format!(
                " (schedules of `{instance}`: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        });
    }
    let (schedule, reset) = match setting {
        Setting::Schedule(s) => (Some(s.as_str()), false),
        Setting::Off => (None, false),
        Setting::Default => (None, true),
    };
    if let Some(profile) = profile {
        let Setting::Schedule(_) = setting else {
            return Err(Error::Invalid(format!(
                "--profile {profile}: give the schedule it runs on (a cron expression), not `off` or `default`"
            )));
        };
        let row = store.profile(profile).await?;
        let job = entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.job.clone())
            .unwrap_or_default();
        if row.instance != instance || row.job != job {
            return Err(Error::Invalid(format!(
                "profile `{profile}` runs job `{}` of `{}`; schedule `{name}` runs job `{job}` of `{instance}`",
                row.job, row.instance
            )));
        }
    }
    store
        .set_cron_override(instance, name, schedule, profile, reset, now)
        .await?;
    list(store, registry, Some(instance), now)
        .await?
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::not_found("schedule", format!("{instance}/{name}")))
}

/// One pass of the scheduler at `now`: enqueue the run of every schedule that
/// is due and has none in flight. Returns the ids of the jobs enqueued.
/// Callers other than [`Scheduler`] must make sure no other pass runs at the
/// same time (the lease does that for the scheduler).
pub async fn tick(store: &Store, registry: &Registry, now: i64) -> Result<Vec<i64>> {
    let mut enqueued = Vec::new();
    for entry in list(store, registry, None, now).await? {
        let Some(text) = &entry.schedule else {
            continue;
        };
        let schedule = match Schedule::parse(text) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(instance = %entry.instance, "schedule `{}` ({text}): {e}", entry.name);
                continue;
            }
        };
        let Some(run) = &entry.run else {
            // First seen: it counts from now.
            store
                .start_cron_run(&entry.instance, &entry.name, now)
                .await?;
            continue;
        };
        let Some(tick) = due(&schedule, run.last_tick, now) else {
            continue;
        };
        let key = identity_key(&entry.name);
        if store.job_in_flight(&entry.instance, &key).await? {
            continue;
        }
        let instance = store.instance(&entry.instance).await?;
        let start = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
        let resolved = match registry.resolve_job(&start, &entry.job) {
            Ok(resolved) => resolved,
            Err(e) => {
                tracing::warn!(instance = %entry.instance, "schedule `{}` not run: {e}", entry.name);
                continue;
            }
        };
        // `since` is the tick of the last run that finished done: a failed run's
        // changes are asked for again.
        let mut done_tick = run.done_tick;
        if let (Some(id), Some(t)) = (run.job_id, run.job_tick)
            && store.job(id).await.is_ok_and(|j| j.state == JobState::Done)
        {
            done_tick = Some(t);
        }
        let mut payload = match &entry.profile {
            None => entry.decl.payload().map_err(Error::Invalid)?,
            Some(profile) => match store.profile(profile).await {
                Ok(row) if row.instance == entry.instance && row.job == entry.job => {
                    Value::Object(row.params)
                }
                Ok(_) => {
                    tracing::warn!(instance = %entry.instance, "schedule `{}` not run: profile `{profile}` no longer runs its job", entry.name);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(instance = %entry.instance, "schedule `{}` not run: {e}", entry.name);
                    continue;
                }
            },
        };
        if let (Some(key), Some(since), Value::Object(map)) =
            (&entry.decl.since_key, done_tick, &mut payload)
        {
            map.insert(key.clone(), Value::from(since));
        }
        let mut job = NewJob::new(&entry.instance, &entry.job, &payload);
        // Checked like an operator's run: a schedule never stores a job its
        // parameters refuse.
        job.payload = match checked_payload(&resolved.module, &entry.job, &job.payload) {
            Ok(payload) => payload,
            Err(e) => {
                tracing::warn!(instance = %entry.instance, "schedule `{}` not run: {e}", entry.name);
                continue;
            }
        };
        job.priority = i64::from(entry.decl.priority);
        job.identity_key = Some(key);
        if let Some(channel) = &entry.decl.channel {
            job.channel = channel.clone();
        }
        job.user = "cron".into();
        job.trigger = crate::store::Trigger::Cron;
        job.description = format!(
            "cron {} ({text}) tick {}",
            entry.name,
            chrono::DateTime::from_timestamp_millis(tick)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        );
        if let Some(id) = store.enqueue_cron_run(run, tick, done_tick, &job).await? {
            tracing::info!(instance = %entry.instance, job = id, "schedule `{}` enqueued", entry.name);
            enqueued.push(id);
        }
    }
    Ok(enqueued)
}

/// A scheduler of one node: it runs passes only while it holds the lease.
#[derive(Debug)]
pub struct Scheduler {
    holder: String,
    ttl: Duration,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// A scheduler with a holder name unique to this process and call.
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
        Scheduler {
            holder: format!(
                "{host}/{}/{}/{}",
                std::process::id(),
                now_ms(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
            ttl: LEASE_TTL,
        }
    }

    /// Who this scheduler is in the lease table.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Take or renew the lease at `now`; if this scheduler holds it, run a
    /// pass ([`tick`]) and return the jobs enqueued; none if another holds it.
    pub async fn step(
        &self,
        store: &Store,
        modules: &Modules,
        now: i64,
    ) -> Result<Option<Vec<i64>>> {
        let ttl = self.ttl.as_millis() as i64;
        if !store
            .acquire_lease(SCHEDULER_LEASE, &self.holder, ttl, now)
            .await?
        {
            return Ok(None);
        }
        // Modules installed by another process bring their schedules along.
        if let Err(e) = modules.refresh().await {
            tracing::warn!("could not check for newly installed modules: {e}");
        }
        tick(store, &modules.current(), now).await.map(Some)
    }

    /// Give the lease back, so that another node takes over at once.
    pub async fn release(&self, store: &Store) -> Result<()> {
        store.release_lease(SCHEDULER_LEASE, &self.holder).await
    }
}

/// Run the cron scheduler of this node until `shutdown`: a pass at each
/// minute and at least every few seconds while it holds the lease, a try to
/// take it over otherwise. Errors (database unreachable…) are logged and
/// the pass retried; the lease is given back on shutdown.
pub async fn run_scheduler(store: Store, modules: Modules, shutdown: CancellationToken) {
    let scheduler = Scheduler::new();
    loop {
        let now = now_ms();
        let pause = match scheduler.step(&store, &modules, now).await {
            Ok(Some(_)) => {
                // Wake just after the next minute starts (ticks are whole minutes).
                let to_minute = 60_000 - now.rem_euclid(60_000) + 50;
                MAX_PAUSE.min(Duration::from_millis(to_minute as u64))
            }
            Ok(None) => MAX_PAUSE,
            Err(e) => {
                tracing::warn!("cron scheduler: {e}");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    if let Err(e) = scheduler.release(&store).await {
        tracing::warn!("cron scheduler: could not give the lease back: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    /// 2023-11-14 22:15:00 UTC, a quarter hour.
    const T0: i64 = 1_700_000_100_000;

    #[test]
    fn a_schedule_is_due_at_its_tick_and_not_before() {
        let every_15 = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(due(&every_15, T0 - MIN, T0 - 1), None, "just before");
        assert_eq!(due(&every_15, T0 - MIN, T0), Some(T0), "at the tick");
        assert_eq!(due(&every_15, T0 - MIN, T0 + 7 * MIN), Some(T0), "late");
        assert_eq!(due(&every_15, T0, T0 + 14 * MIN), None, "handled already");
        assert_eq!(due(&every_15, T0, T0 + 15 * MIN), Some(T0 + 15 * MIN));
    }

    #[test]
    fn missed_ticks_collapse_into_one() {
        let hourly = Schedule::parse("@hourly").unwrap();
        let midnight = 1_699_920_000_000; // 2023-11-14 00:00 UTC
        // Down for a day and a half: one run, for the latest tick.
        let now = midnight + 36 * 60 * MIN + 5 * MIN;
        assert_eq!(due(&hourly, midnight, now), Some(midnight + 36 * 60 * MIN));
        assert_eq!(due(&hourly, midnight + 36 * 60 * MIN, now), None);
    }

    #[test]
    fn ticks_are_utc() {
        let daily_six = Schedule::parse("0 6 * * *").unwrap();
        let midnight = 1_699_920_000_000; // 2023-11-14 00:00 UTC
        assert_eq!(
            due(&daily_six, midnight, midnight + 7 * 60 * MIN),
            Some(midnight + 6 * 60 * MIN)
        );
    }

    #[test]
    fn settings_are_schedules_off_or_default() {
        assert_eq!("off".parse::<Setting>().unwrap(), Setting::Off);
        assert_eq!("default".parse::<Setting>().unwrap(), Setting::Default);
        assert!(matches!(
            "*/5 * * * *".parse::<Setting>().unwrap(),
            Setting::Schedule(_)
        ));
        let err = "sometimes".parse::<Setting>().unwrap_err().to_string();
        assert!(
            err.contains("schedule \"sometimes\"") && err.contains("`off`"),
            "{err}"
        );
    }
}
