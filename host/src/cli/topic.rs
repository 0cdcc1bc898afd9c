//! `ferry topic`: where the topics guests publish go (a broker per pattern
//! of topics, per instance), and `ferry outbox`: the messages guests
//! published, sent or waiting for the relay. Both go through the admin
//! operations, so they work with `--server` too. The relay runs in `ferry
//! serve` and `ferry worker` (unless `--no-relay`).

use super::globals::Globals;
use super::output::Output;
use super::terminal::{Grid, time};
use anyhow::Result;
use clap::{Args, Subcommand};
use ferry::admin::OutboxQuery;
use ferry::relay::{DestinationSettings, TopicSpec};

#[derive(Subcommand)]
pub(super) enum TopicCommand {
    /// Send INSTANCE's topics matching PATTERN (`order.*`, `order.>`, `>`)
    /// to a broker. A password never goes on the command line: store it
    /// with `ferry secret set INSTANCE NAME` and give `--password-secret NAME`.
    Set(TopicArgs),
    /// Where each instance's topics go.
    List {
        /// Only this instance's.
        instance: Option<String>,
    },
    /// Stop sending INSTANCE's topics matching PATTERN (messages wait in the outbox).
    Remove {
        /// Backend instance.
        instance: String,
        /// The pattern as set.
        pattern: String,
    },
}

#[derive(Args)]
pub(super) struct TopicArgs {
    /// Backend instance.
    instance: String,
    /// Pattern of topics: `*` one segment, `>` the rest.
    pattern: String,
    /// Broker type: nats, rabbitmq, redis or mqtt.
    #[arg(long = "type")]
    kind: String,
    /// Broker URL, without a password.
    #[arg(long)]
    url: String,
    /// Secret of the instance holding the URL user's password.
    #[arg(long)]
    password_secret: Option<String>,
    /// rabbitmq: the exchange to publish to (default: the default exchange).
    #[arg(long)]
    exchange: Option<String>,
    /// nats: the JetStream stream covering the topics (publishes are acknowledged);
    /// redis: the stream key (default: the topic).
    #[arg(long)]
    stream: Option<String>,
}

/// `ferry outbox`.
#[derive(Args)]
pub(super) struct OutboxArgs {
    /// Only this instance's messages.
    instance: Option<String>,
    /// Only those not sent yet.
    #[arg(long)]
    unsent: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// Run `ferry topic`.
pub(super) async fn run(globals: &Globals, out: &Output, command: &TopicCommand) -> Result<()> {
    let actor = ferry::audit::CLI;
    let admin = globals.admin().await?;
    match command {
        TopicCommand::Set(a) => {
            let spec = TopicSpec {
                instance: a.instance.clone(),
                topic: a.pattern.clone(),
                kind: a.kind.clone(),
                settings: DestinationSettings {
                    url: a.url.clone(),
                    password_secret: a.password_secret.clone(),
                    exchange: a.exchange.clone(),
                    stream: a.stream.clone(),
                },
            };
            let row = admin.set_topic(&spec, actor).await?;
            out.value(
                &serde_json::to_value(&row)?,
                &format!(
                    "topics `{}` of `{}` go to {}: the relay sends what waits within a second",
                    row.topic, row.instance, row.kind
                ),
            );
        }
        TopicCommand::List { instance } => {
            let rows = admin.topics(instance.as_deref()).await?;
            let mut table = Grid::new(&["instance", "topics", "type", "settings", "set"]);
            for t in &rows {
                table.row([
                    t.instance.clone(),
                    t.topic.clone(),
                    t.kind.clone(),
                    serde_json::Value::Object(t.config.clone()).to_string(),
                    time(Some(t.updated_at)),
                ]);
            }
            let human = if rows.is_empty() {
                "no topic is set: `ferry topic set INSTANCE PATTERN --type nats --url nats://…`"
                    .to_string()
            } else {
                table.to_string()
            };
            out.value(&serde_json::to_value(&rows)?, &human);
        }
        TopicCommand::Remove { instance, pattern } => {
            let done = admin.remove_topic(instance, pattern, actor).await?;
            out.value(
                &serde_json::to_value(done)?,
                &format!("topics `{pattern}` of `{instance}` are no longer sent"),
            );
        }
    }
    Ok(())
}

/// Run `ferry outbox`.
pub(super) async fn outbox(globals: &Globals, out: &Output, args: &OutboxArgs) -> Result<()> {
    let admin = globals.admin().await?;
    let rows = admin
        .outbox(&OutboxQuery {
            instance: args.instance.clone(),
            unsent: args.unsent,
            limit: Some(args.limit),
        })
        .await?;
    let mut table = Grid::new(&[
        "id",
        "instance",
        "topic",
        "key",
        "job",
        "written",
        "sent",
        "tries",
        "last error",
    ]);
    for m in &rows {
        table.row([
            m.id.to_string(),
            m.instance.clone(),
            m.topic.clone(),
            m.key.clone(),
            m.job_id
                .map(|j| j.to_string())
                .unwrap_or_else(|| "-".into()),
            time(Some(m.created_at)),
            time(m.sent_at),
            m.attempts.to_string(),
            m.last_error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let human = if rows.is_empty() {
        "the outbox is empty".to_string()
    } else {
        table.to_string()
    };
    out.value(&serde_json::to_value(&rows)?, &human);
    Ok(())
}
