//! The job queue's workers.
//!
//! A worker claims ready jobs in batches (best priority first, within channel
//! capacities), holds them under a lease it renews while they run, runs each
//! in its module, and hands the outcome to a [recorder] that writes outcomes in
//! batches. Jobs whose worker died are rescued when their lease expires. On
//! shutdown a worker stops claiming, gives back what it has not started, lets
//! running jobs finish within a grace period and gives back the rest.
//!
//! [recorder]: recorder

mod channels;
mod recorder;
pub mod retry;
mod run;

pub use channels::Channels;
pub use retry::backoff;

use crate::ferry::Ferry;
use crate::store::{BackendInstance, Dialect, JobRow, now_ms};
use recorder::Recorder;
use run::Ended;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How often a worker checks for newly installed modules, changed instances
/// and expired leases.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(2);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once by this worker.
    pub concurrency: usize,
    /// Most jobs claimed at once (claimed jobs wait `enqueued` for a free slot);
    /// at least `concurrency`.
    pub batch: usize,
    /// Channel capacities, counted across all workers of the database.
    pub channels: Channels,
    /// Stop when no job is running and none is due within `idle_horizon`
    /// (instead of waiting for more).
    pub until_idle: bool,
    /// With `until_idle`: retries due within this long are waited for.
    pub idle_horizon: Duration,
    /// Longest wait between looks at the queue when nothing wakes the worker.
    pub poll_interval: Duration,
    /// First retry delay of the default backoff; doubles with each try.
    pub retry_base: Duration,
    /// How long a claim holds a job without being renewed; the worker renews
    /// it every third of that. A dead worker's jobs run again after it.
    pub lease: Duration,
    /// At shutdown: how long running jobs may take to finish before they are
    /// given back.
    pub grace: Duration,
    /// Cancel to shut the worker down (e.g. on SIGTERM).
    pub shutdown: CancellationToken,
    /// Name the worker's claims carry (default: host, process id and a random tag).
    pub name: Option<String>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 4,
            batch: 32,
            channels: Channels::default(),
            until_idle: false,
            idle_horizon: Duration::from_secs(60),
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            shutdown: CancellationToken::new(),
            name: None,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs that finished done.
    pub done: u64,
    /// Jobs that failed for good.
    pub failed: u64,
    /// Tries that failed and were scheduled again.
    pub retried: u64,
    /// Jobs given back at shutdown.
    pub released: u64,
}

impl WorkerStats {
    fn count(&mut self, ended: &Ended) {
        match ended {
            Ended::Done => self.done += 1,
            Ended::Retried(_) => self.retried += 1,
            Ended::Failed => self.failed += 1,
        }
    }
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}

