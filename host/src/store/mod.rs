//! Persistence with sqlx: local records (and guests' bounded queries of
//! them), links, jobs and their logs, subscriptions, checkpoints, installed
//! modules and backend instances, sealed secrets, the transmission log, the
//! audit log, and conflicts reported by connectors with their policies.
//!
//! SQLite is the embedded default: one file, created and migrated on first use.
//! The SQL is kept portable so that PostgreSQL can serve the same store, but
//! for the queue's hot path (claims, starts, batches of outcomes), which goes
//! through a driver per database (see `jobs::driver`).

mod audit;
mod checkpoints;
mod conflict_policies;
mod conflicts;
mod console_sessions;
mod cursors;
mod db;
mod guest_pool;
mod guest_queries;
mod intents;
mod job_logs;
mod jobs;
mod leases;
mod links;
mod meta;
mod modules;
mod outbox;
mod overview;
mod pairs;
mod profiles;
mod queue_depth;
mod record_models;
mod records;
mod retention;
mod run_locks;
mod secrets;
mod sources;
mod sql;
mod steps;
mod tokens;
mod transmissions;
mod triggers;

pub use audit::{AuditEntry, AuditFilter};
pub use checkpoints::Checkpoint;
pub use conflict_policies::{ConflictPolicy, POLICY_ACTION, PolicyRow};
pub use conflicts::{
    ConflictFilter, ConflictRow, ConflictState, JobRef, NewConflict, RESOLVE_ACTION, Resolved,
    Take, field_diff,
};
pub use console_sessions::ConsoleSession;
pub use cursors::{CursorRow, MAX_CURSOR_NAME, check_cursor_name};
pub use db::Store;
pub use guest_queries::GuestQueryLimits;
pub use intents::{IntentRow, MAX_INTENT_KEY, SyncStateRow};
pub use job_logs::{LOG_LEVELS, LogFilter, LogLevel, LogRecord, MAX_LOG_LINES};
pub use jobs::{
    Candidate, ClaimLoad, Completion, CursorWrite, Dependency, FailedTry, HeldBy, JobFilter,
    JobRow, JobState, LogLine, MAX_FREE_LOST_CLAIMS, NewJob, OutboxWrite, Outlook, Pin, PinPolicy,
    Recorded, RetryPattern, TRIGGERS, Trigger, merge_payloads,
};
pub use links::{LinkFilter, LinkRow, PairRow, SyncedAt};
pub use modules::{BackendInstance, InstalledModule, SubscriptionRow};
pub use outbox::{OutboxFilter, OutboxRow, TopicRow};
pub use overview::{MinuteCount, StateCount};
pub use pairs::{InstancePair, PairFilter, UNPAIR_ACTION};
pub use profiles::{PROFILE_CREATE, PROFILE_EDIT, PROFILE_REMOVE, PROFILE_RUN, ProfileRow};
pub use records::{FilterOp, RecordFilter, RecordRow};
pub use retention::{MAX_PRUNE_BATCH, Pruned};
pub use sources::{
    DeadLetterRow, Intake, IntakeOutcome, NewDeadLetter, NewSource, SourceRow, SourceStatusRow,
    StatusReport,
};
pub(crate) use sql::DbConn;
pub use sql::{DbRow, Dialect, now_ms, redact_url};
pub use steps::{
    ChunkCommit, Halt, LocalWrite, MAX_STEP_WARNINGS, RecordChange, StepRow, StepStatus,
    StepWarning,
};
pub use tokens::TokenRow;
pub use transmissions::{Transmission, TransmissionFilter};
pub use triggers::{CronOverride, CronRun, EventJob, timed_key};
