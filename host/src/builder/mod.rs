//! `ferry build`: make a connector's component, whatever it is written in.
//!
//! | language | found by | built with |
//! |---|---|---|
//! | Rust | `Cargo.toml` | cargo, for `wasm32-wasip2` ([`rust`]) |
//! | Python | `connector.py` | componentize-py and the Python SDK ([`python`]) |
//! | JavaScript | `connector.js` | componentize-js and the JS SDK ([`javascript`]) |
//!
//! `[build] language` and `entry` in `connector.toml` say it outright. Each
//! language's component implements the same world, `ferry:connector`: the
//! host does not know which language a module was written in, and a module
//! of one language can be the child (or parent) of another's in a backend
//! chain. The tools that are not part of the Rust toolchain are installed on
//! first use into a cache ([`tools`]); the SDKs and the contract's WIT are
//! part of the `ferry` binary ([`stage`]), so a build needs nothing from this
//! repository.

mod fingerprint;
pub mod javascript;
pub mod python;
pub mod rust;
mod stage;
pub mod tools;

use crate::error::{Error, Result};
use ferry_manifest::{Language, Manifest};
use std::path::{Path, PathBuf};

pub use rust::TARGET;

/// What a build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The component.
    pub wasm: PathBuf,
    /// The manifest, `connector.toml` in the connector's folder.
    pub manifest: PathBuf,
    /// Size of the component in bytes.
    pub size: u64,
    /// The language it was written in.
    pub language: Language,
}

impl Built {
    fn new(wasm: PathBuf, manifest: PathBuf, language: Language) -> Result<Built> {
        let size = std::fs::metadata(&wasm)
            .map_err(|e| Error::io(&wasm, e))?
            .len();
        Ok(Built {
            wasm,
            manifest,
            size,
            language,
        })
    }
}

/// Build the connector in `dir` (its `connector.toml` and sources) into
/// `target_dir` if given (else the folder's `target/`). Tools' messages go
/// to stderr. A Python or JavaScript connector whose sources, tool and Ferry
/// are those of the last build is not built again ([`fingerprint`]; cargo
/// does the same for Rust).
pub fn build_connector(dir: &Path, target_dir: Option<&Path>) -> Result<Built> {
    let manifest = dir.join("connector.toml");
    if !manifest.exists() {
        return Err(Error::Invalid(format!(
            "{}: no connector.toml: not a connector folder",
            dir.display()
        )));
    }
    let (language, entry) = detect(dir, &manifest)?;
    let wasm = match language {
        Language::Rust => rust::build(dir, target_dir)?,
        Language::Python | Language::Javascript => {
            let name = Manifest::load(&manifest)?.module.name;
            let out = target_dir
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.join("target"))
                .join(format!("ferry-{language}"))
                .join(format!("{name}.wasm"));
            let tool = match language {
                Language::Python => format!("componentize-py {}", tools::COMPONENTIZE_PY),
                _ => format!("componentize-js {}", tools::COMPONENTIZE_JS),
            };
            let fingerprint = fingerprint::of(dir, &entry, &tool)?;
            if !fingerprint::fresh(&out, &fingerprint) {
                fingerprint::forget(&out);
                if language == Language::Python {
                    python::build(dir, &entry, &out)?;
                } else {
                    javascript::build(dir, &entry, &out)?;
                }
                fingerprint::keep(&out, &fingerprint)?;
            }
            out
        }
    };
    Built::new(wasm, manifest, language)
}

/// Whether the connector whose manifest is `manifest` is declarative: a
/// `[rest]` section and no code of its own, so nothing to build (it runs on
/// the installed `rest` module). An unreadable or invalid manifest is not:
/// the build then says what is wrong with it.
pub fn is_declarative(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| Manifest::parse(&text).ok())
        .is_some_and(|m| m.rest.is_some())
}

/// The connector's language and entry file: `[build]` when it says, else
/// the first of `Cargo.toml`, `connector.py`, `connector.js` in `dir`.
pub fn detect(dir: &Path, manifest: &Path) -> Result<(Language, PathBuf)> {
    let declared = Manifest::load(manifest)?.build.unwrap_or_default();
    let language = match declared.language {
        Some(language) => language,
        None => [Language::Rust, Language::Python, Language::Javascript]
            .into_iter()
            .find(|l| dir.join(l.default_entry()).exists())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{}: no Cargo.toml, connector.py or connector.js: say which file \
                     exports the connector with `[build] language` and `entry` in connector.toml",
                    dir.display()
                ))
            })?,
    };
    let entry = dir.join(
        declared
            .entry
            .as_deref()
            .unwrap_or(language.default_entry()),
    );
    if !entry.exists() {
        return Err(Error::Invalid(format!(
            "{}: a {language} connector, but its entry {} is missing",
            dir.display(),
            entry.display()
        )));
    }
    Ok((language, entry))
}