/// Run jobs until shut down (or, with `until_idle`, until none is ready or
/// running). `on_change` is called after each finished job with the totals.
pub async fn run_worker(
    ferry: &Ferry,
    config: &WorkerConfig,
    mut on_change: impl FnMut(&WorkerStats),
) -> crate::Result<WorkerStats> {
    let name = config.name.clone().unwrap_or_else(default_name);
    let concurrency = config.concurrency.max(1);
    let batch = config.batch.max(concurrency);
    let store = ferry.store().clone();
    let recorder = Recorder::start(store.clone());
    let background = CancellationToken::new();
    let _stop_background = background.clone().drop_guard();
    tokio::spawn(renew_leases(
        store.clone(),
        name.clone(),
        config.lease,
        background.clone(),
    ));
    if store.dialect() == Dialect::Postgres {
        tokio::spawn(listen_for_jobs(store.clone(), background.clone()));
    }
    let wakeups = store.wakeups();
    let mut stats = WorkerStats::default();
    let mut waiting: VecDeque<JobRow> = VecDeque::new();
    let mut running: JoinSet<Ended> = JoinSet::new();
    let mut running_ids: HashMap<tokio::task::Id, (i64, i64)> = HashMap::new();
    let mut instances: HashMap<String, BackendInstance> = HashMap::new();
    let mut last_maintenance: Option<Instant> = None;
    let mut drained_at: Option<(u64, Instant)> = None;
    loop {
        if config.shutdown.is_cancelled() {
            break;
        }
        if last_maintenance.is_none_or(|t| t.elapsed() >= MAINTENANCE_INTERVAL) {
            last_maintenance = Some(Instant::now());
            maintenance(ferry, &mut instances).await;
        }
        // Claim when fewer than a slot's worth of jobs wait (one claim per
        // batch), unless the last claim found the queue drained and nothing
        // was enqueued since (a claim is a write transaction).
        let held = waiting.len() + running.len();
        let drained = drained_at.is_some_and(|(generation, at): (u64, Instant)| {
            generation == store.wake_generation() && at.elapsed() < config.poll_interval
        });
        if waiting.len() < concurrency && held < batch && !drained {
            let want = batch - held;
            let generation = store.wake_generation();
            let channels = &config.channels;
            let claim = store
                .claim_jobs(
                    &name,
                    want,
                    config.lease,
                    channels.is_capped(),
                    |load, candidates| channels.pick(load, candidates, want),
                )
                .await;
            match claim {
                Ok(jobs) => {
                    drained_at = (jobs.len() < want).then(|| (generation, Instant::now()));
                    waiting.extend(jobs);
                }
                // The database is busy or gone: jobs already running must
                // still be recorded, so this is retried, not fatal.
                Err(e) => tracing::warn!("could not claim jobs: {e}"),
            }
        }
        while running.len() < concurrency
            && let Some(job) = waiting.pop_front()
        {
            let instance = match instances.get(&job.instance) {
                Some(i) => Ok(i.clone()),
                None => store.instance(&job.instance).await,
            };
            if let Ok(i) = &instance {
                instances.insert(i.name.clone(), i.clone());
            }
            let (ferry, base, report) = (ferry.clone(), config.retry_base, recorder.sender());
            let key = (job.id, job.lease_token.unwrap_or_default());
            let handle =
                running.spawn(async move { run::run(&ferry, &job, instance, base, &report).await });
            running_ids.insert(handle.id(), key);
        }
        if running.is_empty() && waiting.is_empty() {
            if config.until_idle {
                recorder.flush().await;
                let due_soon = store
                    .next_eta()
                    .await?
                    .is_some_and(|eta| eta - now_ms() <= config.idle_horizon.as_millis() as i64);
                if !due_soon {
                    break;
                }
            }
            tokio::select! {
                _ = wakeups.notified() => {}
                _ = tokio::time::sleep(config.poll_interval) => {}
                _ = config.shutdown.cancelled() => {}
            }
            continue;
        }
        if running.is_empty() {
            continue;
        }
        tokio::select! {
            joined = running.join_next_with_id() => {
                match joined {
                    Some(Ok((id, ended))) => {
                        running_ids.remove(&id);
                        stats.count(&ended);
                        if let Ended::Retried(Some(instance)) = &ended {
                            snooze(&store, &recorder, &mut waiting, instance).await;
                        }
                    }
                    Some(Err(e)) => {
                        running_ids.remove(&e.id());
                        tracing::error!("a job task panicked: {e}");
                    }
                    None => {}
                }
                on_change(&stats);
            }
            _ = config.shutdown.cancelled() => {}
        }
    }
    shut_down(
        &store,
        &name,
        config,
        recorder,
        waiting,
        running,
        running_ids,
        &mut stats,
    )
    .await;
    on_change(&stats);
    Ok(stats)
}

