//! Rust connectors: a crate on the guest SDK, compiled by cargo to a
//! `wasm32-wasip2` component.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target connectors are compiled for.
pub const TARGET: &str = "wasm32-wasip2";

/// Build the connector crate in `dir` (release profile) with cargo, into
/// `target_dir` if given, and return the component's path. Cargo's own
/// messages go to stderr.
pub fn build(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf> {
    let cargo_toml = dir.join("Cargo.toml");
    if !cargo_toml.exists() {
        return Err(Error::Invalid(format!(
            "{}: no Cargo.toml: not a connector crate",
            dir.display()
        )));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "--message-format=json-render-diagnostics",
    ])
    .arg("--manifest-path")
    .arg(&cargo_toml)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(t) = target_dir {
        cmd.arg("--target-dir").arg(t);
    }
    let output = cmd
        .output()
        .map_err(|e| Error::Invalid(format!("cannot run cargo: {e}")))?;
    let package_id = package_id(&cargo_toml)?;
    let wasm = cargo_metadata::Message::parse_stream(&output.stdout[..])
        .filter_map(|m| match m {
            Ok(cargo_metadata::Message::CompilerArtifact(a))
                if a.package_id.repr == package_id
                    && a.target.is_kind(cargo_metadata::TargetKind::CDyLib) =>
            {
                Some(a.filenames)
            }
            _ => None,
        })
        .flatten()
        .find(|f| f.extension() == Some("wasm"))
        .map(|f| f.into_std_path_buf());
    if !output.status.success() {
        return Err(Error::Invalid(format!(
            "cargo build of {} failed (see the messages above)",
            dir.display()
        )));
    }
    let wasm = wasm.ok_or_else(|| {
        Error::Invalid(format!(
            "{}: the build produced no .wasm (is `crate-type = [\"cdylib\"]` set under [lib]?)",
            dir.display()
        ))
    })?;
    Ok(wasm)
}

fn package_id(cargo_toml: &Path) -> Result<String> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(cargo_toml)
        .no_deps()
        .exec()
        .map_err(|e| Error::Invalid(format!("{}: {e}", cargo_toml.display())))?;
    let wanted = cargo_toml
        .canonicalize()
        .map_err(|e| Error::io(cargo_toml, e))?;
    metadata
        .packages
        .iter()
        .find(|p| {
            p.manifest_path.as_std_path().canonicalize().ok().as_deref() == Some(wanted.as_path())
        })
        .map(|p| p.id.repr.clone())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: not a package (a workspace root?)",
                cargo_toml.display()
            ))
        })
}
