//! `ferry trigger INSTANCE BUTTON --data JSON`: press a button (locally, or on
//! the server given with `--server`).

use super::args::json_arg;
use super::globals::Globals;
use super::output::Output;
use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub(super) struct TriggerArgs {
    /// Backend instance.
    instance: String,
    /// Button, as `[[button]]` in a manifest of the instance's backend chain names it.
    button: String,
    /// The data the job gets as payload (JSON; `@FILE` reads it from a file,
    /// `-` from standard input).
    #[arg(long, default_value = "{}")]
    data: String,
}

pub(super) async fn run(cli: &Globals, out: &Output, args: &TriggerArgs) -> Result<()> {
    let data = json_arg(&args.data, "--data")?;
    let admin = cli.admin().await?;
    let pressed = admin
        .press(&args.instance, &args.button, &data, "cli")
        .await?;
    out.pressed(&pressed);
    Ok(())
}
