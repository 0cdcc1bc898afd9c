//! What started a job: the operator's first question about it ("did cron do
//! this, or someone?"), and a filter of the console, `ferry jobs` and `ferry logs`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What started a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A cron schedule of a backend instance.
    Cron,
    /// A webhook call (a guest handling a webhook enqueued it).
    Webhook,
    /// A button pressed (CLI `ferry trigger`, API or console).
    Button,
    /// A local record event a connector subscribes to.
    Event,
    /// A caller of the admin API (a profile run, a conflict resolved…).
    Api,
    /// The command line (`ferry run`, a profile run, the demo…).
    #[default]
    Cli,
    /// Another job: its guest enqueued it (`jobs.enqueue`).
    Job,
    /// A message of a broker source (`ferry source`): RabbitMQ, NATS, MQTT,
    /// a Redis stream or PostgreSQL.
    Source,
}

/// Every trigger, in the order the console lists them.
pub const TRIGGERS: [Trigger; 8] = [
    Trigger::Cron,
    Trigger::Webhook,
    Trigger::Button,
    Trigger::Event,
    Trigger::Api,
    Trigger::Cli,
    Trigger::Job,
    Trigger::Source,
];

impl Trigger {
    /// The name stored in the database and shown to operators.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Cron => "cron",
            Trigger::Webhook => "webhook",
            Trigger::Button => "button",
            Trigger::Event => "event",
            Trigger::Api => "api",
            Trigger::Cli => "cli",
            Trigger::Job => "job",
            Trigger::Source => "source",
        }
    }

    /// Parse a name; an unknown one is refused with the list of known ones.
    pub fn parse(s: &str) -> Result<Self> {
        TRIGGERS
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown trigger `{s}` (cron, webhook, button, event, api, cli, job, source)"
                ))
            })
    }

    /// The trigger of an operation done by `actor` as the audit log names
    /// actors ([`crate::audit`]): `api:TOKEN` is the API, `cron` is cron,
    /// anything else the command line.
    pub fn of_actor(actor: &str) -> Self {
        if actor.starts_with("api:") {
            Trigger::Api
        } else if actor == "cron" {
            Trigger::Cron
        } else {
            Trigger::Cli
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Trigger {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Trigger::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_parses_back_and_an_unknown_one_lists_them() {
        for t in TRIGGERS {
            assert_eq!(Trigger::parse(t.as_str()).unwrap(), t);
        }
        let e = Trigger::parse("cronn").unwrap_err().to_string();
        assert!(
            e.contains("unknown trigger `cronn`") && e.contains("webhook"),
            "{e}"
        );
        assert_eq!(Trigger::of_actor("api:ops"), Trigger::Api);
        assert_eq!(Trigger::of_actor("cli"), Trigger::Cli);
    }
}
