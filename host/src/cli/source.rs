//! `ferry source`: bind listeners of backend instances to brokers, see how
//! each source stands, pause, resume and remove them, and list and replay
//! the messages that did not become jobs. Every subcommand goes through the
//! admin operations, so it works with `--server` too. Sources run in
//! `ferry serve` and `ferry worker` (unless `--no-sources`).

use super::globals::Globals;
use super::output::Output;
use super::terminal::{Grid, time};
use anyhow::Result;
use clap::{Args, Subcommand};
use ferry::admin::{DeadLetterInfo, DeadLetterQuery, SourceAction};
use ferry::triggers::sources::{SourceKind, SourceSettings, SourceSpec, SourceView};

#[derive(Subcommand)]
pub(super) enum SourceCommand {
    /// Bind listener LISTENER of INSTANCE to a broker. A password never goes
    /// on the command line: store it with `ferry secret set INSTANCE NAME`
    /// and give `--password-secret NAME`.
    Add(Box<AddArgs>),
    /// Every source: its state on each node, lag, messages taken, dead
    /// letters, last error.
    List,
    /// Stop taking messages (the broker keeps them until `resume`).
    Pause {
        /// Backend instance.
        instance: String,
        /// Listener.
        listener: String,
    },
    /// Take messages again.
    Resume {
        /// Backend instance.
        instance: String,
        /// Listener.
        listener: String,
    },
    /// Remove a source, with its dead letters.
    Remove {
        /// Backend instance.
        instance: String,
        /// Listener.
        listener: String,
    },
    /// Messages that did not become jobs, newest first, with why; `--replay`
    /// tries them again as jobs.
    DeadLetters(DeadLetterArgs),
}

#[derive(Args)]
pub(super) struct AddArgs {
    /// Backend instance.
    instance: String,
    /// Listener its connector declares (`[[listener]]`).
    listener: String,
    /// Broker type: rabbitmq, nats, mqtt, redis or postgres.
    #[arg(long = "type", value_parser = parse_kind)]
    kind: SourceKind,
    /// Broker URL, without a password (amqp://user@host:5672/vhost,
    /// nats://host:4222, mqtt://host:1883, redis://host:6379/0, postgres://user@host/db).
    #[arg(long)]
    url: String,
    /// Secret of the instance holding the URL user's password.
    #[arg(long)]
    password_secret: Option<String>,
    /// rabbitmq: exchange to bind the queue to (declared when missing).
    #[arg(long)]
    exchange: Option<String>,
    /// rabbitmq: exchange type (direct, fanout, topic, headers; default topic).
    #[arg(long)]
    exchange_type: Option<String>,
    /// rabbitmq: binding key (`order.*`; default `#`).
    #[arg(long)]
    routing_key: Option<String>,
    /// rabbitmq: the queue (durable, declared when missing).
    #[arg(long)]
    queue: Option<String>,
    /// nats: subject filter (`orders.>`); mqtt: topic filter (`shop/orders/#`).
    #[arg(long)]
    subject: Option<String>,
    /// nats: JetStream stream; redis: stream key.
    #[arg(long)]
    stream: Option<String>,
    /// nats durable consumer, redis consumer group, mqtt client id
    /// (default ferry-INSTANCE-LISTENER).
    #[arg(long)]
    consumer: Option<String>,
    /// postgres: LISTEN channel.
    #[arg(long)]
    channel: Option<String>,
    /// postgres: table to drain.
    #[arg(long)]
    table: Option<String>,
    /// Messages stored per transaction (default 100).
    #[arg(long)]
    batch: Option<u32>,
    /// Stop taking messages while the instance has this many jobs waiting (default 10 000).
    #[arg(long)]
    max_pending: Option<i64>,
}

#[derive(Args)]
pub(super) struct DeadLetterArgs {
    /// Only this instance's source (with LISTENER).
    instance: Option<String>,
    /// Listener.
    #[arg(requires = "instance")]
    listener: Option<String>,
    /// Also those replayed already.
    #[arg(long)]
    all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Replay these dead letters (ids) as jobs.
    #[arg(long, num_args = 1.., value_name = "ID", conflicts_with = "replay_listed")]
    replay: Vec<i64>,
    /// Replay every dead letter listed (not yet replayed).
    #[arg(long)]
    replay_listed: bool,
}

fn parse_kind(text: &str) -> std::result::Result<SourceKind, String> {
    SourceKind::parse(text).map_err(|e| e.to_string())
}

