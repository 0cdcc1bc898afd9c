//! `ferry new`: a connector that builds, installs and passes its own tests
//! at once, from a template (`minimal`: one job; `rest`: products between the
//! local side and a REST API, on the SDK's generic importer, exporter and
//! binder), in Rust, Python or JavaScript.
//!
//! Every language gets the same `connector.toml` and `scenarios.toml`; what
//! differs is the sources and how their tests run (`cargo test`,
//! `python3 -m unittest`, `npm test`). A Rust crate depends on `ferry-sdk`
//! by path when this Ferry was built from a source tree that is still there
//! (or `--sdk-path` says where one is), and by version otherwise; Python and
//! JavaScript connectors need nothing installed: `ferry build` carries their
//! SDK.

use crate::error::{Error, Result};
use ferry_manifest::{BackendKey, Language};
use std::path::{Path, PathBuf};

/// The templates `ferry new` knows.
pub const TEMPLATES: &[&str] = &["minimal", "rest"];

/// What to make.
#[derive(Debug, Clone)]
pub struct NewConnector {
    /// Module name (also the crate's, and the root backend's by default).
    pub name: String,
    /// `minimal` or `rest`.
    pub template: String,
    /// The language of its sources.
    pub language: Language,
    /// The backend the module implements (default: `name`, the root).
    pub backend: Option<String>,
    /// Its parent backend, for a module that overrides a few units of it.
    pub parent: Option<String>,
    /// A `guest-sdk` directory to depend on (default: this Ferry's source
    /// tree when it is there, else the published version); Rust only.
    pub sdk_path: Option<PathBuf>,
}

/// A template's files: (path in the new folder, text).
type Files = Vec<(&'static str, &'static str)>;

macro_rules! template {
    ($($path:literal => $source:literal),* $(,)?) => {
        vec![$(($path, include_str!(concat!("../connector-templates/", $source)))),*]
    };
}

/// The files of `template` in `language`.
fn files(language: Language, template: &str) -> Option<Files> {
    let mut files = match template {
        "minimal" => template! {
            "connector.toml" => "minimal/connector.toml",
            "scenarios.toml" => "minimal/scenarios.toml",
        },
        "rest" => template! {
            "connector.toml" => "rest/connector.toml",
            "scenarios.toml" => "rest/scenarios.toml",
        },
        _ => return None,
    };
    files.extend(match language {
        Language::Rust => template! {
            "Cargo.toml" => "common/Cargo.toml",
            "README.md" => "common/README.md",
            ".gitignore" => "common/gitignore",
        },
        Language::Python => template! {
            "README.md" => "python/common/README.md",
            ".gitignore" => "python/common/gitignore",
        },
        Language::Javascript => template! {
            "package.json" => "javascript/common/package.json",
            "README.md" => "javascript/common/README.md",
            ".gitignore" => "javascript/common/gitignore",
        },
    });
    files.extend(match (language, template) {
        (Language::Rust, "minimal") => template! { "src/lib.rs" => "minimal/src/lib.rs" },
        (Language::Rust, _) => template! { "src/lib.rs" => "rest/src/lib.rs" },
        (Language::Python, "minimal") => template! {
            "connector.py" => "python/minimal/connector.py",
            "greeting.py" => "python/minimal/greeting.py",
            "test_greeting.py" => "python/minimal/test_greeting.py",
        },
        (Language::Python, _) => template! {
            "connector.py" => "python/rest/connector.py",
            "rules.py" => "python/rest/rules.py",
            "test_rules.py" => "python/rest/test_rules.py",
        },
        (Language::Javascript, "minimal") => template! {
            "connector.js" => "javascript/minimal/connector.js",
            "greeting.js" => "javascript/minimal/greeting.js",
            "greeting.test.js" => "javascript/minimal/greeting.test.js",
        },
        (Language::Javascript, _) => template! {
            "connector.js" => "javascript/rest/connector.js",
            "rules.js" => "javascript/rest/rules.js",
            "rules.test.js" => "javascript/rest/rules.test.js",
        },
    });
    Some(files)
}

/// The command that runs a new connector's own tests, in its folder.
pub fn test_command(language: Language) -> &'static str {
    match language {
        Language::Rust => "cargo test",
        Language::Python => "python3 -m unittest",
        Language::Javascript => "npm test",
    }
}

/// The `[build]` table of a new connector's manifest (none for Rust: a
/// `Cargo.toml` says enough).
fn build_table(language: Language) -> String {
    match language {
        Language::Rust => String::new(),
        _ => format!(
            "\n[build]\nlanguage = \"{language}\"\nentry = \"{}\"\n",
            language.default_entry()
        ),
    }
}

/// The `guest-sdk` of the source tree this Ferry was built from, if it is
/// still there.
fn source_sdk() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk");
    dir.join("Cargo.toml")
        .is_file()
        .then(|| dir.canonicalize().ok())
        .flatten()
}

