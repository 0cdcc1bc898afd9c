//! The build tools of non-Rust connectors, installed on first use into a
//! cache from their registries (PyPI, npm), at the versions this Ferry was
//! tested with.
//!
//! Where: `FERRY_TOOLS_DIR`, else `$XDG_CACHE_HOME/ferry/tools`, else
//! `~/.cache/ferry/tools`; one folder per tool and version, so that an
//! upgrade of Ferry installs its version beside the old one. A tool is
//! installed into a scratch folder and renamed into place, so that builds
//! running at once never see half an install.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// componentize-py, from PyPI: Python connectors.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// @bytecodealliance/componentize-js, from npm: JavaScript connectors.
pub const COMPONENTIZE_JS: &str = "0.23.0";

/// The folder the tools are cached in.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRY_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("ferry").join("tools")
}

/// A command that runs componentize-py (installed first if missing):
/// `python3` with the cached package on its path.
pub fn componentize_py() -> Result<Command> {
    let python = python()?;
    let dir = tools_dir().join(format!("componentize-py-{COMPONENTIZE_PY}"));
    install_once(&dir, "componentize-py", |scratch| {
        let mut pip = Command::new(&python);
        pip.env("PIP_ROOT_USER_ACTION", "ignore")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-warn-script-location", "--target"])
            .arg(scratch)
            .arg(format!("componentize-py=={COMPONENTIZE_PY}"));
        pip
    })?;
    let mut cmd = Command::new(python);
    cmd.env("PYTHONPATH", &dir).args([
        "-c",
        "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
    ]);
    Ok(cmd)
}

/// A command that runs componentize-js (installed first if missing) with
/// Node.js.
pub fn componentize_js() -> Result<Command> {
    let node = which("node").ok_or_else(|| {
        missing(
            "componentize-js",
            "Node.js 18 or newer with npm (Debian: `apt install nodejs npm`; or https://nodejs.org)",
        )
    })?;
    let npm = which("npm").ok_or_else(|| {
        missing(
            "componentize-js",
            "npm, Node.js's package manager (Debian: `apt install npm`)",
        )
    })?;
    let dir = tools_dir().join(format!("componentize-js-{COMPONENTIZE_JS}"));
    install_once(&dir, "componentize-js", |scratch| {
        let mut install = Command::new(&npm);
        install
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(scratch)
            .arg(format!(
                "@bytecodealliance/componentize-js@{COMPONENTIZE_JS}"
            ));
        install
    })?;
    let cli = dir.join("node_modules/@bytecodealliance/componentize-js/src/cli.js");
    let mut cmd = Command::new(node);
    cmd.arg(cli);
    Ok(cmd)
}

/// `python3` (or `python`) on the PATH, 3.9 or newer.
fn python() -> Result<PathBuf> {
    let need = "Python 3.9 or newer with pip (Debian: `apt install python3 python3-pip`)";
    let python = which("python3")
        .or_else(|| which("python"))
        .ok_or_else(|| missing("componentize-py", need))?;
    let version = Command::new(&python)
        .args(["-c", "import sys, pip; print(sys.version_info >= (3, 9))"])
        .output()
        .map_err(|e| Error::Invalid(format!("cannot run {}: {e}", python.display())))?;
    if String::from_utf8_lossy(&version.stdout).trim() != "True" {
        return Err(missing("componentize-py", need));
    }
    Ok(python)
}

fn missing(tool: &str, what: &str) -> Error {
    Error::Invalid(format!(
        "building this connector needs {tool}, which needs {what}; install it and build again \
         ({tool} itself is installed into {} on first use)",
        tools_dir().display()
    ))
}

/// The first `name` on the PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Make `dir` by running `installer` on a scratch folder then renaming it,
/// unless `dir` is there already.
fn install_once(dir: &Path, tool: &str, installer: impl Fn(&Path) -> Command) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    static SCRATCH: AtomicU64 = AtomicU64::new(0);
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let scratch = parent.join(format!(
        ".install-{tool}-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    eprintln!("installing {tool} into {} (once)", dir.display());
    let status = installer(&scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| Error::Invalid(format!("cannot start the installer of {tool}: {e}")))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(Error::Invalid(format!(
            "installing {tool} into {} failed ({status}; see the messages above): is the \
             package registry reachable?",
            dir.display()
        )));
    }
    // Another build may have installed it meanwhile: theirs is as good.
    if std::fs::rename(&scratch, dir).is_err() {
        let _ = std::fs::remove_dir_all(&scratch);
        if !dir.exists() {
            return Err(Error::Invalid(format!(
                "cannot move {tool} into {}",
                dir.display()
            )));
        }
    }
    Ok(())
}
