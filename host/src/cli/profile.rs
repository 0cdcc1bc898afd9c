//! `ferry profile create|list|show|edit|remove|run`: job profiles, named and
//! saved parameters of a job for one backend instance ([`ferry::profiles`]),
//! on the local installation or on `--server`.

use super::globals::Globals;
use super::output::Output;
use super::terminal::Grid;
use super::worker;
use anyhow::Result;
use clap::{Args, Subcommand};
use ferry::admin::Admin;
use ferry::profiles::{NewProfile, ParamInput, ProfileEdit};
use ferry::queue::WorkerConfig;
use serde_json::json;

/// Parameters on the command line.
#[derive(Args)]
pub(super) struct ParamArgs {
    /// A parameter as KEY=VALUE, read by its declared type (an integer
    /// becomes a number, a list splits on commas, a boolean is true/false).
    #[arg(long = "param")]
    params: Vec<String>,
    /// A parameter as KEY=JSON.
    #[arg(long = "param-json")]
    params_json: Vec<String>,
}

impl ParamArgs {
    fn input(&self) -> Result<ParamInput> {
        Ok(ParamInput::from_pairs(&self.params, &self.params_json)?)
    }
}

#[derive(Subcommand)]
pub(super) enum ProfileCommand {
    /// Save a profile: a job of a backend instance with its parameters
    /// (checked against the job's declared parameters).
    Create {
        /// Its name, e.g. nightly.
        name: String,
        /// Backend instance.
        #[arg(long)]
        instance: String,
        /// Job name.
        #[arg(long)]
        job: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// List profiles.
    List,
    /// Show a profile and the payload it would run now (or why it cannot).
    Show {
        /// Its name.
        name: String,
    },
    /// Change a profile's parameters or description.
    Edit {
        /// Its name.
        name: String,
        #[command(flatten)]
        params: ParamArgs,
        /// Remove this parameter from the profile (repeat).
        #[arg(long)]
        unset: Vec<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a profile.
    Remove {
        /// Its name.
        name: String,
    },
    /// Enqueue the profile's job, with one-off overrides of its parameters.
    Run {
        /// Its name.
        name: String,
        #[command(flatten)]
        params: ParamArgs,
        /// Run the queue until idle right away (local installation only).
        #[arg(long)]
        wait: bool,
    },
}

pub(super) async fn run(globals: &Globals, out: &Output, command: &ProfileCommand) -> Result<()> {
    let actor = ferry::audit::CLI;
    match command {
        ProfileCommand::Create {
            name,
            instance,
            job,
            description,
            params,
        } => {
            let new = NewProfile {
                name: name.clone(),
                instance: instance.clone(),
                job: job.clone(),
                description: description.clone(),
                params: params.input()?,
            };
            let row = globals.admin().await?.create_profile(&new, actor).await?;
            out.value(
                &serde_json::to_value(&row)?,
                &format!("profile `{name}` saved: job `{job}` of `{instance}`"),
            );
        }
        ProfileCommand::List => {
            let rows = globals.admin().await?.profiles().await?;
            let mut grid = Grid::new(&["profile", "instance", "job", "params", "description"]);
            for p in &rows {
                grid.row([
                    p.name.clone(),
                    p.instance.clone(),
                    p.job.clone(),
                    serde_json::Value::Object(p.params.clone()).to_string(),
                    p.description.clone(),
                ]);
            }
            let human = if rows.is_empty() {
                "no profiles (save one: ferry profile create NAME --instance I --job J --param k=v)"
                    .to_string()
            } else {
                grid.to_string()
            };
            out.value(&serde_json::to_value(&rows)?, &human);
        }
        ProfileCommand::Show { name } => {
            let detail = globals.admin().await?.profile(name).await?;
            let p = &detail.profile;
            let mut human = format!(
                "profile `{}`: job `{}` of `{}`\nparams: {}",
                p.name,
                p.job,
                p.instance,
                serde_json::Value::Object(p.params.clone())
            );
            if !p.description.is_empty() {
                human.push_str(&format!("\ndescription: {}", p.description));
            }
            match (&detail.effective, &detail.problem) {
                (Some(payload), _) => human.push_str(&format!("\nruns with: {payload}")),
                (None, Some(problem)) => human.push_str(&format!("\ncannot run: {problem}")),
                (None, None) => {}
            }
            out.value(&serde_json::to_value(&detail)?, &human);
        }
        ProfileCommand::Edit {
            name,
            params,
            unset,
            description,
        } => {
            let edit = ProfileEdit {
                params: params.input()?,
                unset: unset.clone(),
                description: description.clone(),
            };
            let row = globals
                .admin()
                .await?
                .edit_profile(name, &edit, actor)
                .await?;
            out.value(
                &serde_json::to_value(&row)?,
                &format!(
                    "profile `{name}` changed: params {}",
                    serde_json::Value::Object(row.params.clone())
                ),
            );
        }
        ProfileCommand::Remove { name } => {
            globals.admin().await?.remove_profile(name, actor).await?;
            out.value(
                &json!({ "profile": name, "removed": true }),
                &format!("profile `{name}` removed"),
            );
        }
        ProfileCommand::Run { name, params, wait } => {
            let input = params.input()?;
            if !wait {
                let ran = globals
                    .admin()
                    .await?
                    .run_profile(name, &input, actor)
                    .await?;
                out.value(
                    &serde_json::to_value(&ran)?,
                    &format!(
                        "enqueued job {} (profile `{name}`: {})",
                        ran.job_id, ran.payload
                    ),
                );
                return Ok(());
            }
            let ferry = globals.open().await?;
            let admin = Admin::Local(ferry.clone());
            let ran = admin.run_profile(name, &input, actor).await?;
            out.message(&format!(
                "enqueued job {} (profile `{name}`: {})",
                ran.job_id, ran.payload
            ));
            worker::work(
                &ferry,
                out,
                WorkerConfig {
                    until_idle: true,
                    ..Default::default()
                },
            )
            .await?;
            out.job(&admin.job(ran.job_id).await?);
        }
    }
    Ok(())
}