/// Make the crate of `spec` in `dir` (which must not exist, or be empty);
/// returns the files written.
pub fn create(dir: &Path, spec: &NewConnector) -> Result<Vec<PathBuf>> {
    if !ferry_manifest::valid_name(&spec.name) || spec.name.contains('.') {
        return Err(Error::Invalid(format!(
            "connector name {:?}: use letters, digits, `-` or `_`, starting with a letter",
            spec.name
        )));
    }
    let files = files(spec.language, &spec.template).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown template `{}` ({})",
            spec.template,
            TEMPLATES.join(", ")
        ))
    })?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_some()
    {
        return Err(Error::Invalid(format!(
            "{}: exists and is not empty; `ferry new` makes a new directory",
            dir.display()
        )));
    }
    let backend = match &spec.backend {
        Some(text) => {
            BackendKey::parse(text).map_err(|e| Error::Invalid(format!("--backend {text}: {e}")))?
        }
        None => BackendKey::new(&spec.name, None),
    };
    let mut backend_toml = match backend.as_str().split_once('@') {
        Some((name, version)) => format!("name = \"{name}\"\nversion = \"{version}\""),
        None => format!("name = \"{backend}\""),
    };
    if let Some(parent) = &spec.parent {
        let parent = BackendKey::parse(parent)
            .map_err(|e| Error::Invalid(format!("--parent {parent}: {e}")))?;
        if parent == backend {
            return Err(Error::Invalid(format!(
                "--parent {parent}: a backend cannot be its own parent"
            )));
        }
        backend_toml.push_str(&format!("\nparent = \"{parent}\""));
    }
    let sdk = match spec.sdk_path.clone().or_else(source_sdk) {
        _ if spec.language != Language::Rust => String::new(),
        Some(path) => {
            let path = path.canonicalize().map_err(|e| Error::io(&path, e))?;
            format!("ferry-sdk = {{ path = {:?} }}", path.display().to_string())
        }
        None => format!("ferry-sdk = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    let (add_params, first_job, record_env, logic_file) = match spec.template.as_str() {
        "rest" => (
            " --param url=http://127.0.0.1:8790",
            "import-batch --payload '{\"model\": \"product\"}'",
            "API_URL=http://127.0.0.1:8790 API_KEY=… ",
            "rules",
        ),
        _ => ("", "hello --payload '{\"name\": \"Ada\"}'", "", "greeting"),
    };
    let logic_file = match spec.language {
        Language::Javascript => format!("{logic_file}.js"),
        _ => format!("{logic_file}.py"),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", &spec.name)
            .replace("{{backend}}", &backend_toml)
            .replace("{{backend_key}}", backend.as_str())
            .replace("{{sdk_dependency}}", &sdk)
            .replace("{{add_params}}", add_params)
            .replace("{{first_job}}", first_job)
            .replace("{{record_env}}", record_env)
            .replace("{{logic_file}}", &logic_file)
            .replace("{{build}}", &build_table(spec.language))
    };
    let mut written = Vec::new();
    for (relative, text) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, fill(text)).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::{NewConnector, create};
    use ferry_manifest::Language;

    fn spec(language: Language, template: &str) -> NewConnector {
        NewConnector {
            name: "acme-crm".into(),
            template: template.into(),
            language,
            backend: Some("crm@2.0".into()),
            parent: Some("crm@1.0".into()),
            sdk_path: None,
        }
    }

    #[test]
    fn every_template_makes_a_connector_that_installs_in_every_language() {
        for language in [Language::Rust, Language::Python, Language::Javascript] {
            for template in super::TEMPLATES {
                let what = format!("{language} {template}");
                let dir = tempfile::tempdir().unwrap();
                let crate_dir = dir.path().join("acme-crm");
                let files = create(&crate_dir, &spec(language, template)).unwrap();
                for file in &files {
                    let text = std::fs::read_to_string(file).unwrap();
                    // `{{name}}` is ours; `{{ params.url }}` is the manifest's own.
                    let ours = text.split("{{").skip(1).find(|rest| !rest.starts_with(' '));
                    assert!(
                        ours.is_none(),
                        "{what}: {} left a placeholder",
                        file.display()
                    );
                }
                let manifest_path = crate_dir.join("connector.toml");
                let manifest = ferry_manifest::Manifest::load(&manifest_path)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(manifest.module.name, "acme-crm");
                assert_eq!(manifest.backends[0].key().as_str(), "crm@2.0");
                assert_eq!(manifest.backends[0].parent.as_deref(), Some("crm@1.0"));
                let (detected, entry) = crate::builder::detect(&crate_dir, &manifest_path)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(detected, language, "{what}");
                assert!(entry.is_file(), "{what}: {}", entry.display());
                if language == Language::Rust {
                    let cargo = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
                    assert!(cargo.contains("name = \"acme-crm\""), "{cargo}");
                    assert!(cargo.contains("ferry-sdk = { path = "), "{cargo}");
                } else {
                    assert!(!crate_dir.join("Cargo.toml").exists(), "{what}");
                }
                let scenarios = crate::scenarios::Scenarios::load(&crate_dir)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!scenarios.scenarios.is_empty());
                // Not over what is there.
                assert!(create(&crate_dir, &spec(language, template)).is_err());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let graphql = spec(Language::Python, "graphql");
        assert!(create(&dir.path().join("x"), &graphql).is_err());
    }
}
