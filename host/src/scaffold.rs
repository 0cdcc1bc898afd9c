//! `ferry new`: a connector crate that builds, installs and passes its own
//! tests at once, from a template (`minimal`: one job; `rest`: products
//! between the local side and a REST API, on the SDK's generic importer,
//! exporter and binder).
//!
//! The crate depends on `ferry-sdk` by path when this Ferry was built from a
//! source tree that is still there (or `--sdk-path` says where one is), and
//! by version otherwise.

use crate::error::{Error, Result};
use ferry_manifest::BackendKey;
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
    /// The backend the module implements (default: `name`, the root).
    pub backend: Option<String>,
    /// Its parent backend, for a module that overrides a few units of it.
    pub parent: Option<String>,
    /// A `guest-sdk` directory to depend on (default: this Ferry's source
    /// tree when it is there, else the published version).
    pub sdk_path: Option<PathBuf>,
}

/// The files of each template: (path in the crate, text).
fn files(template: &str) -> Option<Vec<(&'static str, &'static str)>> {
    let common = [
        (
            "Cargo.toml",
            include_str!("../connector-templates/common/Cargo.toml"),
        ),
        (
            "README.md",
            include_str!("../connector-templates/common/README.md"),
        ),
        (
            ".gitignore",
            include_str!("../connector-templates/common/gitignore"),
        ),
    ];
    let own: [(&str, &str); 3] = match template {
        "minimal" => [
            (
                "connector.toml",
                include_str!("../connector-templates/minimal/connector.toml"),
            ),
            (
                "src/lib.rs",
                include_str!("../connector-templates/minimal/src/lib.rs"),
            ),
            (
                "scenarios.toml",
                include_str!("../connector-templates/minimal/scenarios.toml"),
            ),
        ],
        "rest" => [
            (
                "connector.toml",
                include_str!("../connector-templates/rest/connector.toml"),
            ),
            (
                "src/lib.rs",
                include_str!("../connector-templates/rest/src/lib.rs"),
            ),
            (
                "scenarios.toml",
                include_str!("../connector-templates/rest/scenarios.toml"),
            ),
        ],
        _ => return None,
    };
    Some(common.into_iter().chain(own).collect())
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
    let files = files(&spec.template).ok_or_else(|| {
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
        Some(path) => {
            let path = path.canonicalize().map_err(|e| Error::io(&path, e))?;
            format!("ferry-sdk = {{ path = {:?} }}", path.display().to_string())
        }
        None => format!("ferry-sdk = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    let (add_params, first_job) = match spec.template.as_str() {
        "rest" => (
            " --param url=http://127.0.0.1:8790",
            "import-batch --payload '{\"model\": \"product\"}'",
        ),
        _ => ("", "hello --payload '{\"name\": \"Ada\"}'"),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", &spec.name)
            .replace("{{backend}}", &backend_toml)
            .replace("{{backend_key}}", backend.as_str())
            .replace("{{sdk_dependency}}", &sdk)
            .replace("{{add_params}}", add_params)
            .replace("{{first_job}}", first_job)
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

    fn spec(template: &str) -> NewConnector {
        NewConnector {
            name: "acme-crm".into(),
            template: template.into(),
            backend: Some("crm@2.0".into()),
            parent: Some("crm@1.0".into()),
            sdk_path: None,
        }
    }

    #[test]
    fn every_template_makes_a_manifest_that_installs() {
        for template in super::TEMPLATES {
            let dir = tempfile::tempdir().unwrap();
            let crate_dir = dir.path().join("acme-crm");
            create(&crate_dir, &spec(template)).unwrap();
            let manifest = ferry_manifest::Manifest::load(&crate_dir.join("connector.toml"))
                .unwrap_or_else(|e| panic!("{template}: {e}"));
            assert_eq!(manifest.module.name, "acme-crm");
            assert_eq!(manifest.backends[0].key().as_str(), "crm@2.0");
            assert_eq!(manifest.backends[0].parent.as_deref(), Some("crm@1.0"));
            let cargo = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
            assert!(cargo.contains("name = \"acme-crm\""), "{cargo}");
            assert!(cargo.contains("ferry-sdk = { path = "), "{cargo}");
            let scenarios = crate::scenarios::Scenarios::load(&crate_dir)
                .unwrap_or_else(|e| panic!("{template}: {e}"));
            assert!(!scenarios.scenarios.is_empty());
            // Not over what is there.
            assert!(create(&crate_dir, &spec(template)).is_err());
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(create(&dir.path().join("x"), &spec("graphql")).is_err());
    }
}
