//! `ferry cursors list|set|clear`: how far the jobs of a backend instance
//! have read each stream, and operators' changes to it (replay a stream from
//! a point, skip ahead, start over), on the local installation or on
//! `--server`. Changes are written to the audit log (`ferry logs --audit`).

use super::output::Output;
use super::terminal::{Grid, line, time};
use anyhow::{Context, Result};
use clap::Subcommand;
use ferry::admin::{Admin, CursorInfo};
use ferry::audit;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub(super) enum CursorsCommand {
    /// List the cursors of a backend instance.
    List {
        /// Backend instance.
        instance: String,
    },
    /// Set a cursor to a JSON value (the next run reads its stream from there).
    Set {
        /// Backend instance.
        instance: String,
        /// Stream name, e.g. `import:product`.
        name: String,
        /// Value, JSON (as the connector writes it; see `ferry cursors list`).
        value: String,
    },
    /// Remove a cursor: the next run reads its stream from the start.
    Clear {
        /// Backend instance.
        instance: String,
        /// Stream name.
        name: String,
    },
}

fn table(instance: &str, cursors: &[CursorInfo]) -> String {
    if cursors.is_empty() {
        return format!("no cursors for `{}`", line(instance));
    }
    let mut grid = Grid::new(&["name", "value", "updated", "job"]);
    for c in cursors {
        grid.row([
            c.name.clone(),
            c.value.to_string(),
            time(Some(c.updated_at)),
            c.job_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    grid.to_string()
}

pub(super) async fn run(admin: &Admin, out: &Output, command: &CursorsCommand) -> Result<()> {
    match command {
        CursorsCommand::List { instance } => {
            let cursors = admin.cursors(instance).await?;
            out.value(&serde_json::to_value(&cursors)?, &table(instance, &cursors));
        }
        CursorsCommand::Set {
            instance,
            name,
            value,
        } => {
            let value: Value = serde_json::from_str(value).with_context(|| {
                format!(
                    "the value of cursor `{name}` is not JSON (a string needs quotes: '\"abc\"')"
                )
            })?;
            let set = admin.set_cursor(instance, name, &value, audit::CLI).await?;
            out.value(
                &serde_json::to_value(&set)?,
                &format!(
                    "cursor `{}` of `{}` set to {}",
                    line(name),
                    line(instance),
                    set.value
                ),
            );
        }
        CursorsCommand::Clear { instance, name } => {
            admin.clear_cursor(instance, name, audit::CLI).await?;
            out.value(
                &json!({ "instance": instance, "cursor": name, "cleared": true }),
                &format!("cursor `{}` of `{}` cleared", line(name), line(instance)),
            );
        }
    }
    Ok(())
}
