//! The worker loop. It never waits on one thing only: while jobs run it keeps
//! claiming for free slots, reacts to wake-ups (new jobs), and runs its
//! maintenance (reload modules, rescue expired leases) on time, so one slow
//! job never stalls the rest.

use super::config::{WorkerConfig, WorkerStats, default_name};
use super::executor::Executor;
use super::prefetch::Prefetch;
use super::recorder::{self, Recorder};
use super::run::{self, Ended};
use crate::store::{Dialect, JobRow, Store, now_ms};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often a worker checks for newly installed modules, changed instances
/// and expired leases.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(2);

/// Run the jobs of `store` with `executor` until shut down (or, with
/// `until_idle`, until none is runnable or running; see [`WorkerConfig`]).
/// `on_change` is called after each finished job with the totals.
///
/// The worker's loop runs as a task of the runtime, not in the caller's
/// future: every job that ends wakes the loop, and a wake-up between tasks
/// of the runtime's threads is cheap, where one of a thread blocked outside
/// it (`block_on` in `main`) is a futex call and a context switch (13–15 %
/// of SQLite throughput, see BENCHMARKS.md). Dropping the returned future
/// stops the loop as before: the task is aborted, its running jobs with it.
pub async fn run_worker(
    store: &Store,
    executor: Arc<dyn Executor>,
    config: &WorkerConfig,
    on_change: impl FnMut(&WorkerStats) + Send + 'static,
) -> crate::Result<WorkerStats> {
    let task = tokio::spawn(work(store.clone(), executor, config.clone(), on_change));
    match tokio_util::task::AbortOnDropHandle::new(task).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(crate::Error::Invalid(format!(
            "the worker's task ended without an answer: {e}"
        ))),
    }
}

/// The worker's loop (see [`run_worker`]).
async fn work(
    store: Store,
    executor: Arc<dyn Executor>,
    config: WorkerConfig,
    mut on_change: impl FnMut(&WorkerStats) + Send + 'static,
) -> crate::Result<WorkerStats> {
    let config = &config;
    let name = config.name.clone().unwrap_or_else(default_name);
    let background = CancellationToken::new();
    let _stop_background = background.clone().drop_guard();
    tokio::spawn(renew_leases(
        store.clone(),
        name.clone(),
        config.lease,
        background.clone(),
    ));
    if let Some(retention) = config.retention {
        tokio::spawn(super::retention::prune_periodically(
            store.clone(),
            retention,
            background.clone(),
        ));
    }
    if store.dialect() == Dialect::Postgres {
        tokio::spawn(listen_for_jobs(store.clone(), background.clone()));
    }
    let mut worker = Worker {
        executor,
        config,
        concurrency: config.concurrency.max(1),
        prefetch: Prefetch::new(config.concurrency, config.batch),
        ended: 0,
        recorder: Recorder::start(store.clone()),
        store,
        name,
        stats: WorkerStats::default(),
        waiting: VecDeque::new(),
        running: JoinSet::new(),
        running_ids: HashMap::new(),
        next_maintenance: Instant::now(),
        drained_at: None,
        claiming: None,
    };
    let wakeups = worker.store.wakeups();
    loop {
        if config.shutdown.is_cancelled() {
            break;
        }
        // Listen before looking, so that a job stored while this turn looks
        // at the queue still wakes the wait below.
        let woken = wakeups.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if Instant::now() >= worker.next_maintenance {
            worker.maintenance().await;
        }
        worker.claim();
        worker.start_waiting();
        if config.until_idle
            && worker.running.is_empty()
            && worker.waiting.is_empty()
            && worker.claiming.is_none()
            && worker.idle().await?
        {
            break;
        }
        let next_look = worker
            .next_maintenance
            .min(Instant::now() + config.poll_interval);
        let claim_in_flight = worker.claiming.is_some();
        let claim = worker.claiming.as_mut().map(|c| &mut c.task);
        tokio::select! {
            claimed = claim_ended(claim), if claim_in_flight => worker.claimed(claimed),
            joined = worker.running.join_next_with_id(), if !worker.running.is_empty() => {
                worker.joined(joined).await;
                on_change(&worker.stats);
            }
            _ = &mut woken => {}
            _ = tokio::time::sleep_until(next_look) => {}
            _ = config.shutdown.cancelled() => {}
        }
    }
    let stats = worker.shut_down().await;
    on_change(&stats);
    Ok(stats)
}

