//! Jobs: what a job is (state, options, pins, retry patterns), and the
//! store's operations on them, one file per side: [`enqueue`] (producers),
//! [`claims`] (workers) and [`operators`] (people and tools). The workers'
//! hot path goes through a [`driver`] per database; what follows a failed try
//! or an expired claim is the queue's policy (`crate::queue::policy`).

mod claims;
pub(crate) mod driver;
mod enqueue;
mod exchange;
mod model;
mod operators;
mod outlook;
mod rescue;
mod search;
mod trigger;

pub use crate::queue::policy::{MAX_FREE_LOST_CLAIMS, merge_payloads};
pub(crate) use driver::write_outbox;
pub use exchange::{
    Candidate, ClaimLoad, Completion, CursorWrite, FailedTry, OutboxWrite, Recorded,
};
use model::InsertRow;
pub use model::{
    Dependency, JobFilter, JobRow, JobState, LogLine, NewJob, Pin, PinPolicy, RetryPattern,
};
pub(super) use model::{
    JOB_COLUMNS, StoredJob, column_list, job, job_columns, job_json_object, json_object_of,
    with_job_columns,
};
pub use outlook::{HeldBy, Outlook};
pub(in crate::store) use search::{Conditions, contains, escape_like};
pub use trigger::{TRIGGERS, Trigger};
