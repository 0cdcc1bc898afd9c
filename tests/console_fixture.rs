//! A small queue with a known history, for the operators' views (logs,
//! overview, bulk actions): jobs of two instances, in each state that
//! matters, started by different triggers, with log lines of every level.

use ferry::Ferry;
use ferry::error::FailureKind;
use ferry::store::{FailedTry, LogLine, NewJob, Trigger, now_ms};
use ferry_tests::*;
use serde_json::json;
use std::time::Duration;

/// The jobs of [`history`], by what they are.
pub struct History {
    /// `acme` / `import`, cron, done; lines info, debug, warn (module `shop`).
    pub imported: i64,
    /// `acme` / `export`, button, failed for good; an error line (host).
    pub exported: i64,
    /// `beta` / `import`, webhook, pending, retrying after an error; lines
    /// trace and info (module `shop`).
    pub retrying: i64,
    /// `beta` / `sync`, cli, pending, never run; no lines.
    pub waiting: i64,
}

/// A log line at `level` from `module`.
pub fn line(level: &str, module: &str, message: &str) -> LogLine {
    LogLine {
        attempt: 1,
        at: now_ms(),
        level: level.into(),
        module: module.into(),
        message: message.into(),
    }
}

fn job(instance: &str, name: &str, trigger: Trigger) -> NewJob {
    let mut job = NewJob::new(instance, name, &json!({}));
    job.trigger = trigger;
    job
}

/// Fill `ferry`'s queue with the jobs of [`History`] and their lines.
pub async fn history(ferry: &Ferry) -> History {
    let store = ferry.store();
    let imported = store
        .enqueue(&job("acme", "import", Trigger::Cron))
        .await
        .unwrap();
    let exported = store
        .enqueue(&job("acme", "export", Trigger::Button))
        .await
        .unwrap();
    let retrying = store
        .enqueue(&job("beta", "import", Trigger::Webhook))
        .await
        .unwrap();
    let claimed = claim(ferry, 3, Duration::from_secs(60)).await;
    assert_eq!(claimed.len(), 3);
    let token = |id: i64| {
        claimed
            .iter()
            .find(|j| j.id == id)
            .unwrap()
            .lease_token
            .unwrap()
    };
    store
        .append_job_logs(
            imported,
            &[
                line("info", "shop", "fetched 10 orders"),
                line("debug", "shop", "page 2 of 2"),
                line("warn", "shop", "slow answer from the shop"),
            ],
        )
        .await
        .unwrap();
    store.set_job_done(imported, None).await.unwrap();
    let failed = |id: i64, retry_at: Option<i64>, error: &str| FailedTry {
        id,
        token: token(id),
        error: error.into(),
        kind: FailureKind::Retryable,
        retry_at,
        count_try: true,
        snooze_until: None,
        module: None,
        started_at: None,
    };
    store
        .record_failure(
            &failed(exported, None, "HTTP 500 from the shop"),
            &[line("error", "host", "HTTP 500 from the shop")],
        )
        .await
        .unwrap();
    store
        .record_failure(
            &failed(retrying, Some(now_ms() + 3_600_000), "connection refused"),
            &[
                line("trace", "shop", "connecting"),
                line("info", "shop", "Fetched 3 ORDERS before the error"),
            ],
        )
        .await
        .unwrap();
    let waiting = store
        .enqueue(&job("beta", "sync", Trigger::Cli))
        .await
        .unwrap();
    History {
        imported,
        exported,
        retrying,
        waiting,
    }
}
