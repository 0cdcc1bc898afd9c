//! Ferry's integration tests: real components against the shop simulator,
//! real databases (SQLite, and PostgreSQL with `FERRY_TEST_DATABASE`) and the
//! real `ferry` binary. One binary, one module per subject.

mod admin_api;
mod cli;
mod cli_output;
mod conflicts;
mod cron;
mod data_dir;
mod database;
mod events;
mod export;
mod import;
mod limits;
mod metrics;
mod mirror;
mod pairs;
mod profiles;
mod queue;
mod refusals;
mod roles;
mod sandbox;
mod scheduling;
mod secrets;
mod shop_batch;
mod steps;
mod steps_run;
mod sync_state;
mod telemetry;
mod triggers;
mod two_way;
mod webhooks;
mod workers;
