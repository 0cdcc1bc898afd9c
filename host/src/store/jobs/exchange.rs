//! What workers and the store exchange: the candidates a claim picks from,
//! the load it keeps within, and the outcomes of tries reported back.

use super::JobState;
use std::collections::HashMap;

/// A ready job a claim may take, in the order it should run.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Job id.
    pub id: i64,
    /// Its channel.
    pub channel: String,
}

/// What a claim needs to know to pick among the ready jobs.
#[derive(Debug, Clone, Default)]
pub struct ClaimLoad {
    /// Jobs enqueued or started right now, per channel, across all workers.
    pub running: HashMap<String, i64>,
}

/// A job that ended well, to record with others in one statement.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Job id.
    pub id: i64,
    /// Fencing token of the claim it ran under.
    pub token: i64,
    /// Result, JSON text.
    pub result: String,
    /// Module (and its content hash) that ran it.
    pub module: Option<(String, String)>,
    /// When it started, ms.
    pub started_at: i64,
    /// Last progress reported.
    pub progress: Option<(i64, i64)>,
    /// Cursors the run set, written in the transaction that marks the job
    /// done, and only if it does (its lease still held).
    pub cursors: Vec<CursorWrite>,
    /// Messages the run published: written to the outbox in the same
    /// transaction, and only if the job is marked done.
    pub messages: Vec<OutboxWrite>,
}

/// A cursor value staged by a job, written with its completion (see
/// `store::cursors` for why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorWrite {
    /// Backend instance.
    pub instance: String,
    /// Stream name (checked by `check_cursor_name`).
    pub name: String,
    /// Value, JSON text.
    pub value: String,
}

/// A message a run published, staged until its job commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxWrite {
    /// Backend instance.
    pub instance: String,
    /// Topic (checked: `crate::manifest::check_topic`).
    pub topic: String,
    /// Ordering key: messages of one key are sent in order. The topic when
    /// the guest gave none.
    pub key: String,
    /// Body.
    pub payload: Vec<u8>,
    /// Headers, in the order given.
    pub headers: Vec<(String, String)>,
}

impl OutboxWrite {
    /// Its headers as stored: `{"h": [[name, value], …]}`, so that names
    /// may repeat and keep their order.
    pub(crate) fn headers_json(&self) -> String {
        serde_json::json!({ "h": self.headers }).to_string()
    }
}

/// A try that failed, and what comes next.
#[derive(Debug, Clone)]
pub struct FailedTry {
    /// Job id.
    pub id: i64,
    /// Fencing token of the claim it ran under.
    pub token: i64,
    /// What went wrong.
    pub error: String,
    /// How the try failed.
    pub kind: crate::error::FailureKind,
    /// Try again at this time; none: failed for good.
    pub retry_at: Option<i64>,
    /// Whether the try counts against its retries (a job that only met a lock,
    /// or was given back at shutdown, keeps its try).
    pub count_try: bool,
    /// The remote asked every job of the instance to wait until then.
    pub snooze_until: Option<i64>,
    /// Module (and its content hash) that ran it, if it got that far.
    pub module: Option<(String, String)>,
    /// When it started, ms.
    pub started_at: Option<i64>,
}

/// What became of a recorded outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored: the job is now in this state.
    Now(JobState),
    /// The claim's lease was lost (rescued, cancelled or set done meanwhile):
    /// nothing was written.
    Fenced,
}
