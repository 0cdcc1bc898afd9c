//! `ferry conflicts list|show|resolve|policy`: records changed on both sides
//! since their last sync, as connectors reported them, and the policy per
//! backend instance and model that tells connectors how to decide them. On the
//! local installation or, with `--server URL`, on a running `ferry serve`
//! (viewers list and show; managers resolve and set policies).

use super::args::json_arg;
use super::globals::Globals;
use super::output::Output;
use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};
use ferry::audit;
use ferry::store::{ConflictFilter, ConflictPolicy, ConflictState, Take};
use serde_json::Value;

#[derive(Subcommand)]
pub(super) enum ConflictsCommand {
    /// Open conflicts, newest first: id, instance, model, local and external
    /// id, the fields in conflict, age.
    List {
        /// Only this backend instance.
        #[arg(long)]
        instance: Option<String>,
        /// Only this model.
        #[arg(long)]
        model: Option<String>,
        /// Resolved ones too.
        #[arg(long)]
        all: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One conflict: both versions and the fields that differ.
    Show {
        /// Conflict id.
        id: i64,
    },
    /// Resolve a conflict: enqueue the job that applies the side taken.
    Resolve {
        /// Conflict id.
        id: i64,
        /// Which version wins; `merge` writes --values into the local record
        /// (no events fire) and sends the result out as `local` does.
        #[arg(long, value_enum)]
        take: TakeArg,
        /// With `--take merge`: the values to keep, a JSON object of fields
        /// (`@FILE` reads it from a file, `-` from standard input).
        #[arg(long)]
        values: Option<String>,
    },
    /// Show the conflict policies of a backend instance, of one model, or set
    /// one (remote-wins, local-wins, newest-wins, manual; unset: manual).
    Policy {
        /// Backend instance.
        instance: String,
        /// Model.
        model: Option<String>,
        /// The policy to set.
        policy: Option<String>,
    },
}

/// The side `--take` names.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum TakeArg {
    /// The local record.
    Local,
    /// The external record.
    Remote,
    /// Values of both, given with --values.
    Merge,
}

fn take(arg: TakeArg, values: Option<&str>) -> Result<Take> {
    Ok(match (arg, values) {
        (TakeArg::Local, None) => Take::Local,
        (TakeArg::Remote, None) => Take::Remote,
        (TakeArg::Merge, Some(values)) => match json_arg(values, "--values")? {
            Value::Object(values) => Take::Merge(values),
            other => bail!("--values: expected a JSON object of field values, got {other}"),
        },
        (TakeArg::Merge, None) => {
            bail!("--take merge needs --values '{{\"FIELD\": VALUE, …}}': the values to keep")
        }
        (_, Some(_)) => bail!("--values goes with --take merge only"),
    })
}

pub(super) async fn run(globals: &Globals, out: &Output, command: &ConflictsCommand) -> Result<()> {
    let admin = globals.admin().await?;
    match command {
        ConflictsCommand::List {
            instance,
            model,
            all,
            limit,
        } => {
            let filter = ConflictFilter {
                instance: instance.clone(),
                model: model.clone(),
                state: (!all).then_some(ConflictState::Open),
                limit: *limit,
                offset: 0,
            };
            out.conflicts(&admin.conflicts(&filter).await?, *all);
        }
        ConflictsCommand::Show { id } => out.conflict(&admin.conflict(*id).await?),
        ConflictsCommand::Resolve {
            id,
            take: arg,
            values,
        } => {
            let take = take(*arg, values.as_deref())?;
            out.resolved(&admin.resolve_conflict(*id, &take, audit::CLI).await?);
        }
        ConflictsCommand::Policy {
            instance,
            model: None,
            ..
        } => out.policies(instance, &admin.conflict_policies(instance).await?),
        ConflictsCommand::Policy {
            instance,
            model: Some(model),
            policy: None,
        } => out.policy(&admin.conflict_policy(instance, model).await?, false),
        ConflictsCommand::Policy {
            instance,
            model: Some(model),
            policy: Some(policy),
        } => {
            let policy = ConflictPolicy::parse(policy)?;
            let row = admin
                .set_conflict_policy(instance, model, policy, audit::CLI)
                .await?;
            out.policy(&row, true);
        }
    }
    Ok(())
}
