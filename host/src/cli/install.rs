//! `ferry build DIR` and `ferry install PATH [--canary | --promote]`.

use super::globals::Globals;
use super::output::Output;
use anyhow::{Result, bail};
use clap::Args;
use ferry::Ferry;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct BuildArgs {
    /// The connector's folder (connector.toml and its sources: a Rust crate,
    /// Python or JavaScript).
    dir: PathBuf,
}

#[derive(Args)]
pub(super) struct InstallArgs {
    /// A connector crate to build and install, or its connector.toml; or
    /// a declarative connector (a connector.toml with a [rest] section and
    /// no crate), run by the installed `rest` module.
    path: PathBuf,
    /// An already built component (skips the build).
    #[arg(long)]
    wasm: Option<PathBuf>,
    /// Install nothing: replay the connector's recorded scenarios through
    /// the installed version and through this one, and show what differs
    /// (local writes, links, outbound requests).
    #[arg(long, conflicts_with_all = ["wasm", "promote"])]
    canary: bool,
    /// Show the canary's differences, then install (replace) the module.
    #[arg(long, conflicts_with = "wasm")]
    promote: bool,
    /// With --canary or --promote: only this scenario.
    #[arg(long)]
    scenario: Option<String>,
}

pub(super) async fn build(out: &Output, args: &BuildArgs) -> Result<()> {
    let dir = &args.dir;
    if is_declarative(dir) {
        let manifest = ferry::manifest::Manifest::load(&manifest_of(dir))?;
        let streams: Vec<&str> = manifest
            .rest
            .iter()
            .flat_map(|r| r.streams.iter().map(|s| s.model.as_str()))
            .collect();
        out.message(&format!(
            "{}: a declarative connector (streams: {}): nothing to build; `ferry install {}` runs it on the `rest` module",
            manifest.module.name,
            streams.join(", "),
            dir.display()
        ));
        return Ok(());
    }
    let built = ferry::builder::build_connector(&folder_of(dir), None)?;
    // Check it the way `install` will, in a throw-away installation.
    let scratch = tempfile::tempdir()?;
    let ferry = Ferry::open(scratch.path()).await?;
    let installed = ferry.install(&built.manifest, &built.wasm).await?;
    out.built(&built, &installed);
    Ok(())
}

pub(super) async fn install(globals: &Globals, out: &Output, args: &InstallArgs) -> Result<()> {
    let ferry = globals.open().await?;
    let path = &args.path;
    if args.canary || args.promote {
        if !path.is_dir() {
            bail!(
                "--canary and --promote take the connector's folder (with scenarios.toml and cassettes/), not {}",
                path.display()
            );
        }
        let reports = ferry::scenarios::canary(&ferry, path, args.scenario.as_deref()).await?;
        super::test::canary_reports(out, &reports);
        if args.canary {
            return Ok(());
        }
    }
    let installed = match &args.wasm {
        Some(wasm) => ferry.install(&manifest_of(path), wasm).await?,
        // No crate: a declarative connector, run by the `rest` module.
        None if is_declarative(path) => ferry.install_declarative(&manifest_of(path)).await?,
        None => {
            let built = ferry::builder::build_connector(&folder_of(path), None)?;
            ferry.install(&built.manifest, &built.wasm).await?
        }
    };
    out.installed(&installed);
    Ok(())
}

/// A declarative connector: a manifest with a `[rest]` table (and no
/// sources to build), in `DIR/connector.toml` or named directly.
fn is_declarative(path: &Path) -> bool {
    ferry::builder::is_declarative(&manifest_of(path))
}

/// The connector's folder: `path`, or the folder of the manifest it names.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !path.is_dir() => parent.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

fn manifest_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("connector.toml")
    } else {
        path.to_path_buf()
    }
}
