//! Ferry's integration tests: real components against the shop simulator,
//! real databases (SQLite, and PostgreSQL with `FERRY_TEST_DATABASE`) and the
//! real `ferry` binary. One binary, one module per subject.

mod admin_api;
mod admin_console_ops;
mod cassettes;
mod cli;
mod cli_output;
mod conflicts;
mod console;
mod console_fixture;
mod cron;
mod data_dir;
mod database;
mod declarative;
mod events;
mod export;
mod import;
mod install_lint;
mod languages;
mod limits;
mod logs;
mod metrics;
mod mirror;
mod new_connector;
mod openapi;
mod pairs;
mod profiles;
mod queue;
mod refusals;
mod retention;
mod roles;
mod sandbox;
mod scheduling;
mod secrets;
mod shop_batch;
mod sources;
mod steps;
mod steps_run;
mod stores;
mod sync_state;
mod telemetry;
mod topics;
mod triggers;
mod two_way;
mod webhooks;
mod workers;