fn show_sources(out: &Output, sources: &[SourceView]) -> Result<()> {
    let mut table = Grid::new(&[
        "source",
        "type",
        "state",
        "nodes",
        "lag",
        "received",
        "dead",
        "last message",
        "last error",
    ]);
    for s in sources {
        let sum = |f: fn(&ferry::store::SourceStatusRow) -> i64| s.nodes.iter().map(f).sum::<i64>();
        let lag = s.nodes.iter().filter_map(|n| n.lag).max();
        let last_error = s
            .nodes
            .iter()
            .filter_map(|n| Some((n.last_error_at?, n.last_error.clone()?)))
            .max();
        table.row([
            s.source.name(),
            s.source.kind.clone(),
            s.state.clone(),
            s.nodes
                .iter()
                .map(|n| format!("{}: {}", n.node, n.state))
                .collect::<Vec<_>>()
                .join("\n"),
            lag.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
            sum(|n| n.received).to_string(),
            s.dead_letters.to_string(),
            time(s.nodes.iter().filter_map(|n| n.last_message_at).max()),
            last_error
                .map(|(at, e)| format!("{} {e}", time(Some(at))))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    let human = if sources.is_empty() {
        "no sources (bind a listener with `ferry source add INSTANCE LISTENER --type … --url …`)"
            .to_string()
    } else {
        table.to_string()
    };
    out.value(&serde_json::to_value(sources)?, &human);
    Ok(())
}

fn show_dead_letters(out: &Output, rows: &[DeadLetterInfo]) -> Result<()> {
    let mut table = Grid::new(&[
        "id", "source", "message", "at", "size", "reason", "body", "replayed",
    ]);
    for d in rows {
        let preview: String = d.body_preview.chars().take(60).collect();
        table.row([
            d.id.to_string(),
            d.source.clone(),
            d.message_id.clone(),
            time(Some(d.created_at)),
            d.body_size.to_string(),
            d.reason.clone(),
            preview,
            d.replay_job_id
                .map(|j| format!("job {j}"))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    let human = if rows.is_empty() {
        "no dead letters".to_string()
    } else {
        table.to_string()
    };
    out.value(&serde_json::to_value(rows)?, &human);
    Ok(())
}

/// Run `ferry source`.
pub(super) async fn run(globals: &Globals, out: &Output, command: &SourceCommand) -> Result<()> {
    let actor = ferry::audit::CLI;
    let admin = globals.admin().await?;
    match command {
        SourceCommand::Add(a) => {
            let spec = SourceSpec {
                instance: a.instance.clone(),
                listener: a.listener.clone(),
                kind: a.kind,
                settings: SourceSettings {
                    url: a.url.clone(),
                    password_secret: a.password_secret.clone(),
                    exchange: a.exchange.clone(),
                    exchange_type: a.exchange_type.clone(),
                    routing_key: a.routing_key.clone(),
                    queue: a.queue.clone(),
                    subject: a.subject.clone(),
                    stream: a.stream.clone(),
                    consumer: a.consumer.clone(),
                    channel: a.channel.clone(),
                    table: a.table.clone(),
                    batch: a.batch,
                },
                max_pending: a.max_pending,
            };
            let row = admin.add_source(&spec, actor).await?;
            out.value(
                &serde_json::to_value(&row)?,
                &format!(
                    "source {} ({}) added: `ferry serve` and `ferry worker` consume it within a few seconds",
                    row.name(),
                    row.kind
                ),
            );
        }
        SourceCommand::List => show_sources(out, &admin.sources().await?)?,
        SourceCommand::Pause { instance, listener }
        | SourceCommand::Resume { instance, listener } => {
            let action = match command {
                SourceCommand::Pause { .. } => SourceAction::Pause,
                _ => SourceAction::Resume,
            };
            let row = admin
                .source_action(instance, listener, action, actor)
                .await?;
            let said = if row.paused { "paused" } else { "resumed" };
            out.value(
                &serde_json::to_value(&row)?,
                &format!("source {} {said}", row.name()),
            );
        }
        SourceCommand::Remove { instance, listener } => {
            admin.remove_source(instance, listener, actor).await?;
            out.value(
                &serde_json::json!({ "removed": format!("{instance}/{listener}") }),
                &format!("source {instance}/{listener} removed"),
            );
        }
        SourceCommand::DeadLetters(a) => {
            let query = DeadLetterQuery {
                instance: a.instance.clone(),
                listener: a.listener.clone(),
                replayed: a.all,
                limit: Some(a.limit),
            };
            let mut ids = a.replay.clone();
            if a.replay_listed {
                ids = admin
                    .dead_letters(&query)
                    .await?
                    .into_iter()
                    .filter(|d| d.replayed_at.is_none())
                    .map(|d| d.id)
                    .collect();
            }
            if ids.is_empty() {
                return show_dead_letters(out, &admin.dead_letters(&query).await?);
            }
            // Each replay stands alone: one still refused does not stop the others.
            let mut replayed = Vec::new();
            let mut refused = Vec::new();
            for id in ids {
                match admin.replay_dead_letter(id, actor).await {
                    Ok(r) => replayed.push(r),
                    Err(e) => refused.push((id, e.to_string())),
                }
            }
            let mut human: Vec<String> = replayed
                .iter()
                .map(|r| format!("dead letter {} → job {}", r.dead_letter, r.job))
                .collect();
            human.extend(
                refused
                    .iter()
                    .map(|(id, e)| format!("dead letter {id}: {e}")),
            );
            out.value(
                &serde_json::json!({
                    "replayed": replayed,
                    "refused": refused.iter().map(|(id, e)| serde_json::json!({"id": id, "error": e})).collect::<Vec<_>>(),
                }),
                &human.join("\n"),
            );
            if !refused.is_empty() {
                let reasons: Vec<String> = refused
                    .iter()
                    .map(|(id, e)| format!("dead letter {id}: {e}"))
                    .collect();
                anyhow::bail!(
                    "{} of the dead letters were refused again:\n{}",
                    refused.len(),
                    reasons.join("\n")
                );
            }
        }
    }
    Ok(())
}
