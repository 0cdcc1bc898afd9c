//! `ferry test DIR [--record] [--scenario NAME]`: a connector's scenarios on
//! recorded traffic (see [`ferry::scenarios`]).

use super::globals::Globals;
use super::output::Output;
use anyhow::{Result, bail};
use clap::Args;
use ferry::scenarios::CanaryReport;
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct TestArgs {
    /// The connector's folder (connector.toml, scenarios.toml, cassettes/).
    dir: PathBuf,
    /// Run the scenarios against the live API (`${NAME}`s of scenarios.toml
    /// from the environment) and write their cassettes.
    #[arg(long)]
    record: bool,
    /// Only this scenario.
    #[arg(long)]
    scenario: Option<String>,
}

pub(super) async fn run(globals: &Globals, out: &Output, args: &TestArgs) -> Result<()> {
    let ferry = globals.open().await?;
    let only = args.scenario.as_deref();
    let reports = if args.record {
        ferry::scenarios::record(&ferry, &args.dir, only).await?
    } else {
        ferry::scenarios::replay(&ferry, &args.dir, only).await?
    };
    let verb = if args.record { "recorded" } else { "replayed" };
    let mut text = String::new();
    for r in &reports {
        let verdict = if r.passed() { "ok" } else { "FAILED" };
        let _ = writeln!(
            text,
            "{verdict:6} {} ({verb} {} requests, {} local records) {}",
            r.scenario, r.requests, r.records, r.cassette
        );
        for problem in &r.problems {
            let _ = writeln!(text, "         {problem}");
        }
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    let _ = write!(text, "{} scenarios {verb}, {failed} failed", reports.len());
    out.value(&json!({ "scenarios": reports }), &text);
    if failed > 0 {
        bail!("{failed} of {} scenarios failed", reports.len());
    }
    Ok(())
}

/// Print what a canary found.
pub(super) fn canary_reports(out: &Output, reports: &[CanaryReport]) {
    let mut text = String::new();
    for r in reports {
        let _ = writeln!(
            text,
            "scenario {}: {} → {}",
            r.scenario, r.installed, r.candidate
        );
        if r.local.is_empty() && r.requests.is_empty() {
            let _ = writeln!(text, "  no difference");
        }
        for line in &r.local {
            let _ = writeln!(text, "  local:    {line}");
        }
        for line in &r.requests {
            let _ = writeln!(text, "  outbound: {line}");
        }
    }
    let differing = reports
        .iter()
        .filter(|r| !r.local.is_empty() || !r.requests.is_empty())
        .count();
    let _ = write!(
        text,
        "canary: {differing} of {} scenarios differ",
        reports.len()
    );
    out.value(&json!({ "canary": reports }), &text);
}