/// One worker's state between turns of its loop.
struct Worker<'a> {
    executor: Arc<dyn Executor>,
    config: &'a WorkerConfig,
    concurrency: usize,
    /// How many jobs to claim, and when.
    prefetch: Prefetch,
    /// Jobs ended on this worker so far (each try counts).
    ended: u64,
    store: Store,
    name: String,
    recorder: Recorder,
    stats: WorkerStats,
    /// Claimed, waiting for a free slot.
    waiting: VecDeque<JobRow>,
    running: JoinSet<Ended>,
    /// `(job id, lease token)` of each running task.
    running_ids: HashMap<tokio::task::Id, (i64, i64)>,
    next_maintenance: Instant,
    /// When the last claim found fewer ready jobs than it wanted, and the
    /// wake-up generation then.
    drained_at: Option<(u64, Instant)>,
    /// The claim running beside the jobs, if one is.
    claiming: Option<Claiming>,
}

/// A claim running as its own task, so that the worker's slots keep running
/// jobs (and the loop keeps reacting) while the database answers it.
struct Claiming {
    task: tokio::task::JoinHandle<crate::Result<Vec<JobRow>>>,
    /// How many jobs it asked for.
    want: usize,
    /// The wake-up generation when it began.
    generation: u64,
}

/// What the claim in flight answered (never, when there is none).
async fn claim_ended(
    claim: Option<&mut tokio::task::JoinHandle<crate::Result<Vec<JobRow>>>>,
) -> Result<crate::Result<Vec<JobRow>>, tokio::task::JoinError> {
    match claim {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

impl Worker<'_> {
    /// Let the executor pick up what changed (modules installed by other
    /// processes, instance parameters), and rescue jobs whose lease expired.
    async fn maintenance(&mut self) {
        self.next_maintenance = Instant::now() + MAINTENANCE_INTERVAL;
        self.executor.maintain().await;
        // Renew this worker's own leases first: its renewal task may have
        // been held up (a busy database, a loaded machine), and a worker
        // must never take for dead the jobs it is running itself.
        if let Err(e) = self.store.renew_leases(&self.name, self.config.lease).await {
            tracing::warn!(
                "could not renew the leases of worker {}; not looking for abandoned jobs: {e}",
                self.name
            );
            return;
        }
        match self.store.rescue_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!("{n} job(s) whose worker stopped put back in the queue"),
            Err(e) => tracing::warn!("could not look for abandoned jobs: {e}"),
        }
    }

    /// Whether the last claim found the queue drained and nothing was
    /// enqueued since (a claim is a write transaction: not worth repeating).
    fn drained(&self) -> bool {
        self.drained_at.is_some_and(|(generation, at)| {
            generation == self.store.wake_generation() && at.elapsed() < self.config.poll_interval
        })
    }

    /// Begin a claim when the jobs waiting for a slot may run out before it
    /// answers (one claim at a time; see [`Prefetch`]). It runs beside the
    /// jobs: see [`Claiming`].
    fn claim(&mut self) {
        if self.claiming.is_some() || self.drained() {
            return;
        }
        let held = self.waiting.len() + self.running.len();
        let Some(want) = self.prefetch.want(self.waiting.len(), held) else {
            return;
        };
        self.prefetch.claim_began(self.ended, held);
        let generation = self.store.wake_generation();
        let (store, name, lease) = (self.store.clone(), self.name.clone(), self.config.lease);
        let channels = self.config.channels.clone();
        let task = tokio::spawn(async move {
            if channels.is_capped() {
                store
                    .claim_jobs_within(&name, want, lease, |load, candidates| {
                        channels.pick(load, candidates, want)
                    })
                    .await
            } else {
                store.claim_jobs(&name, want, lease).await
            }
        });
        self.claiming = Some(Claiming {
            task,
            want,
            generation,
        });
    }

    /// The claim in flight answered: its jobs wait for a slot.
    fn claimed(&mut self, answer: Result<crate::Result<Vec<JobRow>>, tokio::task::JoinError>) {
        let Some(Claiming {
            want, generation, ..
        }) = self.claiming.take()
        else {
            return;
        };
        match answer {
            Ok(Ok(jobs)) => {
                self.prefetch.claim_answered(want, jobs.len(), self.ended);
                self.drained_at = (jobs.len() < want).then(|| (generation, Instant::now()));
                self.waiting.extend(jobs);
            }
            // The database is busy or gone: jobs already running must still
            // be recorded, so this is retried (after a poll interval or the
            // next wake-up, as if the queue were drained), not fatal.
            Ok(Err(e)) => {
                tracing::warn!("could not claim jobs: {e}");
                self.drained_at = Some((generation, Instant::now()));
            }
            Err(e) => {
                tracing::error!("a claim's task ended without an answer: {e}");
                self.drained_at = Some((generation, Instant::now()));
            }
        }
    }

    /// Wait for the claim in flight, if any, and take its jobs.
    async fn finish_claim(&mut self) {
        if let Some(claiming) = self.claiming.as_mut() {
            let answer = (&mut claiming.task).await;
            self.claimed(answer);
        }
    }

    /// Start waiting jobs in the free slots.
    fn start_waiting(&mut self) {
        while self.running.len() < self.concurrency
            && let Some(job) = self.waiting.pop_front()
        {
            let (executor, base, report, metrics) = (
                self.executor.clone(),
                self.config.retry_base,
                self.recorder.sender(),
                self.store.metrics().clone(),
            );
            let key = (job.id, job.lease_token.unwrap_or_default());
            let handle = self
                .running
                .spawn(async move { run::run(&*executor, &job, base, &report, &metrics).await });
            self.running_ids.insert(handle.id(), key);
        }
        if self.running.len() < self.concurrency && self.claiming.is_some() {
            self.prefetch.starving();
        }
    }

    /// A job's task ended.
    async fn joined(
        &mut self,
        joined: Option<Result<(tokio::task::Id, Ended), tokio::task::JoinError>>,
    ) {
        match joined {
            Some(Ok((id, ended))) => {
                self.running_ids.remove(&id);
                self.stats.count(&ended);
                self.ended += 1;
                if let Ended::Retried(Some(instance)) = &ended {
                    self.store.metrics().snoozed(instance);
                    // A claim that began before the snooze may bring jobs of
                    // the instance: they are given back with the others.
                    self.finish_claim().await;
                    snooze(&self.store, &self.recorder, &mut self.waiting, instance).await;
                }
            }
            Some(Err(e)) => {
                self.running_ids.remove(&e.id());
                self.ended += 1;
                tracing::error!("a job task panicked: {e}");
            }
            None => {}
        }
    }

    /// With `until_idle`, nothing running or waiting here: whether to stop.
    /// Not while a claim may still find work, a job becomes due within the
    /// idle horizon, or (with `wait_leases`) other workers hold jobs.
    async fn idle(&mut self) -> crate::Result<bool> {
        if !self.drained() {
            return Ok(false);
        }
        self.recorder.flush().await;
        let outlook = self.store.outlook().await?;
        let horizon = now_ms() + self.config.idle_horizon.as_millis() as i64;
        if outlook.next_due.is_some_and(|due| due <= horizon) {
            return Ok(false);
        }
        Ok(!self.config.wait_leases || outlook.held.is_empty())
    }

    /// Stop cleanly: give back what did not start, let running jobs finish within
    /// the grace period, give back the rest, and write every outcome.
    async fn shut_down(mut self) -> WorkerStats {
        // A claim in flight commits whatever happens: its jobs are taken, to
        // be given back with the other unstarted ones.
        self.finish_claim().await;
        let Worker {
            store,
            name,
            config,
            recorder,
            waiting,
            mut running,
            mut running_ids,
            mut stats,
            ..
        } = self;
        let (store, name) = (&store, name.as_str());
        // Started marks first, so that only the truly unstarted are given back.
        recorder.flush().await;
        if !waiting.is_empty() || config.shutdown.is_cancelled() {
            match store.release_unstarted(name).await {
                Ok(n) => stats.released += n,
                Err(e) => {
                    tracing::warn!(
                        "could not give back unstarted jobs (their lease will expire): {e}"
                    )
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
                "worker {name} shut down before the job finished (grace period {}): given back",
                humantime::format_duration(config.grace)
            );
            let failed = crate::store::FailedTry {
                id,
                token,
                error: message,
                kind: crate::error::FailureKind::Retryable,
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
        stats
    }
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
