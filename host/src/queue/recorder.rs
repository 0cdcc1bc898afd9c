//! The recorder: writes what workers report (started, done, failed, with the
//! log lines of each run) in batches, so that thousands of short jobs cost a
//! few transactions instead of thousands. Nothing reported is dropped: when
//! the database is unreachable the batch is kept and written when it is back
//! (a lease that expires meanwhile is fenced: the late write matches no row).

use crate::store::{Completion, FailedTry, JobState, LogLine, Recorded, Store};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most reports written in one batch.
const BATCH: usize = 1024;
/// First wait before writing again after the database failed; doubles to 5 s.
const RETRY_FIRST: Duration = Duration::from_millis(100);

/// A worker's report.
#[derive(Debug)]
pub(crate) enum Report {
    /// A claimed job started: `(id, token, at)`.
    Started(i64, i64, i64),
    /// A job ended well.
    Done(Completion, Vec<LogLine>),
    /// A try failed.
    Failed(FailedTry, Vec<LogLine>),
    /// Answer once everything reported before is written.
    Flush(oneshot::Sender<()>),
}

/// The sending side, owned by the worker loop.
pub(crate) struct Recorder {
    tx: mpsc::UnboundedSender<Report>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Start the recorder's task.
    pub(crate) fn start(store: Store) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        Recorder {
            tx,
            task: tokio::spawn(write_loop(store, rx)),
        }
    }

    /// A handle for job tasks.
    pub(crate) fn sender(&self) -> mpsc::UnboundedSender<Report> {
        self.tx.clone()
    }

    /// Wait until everything reported so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Report::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// Write what is left and stop.
    pub(crate) async fn close(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

async fn write_loop(store: Store, mut rx: mpsc::UnboundedReceiver<Report>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        let mut flushed = Vec::new();
        let mut reports = Vec::with_capacity(batch.len());
        for report in batch.drain(..) {
            match report {
                Report::Flush(done) => flushed.push(done),
                other => reports.push(other),
            }
        }
        let mut wait = RETRY_FIRST;
        while let Err(e) = write(&store, &mut reports).await {
            tracing::warn!(
                "could not record {} job report(s), trying again in {wait:?}: {e}",
                reports.len()
            );
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// Write one batch; on success `reports` is emptied. Failures are written one
/// by one (each may cancel a twin, merge, snooze), after the batch's
/// completions; a failure already written is not written twice on a retry.
async fn write(store: &Store, reports: &mut Vec<Report>) -> crate::Result<()> {
    let ended: HashSet<i64> = reports
        .iter()
        .filter_map(|r| match r {
            Report::Done(c, _) => Some(c.id),
            Report::Failed(f, _) => Some(f.id),
            _ => None,
        })
        .collect();
    // A job that started and ended within one batch needs only its outcome.
    let started: Vec<(i64, i64, i64)> = reports
        .iter()
        .filter_map(|r| match r {
            Report::Started(id, token, at) if !ended.contains(id) => Some((*id, *token, *at)),
            _ => None,
        })
        .collect();
    let mut done = Vec::new();
    let mut logs = Vec::new();
    for report in reports.iter() {
        if let Report::Done(c, lines) = report {
            logs.extend(lines.iter().map(|l| (c.id, l.clone())));
            done.push(c.clone());
        }
    }
    for id in store
        .record_started_and_completions(&started, &done, &logs)
        .await?
    {
        tracing::warn!(
            job = id,
            "job {id} finished after its lease was lost: outcome not recorded"
        );
    }
    reports.retain(|r| matches!(r, Report::Failed(..)));
    while let Some(Report::Failed(failed, lines)) = reports.first() {
        if store.record_failure(failed, lines).await? == Recorded::Fenced
            && !ended_by_operator(store, failed.id).await
        {
            tracing::warn!(
                job = failed.id,
                "job {} failed after its lease was lost: outcome not recorded",
                failed.id
            );
        }
        reports.remove(0);
    }
    Ok(())
}

/// Whether an operator ended the job while it ran (cancelled it, or a step
/// driver paused or stopped it at a chunk boundary on an operator's request):
/// then a fenced outcome is expected, not a lost lease.
async fn ended_by_operator(store: &Store, id: i64) -> bool {
    matches!(
        store.job(id).await.map(|j| j.state),
        Ok(JobState::Cancelled | JobState::Paused)
    )
}
