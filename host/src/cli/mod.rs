//! The `ferry` command line: one subcommand per operation, each a thin layer
//! over the library (the same functions the demo and the tests call).

mod args;
mod conflicts;
mod cron;
mod cursors;
mod demo;
mod globals;
mod install;
mod jobs;
mod links;
mod logging;
mod logs;
mod output;
mod profile;
mod secret;
mod serve;
mod source;
mod store;
mod telemetry;
mod terminal;
mod test;
mod token;
mod topic;
mod trigger;
mod worker;

use anyhow::Result;
use args::json_arg;
use clap::{Args, Parser, Subcommand};
use ferry::admin::{Admin, NewInstance};
use ferry::queue::WorkerConfig;
use ferry::store::{NewJob, PinPolicy, RetryPattern};
use globals::Globals;
use output::Output;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Ferry runs data connectors as sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "ferry", version, about)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

/// `ferry new`.
#[derive(clap::Args)]
struct NewArgs {
    /// Module name (also the crate's, and its root backend's by default).
    name: String,
    /// Template: minimal or rest.
    #[arg(long, default_value = "minimal")]
    template: String,
    /// Language of the sources: rust, python (py) or javascript (js).
    #[arg(long, default_value = "rust")]
    lang: ferry_manifest::Language,
    /// Where to make it (default: ./NAME).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The backend it implements, e.g. `shop@2.0` (default: NAME).
    #[arg(long)]
    backend: Option<String>,
    /// The backend it falls back to for what it does not implement, e.g. `shop@1.7`.
    #[arg(long)]
    parent: Option<String>,
    /// A `guest-sdk` directory to depend on (default: this Ferry's source
    /// tree, when it is there; else the published `ferry-sdk`).
    #[arg(long)]
    sdk_path: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Make a connector that builds, installs and passes its tests at once:
    /// `--template minimal` (one job) or `rest` (products with a REST API, on
    /// the SDK's generic importer and exporter), `--lang rust|python|js`.
    New(NewArgs),
    /// Compile a connector crate to a wasm32-wasip2 component and check it.
    Build(install::BuildArgs),
    /// Install (or replace) a connector module; `--canary` first shows what
    /// the new version does differently on recorded traffic.
    Install(install::InstallArgs),
    /// Run a connector's scenarios offline on their recorded traffic
    /// (cassettes), or record them against the live API (`--record`).
    Test(test::TestArgs),
    /// List installed connector modules.
    Connectors,
    /// Backend instances: configured connections to external systems.
    #[command(subcommand)]
    Backend(BackendCommand),
    /// Enqueue a job for a backend instance.
    Run(RunArgs),
    /// Job profiles: a job of an instance with saved, checked parameters,
    /// run by name: create, list, show, edit, remove, run.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Run jobs.
    Worker(worker::WorkerArgs),
    /// Cron schedules of the backend instances: list them, change or switch one off.
    #[command(subcommand)]
    Cron(cron::CronCommand),
    /// Broker sources: bind a listener to RabbitMQ, NATS, MQTT, a Redis
    /// stream or PostgreSQL; list, pause, resume, remove; dead letters.
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// Where the topics guests publish go (a broker per pattern, per
    /// instance): set, list, remove.
    #[command(subcommand)]
    Topic(topic::TopicCommand),
    /// Messages guests published: sent, or waiting for the relay (--unsent).
    Outbox(topic::OutboxArgs),
    /// Where an instance's `meta` (key-value: local or Redis) and `blobs`
    /// (object data: a directory) stores are: set, list, remove.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Cursors of a backend instance (how far its jobs read each stream): list, set, clear.
    #[command(subcommand)]
    Cursors(cursors::CursorsCommand),
    /// Jobs: list them (the default), show one with its log, requeue, cancel, stop.
    Jobs(jobs::JobsArgs),
    /// Serve webhooks and the admin API over HTTP, and run jobs.
    Serve(serve::ServeArgs),
    /// Press a button of a backend instance: enqueue its job with data.
    Trigger(trigger::TriggerArgs),
    /// Local records of a model; or change one (as a person would: events fire).
    Records {
        /// Model name, e.g. product.
        model: String,
        /// Set these values (JSON object; `@FILE` reads it from a file, `-` from
        /// standard input) on record --id.
        #[arg(long, requires = "id")]
        set: Option<String>,
        /// The record to show or change.
        #[arg(long)]
        id: Option<i64>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Links between local and external records; with --pairs, couples of
    /// external ids; `unpair` removes a couple.
    #[command(args_conflicts_with_subcommands = true)]
    Links {
        /// Only this backend instance.
        #[arg(long)]
        instance: Option<String>,
        /// Only this model.
        #[arg(long, conflicts_with = "pairs")]
        model: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Couples of external ids (label, left, right) instead of links.
        #[arg(long)]
        pairs: bool,
        /// With --pairs: only this label.
        #[arg(long, requires = "pairs")]
        label: Option<String>,
        /// With --pairs: the couple where this id is on either side.
        #[arg(long, requires = "pairs")]
        id: Option<String>,
        #[command(subcommand)]
        command: Option<links::LinksCommand>,
    },
    /// Conflicts reported by connectors (a record changed on both sides):
    /// list, show, resolve; and the policies that decide them.
    #[command(subcommand)]
    Conflicts(conflicts::ConflictsCommand),
    /// Records flagged for review; clear them.
    Checkpoints {
        /// Clear this checkpoint.
        #[arg(long)]
        clear: Option<i64>,
        /// Clear them all.
        #[arg(long, conflicts_with = "clear")]
        clear_all: bool,
    },
    /// Logs: the lines jobs wrote, across jobs, newest first (`--follow` for
    /// new ones); `--transmissions` lists guests' outbound HTTP requests, sent
    /// and refused; `--audit` lists secrets revealed, set and removed.
    Logs(logs::LogsArgs),
    /// Secrets of backend instances: set (value from stdin), list names, remove.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// API tokens of the admin API, with roles: create (shown once), list, revoke.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Build the example connectors, start the shop simulator and sync through shop@2.0.
    Demo {
        /// Products in the simulated shop.
        #[arg(long, default_value_t = 200)]
        products: u64,
    },
}

#[derive(Subcommand)]
enum BackendCommand {
    /// Add a backend instance.
    Add {
        /// Instance name, e.g. acme.
        name: String,
        /// Backend key, e.g. shop@2.0.
        backend: String,
        /// Params as KEY=VALUE (repeat).
        #[arg(long = "param", value_parser = args::parse_param)]
        params: Vec<(String, String)>,
    },
    /// List backend instances.
    List,
    /// Remove a backend instance.
    Remove {
        /// Instance name.
        name: String,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Backend instance.
    instance: String,
    /// Job name.
    job: String,
    /// Payload (JSON); `@FILE` reads it from a file, `-` from standard input.
    #[arg(long, default_value = "{}")]
    payload: String,
    /// Priority (lower runs first).
    #[arg(long, default_value_t = 10)]
    priority: i64,
    /// Identity key: no second pending or enqueued job with the same key.
    #[arg(long)]
    identity_key: Option<String>,
    /// Channel, e.g. root.shop (capacities: `ferry worker --channels`).
    #[arg(long, default_value = "root")]
    channel: String,
    /// Tries after the first failure.
    #[arg(long, default_value_t = 5)]
    retries: i64,
    /// Delays between tries from try N on, e.g. `1:10s,5:1m,10:10m`.
    #[arg(long)]
    retry_pattern: Option<String>,
    /// Not before this long from now, e.g. 10m.
    #[arg(long, value_parser = args::parse_age)]
    delay: Option<std::time::Duration>,
    /// Wait for this job to be done first (repeatable).
    #[arg(long = "after")]
    after: Vec<i64>,
    /// Wait for every job of this group to be done first (repeatable).
    #[arg(long = "after-group")]
    after_groups: Vec<String>,
    /// Put the job in this group.
    #[arg(long)]
    group: Option<String>,
    /// If the connector is upgraded before it runs: keep (run on the version it
    /// was enqueued for), migrate (run on the new one) or fail.
    #[arg(long, default_value = "keep")]
    pin_policy: String,
    /// Run the queue until idle right away.
    #[arg(long)]
    wait: bool,
}

/// Entry point: run the command, print errors with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let traces = logging::init(cli.globals.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_text(&err));
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    // The last spans (the jobs that just ended) go out before the process does.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    code
}

/// An error and its causes for the terminal: they may quote guest text (a
/// name a module declared, a guest's error), so control characters are
/// escaped; lines after the first are indented under `error: `.
fn error_text(err: &anyhow::Error) -> String {
    terminal::block(&format!("{err:#}")).replace('\n', "\n       ")
}

async fn run(cli: Cli) -> Result<()> {
    let out = Output::new(cli.globals.json);
    let globals = &cli.globals;
    match &cli.command {
        Command::New(args) => {
            let dir = args
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(&args.name));
            let spec = ferry::scaffold::NewConnector {
                name: args.name.clone(),
                template: args.template.clone(),
                language: args.lang,
                backend: args.backend.clone(),
                parent: args.parent.clone(),
                sdk_path: args.sdk_path.clone(),
            };
            let files = ferry::scaffold::create(&dir, &spec)?;
            out.value(
                &serde_json::json!({ "dir": dir, "files": files }),
                &format!(
                    "made {} ({} template, {}): {} files\n  next: cd {} && {} && ferry install .",
                    dir.display(),
                    args.template,
                    args.lang,
                    files.len(),
                    dir.display(),
                    ferry::scaffold::test_command(args.lang),
                ),
            );
        }
        Command::Build(args) => install::build(&out, args).await?,
        Command::Install(args) => install::install(globals, &out, args).await?,
        Command::Test(args) => test::run(globals, &out, args).await?,
        Command::Connectors => out.connectors(&globals.open().await?.registry()),
        Command::Backend(cmd) => {
            let admin = globals.admin().await?;
            match cmd {
                BackendCommand::Add {
                    name,
                    backend,
                    params,
                } => {
                    let params: Map<String, Value> = params
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                        .collect();
                    let new = NewInstance {
                        name: name.clone(),
                        backend: backend.clone(),
                        params,
                    };
                    out.instances(&[admin.add_instance(&new).await?]);
                }
                BackendCommand::List => out.instances(&admin.instances().await?),
                BackendCommand::Remove { name } => {
                    admin.remove_instance(name).await?;
                    out.message(&format!("removed backend instance `{name}`"));
                }
            }
        }
        Command::Run(args) => {
            let ferry = globals.open().await?;
            let mut job = NewJob::new(
                &args.instance,
                &args.job,
                &json_arg(&args.payload, "--payload")?,
            );
            job.priority = args.priority;
            job.identity_key = args.identity_key.clone();
            job.channel = args.channel.clone();
            job.max_retries = args.retries;
            job.retry_pattern = args
                .retry_pattern
                .as_deref()
                .map(RetryPattern::parse)
                .transpose()?;
            job.eta = args
                .delay
                .map(|d| ferry::store::now_ms() + d.as_millis() as i64);
            job.depends_on = args.after.clone();
            job.after_groups = args.after_groups.clone();
            job.group = args.group.clone();
            job.pin_policy = PinPolicy::parse(&args.pin_policy)?;
            let id = ferry.enqueue(&job).await?;
            out.message(&format!("enqueued job {id}"));
            if args.wait {
                worker::work(
                    &ferry,
                    &out,
                    WorkerConfig {
                        until_idle: true,
                        ..Default::default()
                    },
                )
                .await?;
                out.job(&Admin::Local(ferry.clone()).job(id).await?);
            }
        }
        Command::Worker(args) => {
            let ferry = globals.open().await?;
            let config = args.config()?;
            worker::stop_on_signal(&config);
            let which = ferry::triggers::background::Background {
                cron: !args.no_cron,
                sources: !args.no_sources,
                relay: !args.no_relay,
            };
            worker::work_with_triggers(&ferry, &out, config, &args.pool, which).await?;
        }
        Command::Jobs(args) => jobs::run(globals, &out, args).await?,
        Command::Profile(command) => profile::run(globals, &out, command).await?,
        Command::Serve(args) => serve::run(globals, &out, args).await?,
        Command::Trigger(args) => trigger::run(globals, &out, args).await?,
        Command::Cron(command) => cron::run(globals, &out, command).await?,
        Command::Source(command) => source::run(globals, &out, command).await?,
        Command::Topic(command) => topic::run(globals, &out, command).await?,
        Command::Outbox(args) => topic::outbox(globals, &out, args).await?,
        Command::Store(command) => store::run(globals, &out, command).await?,
        Command::Records {
            model,
            set: Some(values),
            id: Some(id),
            ..
        } => {
            let ferry = globals.open().await?;
            let changed = ferry
                .write_record(model, *id, json_arg(values, "--set")?, "cli")
                .await?;
            out.message(&format!(
                "{model} {id}: changed {}",
                if changed.is_empty() {
                    "nothing".into()
                } else {
                    changed.join(", ")
                }
            ));
        }
        Command::Records {
            model, id, limit, ..
        } => {
            let ferry = globals.open().await?;
            let store = ferry.store();
            match id {
                Some(id) => {
                    let row = store.read_record(model, *id).await?;
                    out.records(model, &[row], None, &[]);
                }
                None => {
                    let rows = store.search_records(model, &[], Some(*limit), 0).await?;
                    let total = store.count_records(model).await?;
                    let others = match total {
                        0 => store.record_models().await?,
                        _ => Vec::new(),
                    };
                    out.records(model, &rows, Some(total), &others);
                }
            }
        }
        Command::Links {
            command: Some(command),
            ..
        } => links::run(globals, &out, command).await?,
        Command::Links {
            instance,
            limit,
            pairs: true,
            label,
            id,
            ..
        } => {
            let filter = ferry::store::PairFilter {
                instance: instance.clone(),
                label: label.clone(),
                id: id.clone(),
                limit: *limit,
                offset: 0,
            };
            links::pairs(globals, &out, &filter).await?;
        }
        Command::Conflicts(command) => conflicts::run(globals, &out, command).await?,
        Command::Links {
            instance,
            model,
            limit,
            ..
        } => {
            let filter = ferry::store::LinkFilter {
                instance: instance.clone(),
                model: model.clone(),
                limit: *limit,
                ..Default::default()
            };
            out.links(&globals.admin().await?.links(&filter).await?);
        }
        Command::Checkpoints { clear, clear_all } => {
            let admin = globals.admin().await?;
            if *clear_all || clear.is_some() {
                let n = admin.clear_checkpoints(*clear).await?.cleared;
                out.message(&format!("cleared {n} checkpoint(s)"));
            } else {
                out.checkpoints(&admin.checkpoints().await?);
            }
        }
        Command::Logs(args) => logs::run(globals, &out, args).await?,
        Command::Cursors(command) => cursors::run(&globals.admin().await?, &out, command).await?,
        Command::Secret(command) => secret::run(&globals.admin().await?, &out, command).await?,
        Command::Token(command) => token::run(&globals.admin().await?, &out, command).await?,
        Command::Demo { products } => demo::run(&globals.data_dir, *products, &out).await?,
    }
    Ok(())
}