/// Stop cleanly: give back what did not start, let running jobs finish within
/// the grace period, give back the rest, and write every outcome.
#[allow(clippy::too_many_arguments)]
async fn shut_down(
    store: &crate::store::Store,
    name: &str,
    config: &WorkerConfig,
    recorder: Recorder,
    waiting: VecDeque<JobRow>,
    mut running: JoinSet<Ended>,
    mut running_ids: HashMap<tokio::task::Id, (i64, i64)>,
    stats: &mut WorkerStats,
) {
    // Started marks first, so that only the truly unstarted are given back.
    recorder.flush().await;
    if !waiting.is_empty() || config.shutdown.is_cancelled() {
        match store.release_unstarted(name).await {
            Ok(n) => stats.released += n,
            Err(e) => {
                tracing::warn!("could not give back unstarted jobs (their lease will expire): {e}")
            }
        }
    }
    let deadline = tokio::time::sleep(config.grace);
    tokio::pin!(deadline);
    while !running.is_empty() {
        tokio::select! {
            joined = running.join_next_with_id() => match joined {
                Some(Ok((id, ended))) => {
                    running_ids.remove(&id);
                    stats.count(&ended);
                }
                Some(Err(e)) => {
                    running_ids.remove(&e.id());
                }
                None => break,
            },
            _ = &mut deadline => {
                running.abort_all();
                // Collect the ones that finished just before; the others are
                // given back below.
                while let Some(joined) = running.join_next_with_id().await {
                    if let Ok((id, ended)) = joined {
                        running_ids.remove(&id);
                        stats.count(&ended);
                    }
                }
                break;
            }
        }
    }
    let sender = recorder.sender();
    for (id, token) in running_ids.into_values() {
        let message = format!(
            "worker {name} shut down before the job finished (grace period {:?}): given back",
            config.grace
        );
        let failed = crate::store::FailedTry {
            id,
            token,
            error: message,
            kind: "retryable".into(),
            retry_at: Some(now_ms()),
            count_try: false,
            snooze_until: None,
            module: None,
            started_at: None,
        };
        let _ = sender.send(recorder::Report::Failed(failed, Vec::new()));
        stats.released += 1;
    }
    drop(sender);
    recorder.close().await;
}

/// The remote of `instance` asked to wait: make the snooze visible to every
/// claim before the next one, and give back this worker's claimed jobs of
/// that instance so that none of them spends a try.
async fn snooze(
    store: &crate::store::Store,
    recorder: &Recorder,
    waiting: &mut VecDeque<JobRow>,
    instance: &str,
) {
    recorder.flush().await;
    let (held, keep): (Vec<JobRow>, Vec<JobRow>) =
        waiting.drain(..).partition(|j| j.instance == instance);
    waiting.extend(keep);
    let held: Vec<(i64, i64)> = held
        .iter()
        .map(|j| (j.id, j.lease_token.unwrap_or_default()))
        .collect();
    if let Err(e) = store.release_claimed(&held).await {
        tracing::warn!(
            "could not give back the jobs of snoozed instance {instance} (their lease will expire): {e}"
        );
    }
}

/// Reload modules installed by other processes, forget cached instances (their
/// params may have changed), and rescue jobs whose lease expired.
async fn maintenance(ferry: &Ferry, instances: &mut HashMap<String, BackendInstance>) {
    if let Err(e) = ferry.refresh().await {
        tracing::warn!("could not check for newly installed modules: {e}");
    }
    instances.clear();
    match ferry.store().rescue_expired().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!("{n} job(s) whose worker stopped put back in the queue"),
        Err(e) => tracing::warn!("could not look for abandoned jobs: {e}"),
    }
}

/// Renew the worker's leases every third of their length, until `stop`.
async fn renew_leases(
    store: crate::store::Store,
    name: String,
    lease: Duration,
    stop: CancellationToken,
) {
    let every = (lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = store.renew_leases(&name, lease).await {
            tracing::warn!("could not renew the leases of worker {name}: {e}");
        }
    }
}

/// On PostgreSQL: wake this worker when any process enqueues (`LISTEN`),
/// reconnecting when the connection drops.
async fn listen_for_jobs(store: crate::store::Store, stop: CancellationToken) {
    let mut wait = Duration::from_millis(200);
    loop {
        let listened = async {
            let mut listener = sqlx::postgres::PgListener::connect(store.url()).await?;
            listener.listen("ferry_jobs").await?;
            loop {
                listener.recv().await?;
                store.wake_workers();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            result = listened => {
                if let Err(e) = result {
                    tracing::warn!("listening for new jobs failed, polling meanwhile: {e}");
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}
