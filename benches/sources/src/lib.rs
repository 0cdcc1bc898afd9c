//! Broker sources, end to end: messages per second from a broker of this
//! machine to jobs stored by Ferry (one transaction per batch, acknowledged
//! after the commit), and to no-op Wasm jobs run (the `hostile` connector's
//! `ok`) by a worker of the same process.
//!
//! Each run: a fresh installation (SQLite in a temporary directory, or a
//! PostgreSQL schema), the `hostile` connector with its `messages` listener
//! bound to a new queue, stream, topic or table of the type; the source
//! started and connected (an MQTT broker keeps messages only for a session
//! that subscribed); then `N` messages published as fast as the test
//! publisher goes, timed from the first publish to the `N`th job stored
//! (or done). The publisher runs in the same process, so the figure is the
//! pipeline's, broker included.
//!
//! `cargo bench -p ferry-sources-bench` (`FERRY_BENCH_MESSAGES`, default
//! 10 000; `FERRY_BENCH_TYPES=rabbitmq,nats` for some types only). Ferry's
//! own store is SQLite here; the queue benchmark compares the databases.

use anyhow::Context as _;
use ferry::builder::Built;
use ferry::queue::WorkerConfig;
use ferry::store::JobState;
use ferry::triggers::sources::{SourceKind, SourceSettings, SourceSpec, SourcesConfig, manage};
use ferry::{Ferry, FerryOptions};
use ferry_tests::brokers::{Outgoing, create_source_table, publish};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The PostgreSQL database a `postgres` source drains its table from.
pub const SOURCE_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Messages an MQTT run publishes before waiting for the source to catch up
/// (see Mosquitto's `max_queued_messages`).
const MQTT_CHUNK: usize = 500;

/// Jobs stored so far, whatever their state.
async fn stored(store: &ferry::store::Store) -> anyhow::Result<usize> {
    let mut total = 0;
    for state in [
        JobState::Pending,
        JobState::Enqueued,
        JobState::Started,
        JobState::Done,
    ] {
        total += store.count_jobs(state).await? as usize;
    }
    Ok(total)
}

/// What is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Until every message is a stored job (no worker runs).
    Stored,
    /// Until every message's job ran (a no-op Wasm job) and is done.
    Run,
}

impl Mode {
    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Stored => "stored",
            Mode::Run => "run",
        }
    }
}

/// Build the `hostile` example connector (once per benchmark run).
pub fn build_connector() -> anyhow::Result<Built> {
    ferry::demo::build_example("hostile").context("building the hostile example connector")
}

/// Settings of a source of `kind` on new names, and the subject to publish on.
pub async fn settings_for(kind: SourceKind, tag: &str) -> anyhow::Result<(SourceSettings, String)> {
    let name = format!("bench_{tag}_{}", std::process::id());
    let mut settings = SourceSettings {
        batch: Some(500),
        ..Default::default()
    };
    let subject = match kind {
        SourceKind::Rabbitmq => {
            settings.url = "amqp://guest@127.0.0.1:5672/%2f".into();
            settings.queue = Some(name.clone());
            name.clone()
        }
        SourceKind::Nats => {
            settings.url = "nats://127.0.0.1:4222".into();
            settings.subject = Some(format!("{name}.messages"));
            settings.stream = Some(name.to_uppercase());
            format!("{name}.messages")
        }
        SourceKind::Mqtt => {
            settings.url = "mqtt://127.0.0.1:1883".into();
            settings.subject = Some(format!("{name}/messages"));
            format!("{name}/messages")
        }
        SourceKind::Redis => {
            settings.url = "redis://127.0.0.1:6379/0".into();
            settings.stream = Some(name.clone());
            name.clone()
        }
        SourceKind::Postgres => {
            settings.url = SOURCE_DATABASE.into();
            settings.table = Some(name.clone());
            settings.channel = Some(name.clone());
            create_source_table(SOURCE_DATABASE, &name).await?;
            name.clone()
        }
    };
    Ok((settings, subject))
}

/// One timed run: `messages` messages of `kind` to `mode`, on a fresh
/// installation.
pub async fn run(
    built: &Built,
    kind: SourceKind,
    messages: usize,
    mode: Mode,
    tag: &str,
) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let ferry = Ferry::open_with(FerryOptions::new(dir.path())).await?;
    ferry.install(&built.manifest, &built.wasm).await?;
    ferry
        .add_instance("lab", "hostile", Default::default())
        .await?;
    let (settings, subject) = settings_for(kind, tag).await?;
    manage::add(
        ferry.store(),
        ferry.modules(),
        &SourceSpec {
            instance: "lab".into(),
            listener: "messages".into(),
            kind,
            settings: settings.clone(),
            max_pending: Some(messages as i64 * 2),
        },
        "bench",
    )
    .await?;
    let stop = CancellationToken::new();
    let sources = tokio::spawn(ferry::triggers::sources::run(
        SourcesConfig {
            store: ferry.store().clone(),
            modules: ferry.modules().clone(),
            key_file: ferry.engine().config().secret_key_file.clone(),
            node: ferry::queue::node_name(None),
        },
        stop.clone(),
    ));
    wait_connected(&ferry).await?;
    let worker = (mode == Mode::Run).then(|| {
        let ferry = ferry.clone();
        let config = WorkerConfig {
            concurrency: 4,
            shutdown: stop.clone(),
            ..WorkerConfig::default()
        };
        tokio::spawn(async move { ferry.run_worker(&config, |_| {}).await })
    });
    let outgoing: Vec<Outgoing> = (0..messages)
        .map(|n| Outgoing::body(format!(r#"{{"n": {n}}}"#)))
        .collect();
    let started = Instant::now();
    let counter = ferry.store().clone();
    let publisher = tokio::spawn(async move {
        if kind != SourceKind::Mqtt {
            return publish(kind, &settings, &subject, &outgoing).await;
        }
        // Mosquitto holds at most 1 000 QoS 1 messages per client beyond
        // those in flight (`max_queued_messages`) and drops the rest, even
        // for a connected client: publish in chunks that fit.
        for (i, chunk) in outgoing.chunks(MQTT_CHUNK).enumerate() {
            while stored(&counter).await? + MQTT_CHUNK < (i + 1) * MQTT_CHUNK {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            publish(kind, &settings, &subject, chunk).await?;
        }
        Ok(())
    });
    let state = match mode {
        Mode::Stored => JobState::Pending,
        Mode::Run => JobState::Done,
    };
    loop {
        if ferry.store().count_jobs(state).await? as usize >= messages {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "{kind}: fewer than {messages} jobs {} after 10 minutes",
            mode.label()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    publisher.await??;
    stop.cancel();
    let _ = sources.await;
    if let Some(worker) = worker {
        worker.await??;
    }
    let stored = ferry.store().count_jobs(state).await? as usize;
    anyhow::ensure!(
        stored == messages,
        "{kind}: {stored} jobs for {messages} messages"
    );
    Ok(took)
}

/// Wait until the only source reports itself connected.
async fn wait_connected(ferry: &Ferry) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let statuses = ferry.store().source_statuses().await?;
        if statuses.iter().any(|s| s.state == "connected") {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("the source did not connect: {statuses:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
