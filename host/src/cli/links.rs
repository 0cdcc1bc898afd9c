//! `ferry links --pairs` and `ferry links unpair`: couples of external ids
//! (external↔external links) through [`ferry::admin::Admin`], so that they
//! work on `--server` too.

use super::globals::Globals;
use super::output::Output;
use anyhow::Result;
use clap::Subcommand;
use ferry::audit;
use ferry::store::PairFilter;

#[derive(Subcommand)]
pub(super) enum LinksCommand {
    /// Remove a couple of external ids (the next sync may pair them again).
    Unpair {
        /// Backend instance.
        instance: String,
        /// Label of the couple.
        label: String,
        /// The id on its left side.
        left_id: String,
    },
}

/// `ferry links --pairs`: the couples matching `filter`.
pub(super) async fn pairs(globals: &Globals, out: &Output, filter: &PairFilter) -> Result<()> {
    out.pairs(&globals.admin().await?.pairs(filter).await?);
    Ok(())
}

pub(super) async fn run(globals: &Globals, out: &Output, command: &LinksCommand) -> Result<()> {
    match command {
        LinksCommand::Unpair {
            instance,
            label,
            left_id,
        } => {
            let admin = globals.admin().await?;
            let removed = admin.unpair(instance, label, left_id, audit::CLI).await?;
            out.unpaired(&removed);
        }
    }
    Ok(())
}
