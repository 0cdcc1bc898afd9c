//! Python connectors: a module on the Python SDK (`ferry_sdk`), made into a
//! component by componentize-py.
//!
//! componentize-py runs the connector's module once at build time and
//! snapshots the interpreter (its heap, the imported modules, the
//! connector object): an instance starts from that snapshot rather than
//! importing anything again. The component carries CPython (~18 MB); the
//! host compiles it once and keeps it in its compiled cache.

use super::{stage, tools};
use crate::error::{Error, Result};
use std::path::Path;
use std::process::Stdio;

/// The module componentize-py wraps: it imports the connector's module
/// (which builds the connector and calls `export_connector`) and exports
/// the SDK's `Guest`.
fn app_module(module: &str) -> String {
    format!(
        "# Written by `ferry build`: the component's entry.\n\
         import {module}  # noqa: F401: builds and exports the connector\n\
         from ferry_sdk.guest import Guest  # noqa: F401: the `guest` export\n"
    )
}

/// Build the Python connector in `dir` whose entry is `entry` into `out`.
pub fn build(dir: &Path, entry: &Path, out: &Path) -> Result<()> {
    let module = entry
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| entry.extension().is_some_and(|e| e == "py") && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: the entry of a Python connector is a `.py` file named like a module (e.g. connector.py)",
                entry.display()
            ))
        })?;
    let scratch = stage::scratch()?;
    let (wit, sdk, app, src) = (
        scratch.path().join("wit"),
        scratch.path().join("sdk"),
        scratch.path().join("app"),
        scratch.path().join("src"),
    );
    // componentize-py imports the sources where it finds them (writing
    // `__pycache__/` next to them): it gets a copy.
    stage::copy_sources(dir, &src, &mut |_, _| Ok(()))?;
    stage::write(&wit, stage::PYTHON_WIT)?;
    stage::write(&wit, stage::CONTRACT)?;
    stage::write(&sdk, stage::PYTHON_SDK)?;
    std::fs::create_dir_all(&app).map_err(|e| Error::io(&app, e))?;
    let app_file = app.join("ferry_app.py");
    std::fs::write(&app_file, app_module(module)).map_err(|e| Error::io(&app_file, e))?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let source_dir = match entry.parent().map(|folder| folder.strip_prefix(dir)) {
        Some(Ok(inner)) => src.join(inner),
        _ => {
            return Err(Error::Invalid(format!(
                "{}: the entry must be inside the connector's folder {}",
                entry.display(),
                dir.display()
            )));
        }
    };
    let status = tools::componentize_py()?
        .arg("--quiet")
        .arg("-d")
        .arg(&wit)
        .args(["-w", "connector", "componentize"])
        .arg("-p")
        .arg(&source_dir)
        .arg("-p")
        .arg(&sdk)
        .arg("-p")
        .arg(&app)
        .arg("-o")
        .arg(out)
        .arg("ferry_app")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| Error::Invalid(format!("cannot run componentize-py: {e}")))?;
    if !status.success() {
        return Err(Error::Invalid(format!(
            "componentize-py could not build {} ({status}; see its messages above: a Python \
             error in the connector's module shows there with its line)",
            entry.display()
        )));
    }
    Ok(())
}
