//! The `meta` and `blobs` stores of a backend instance, by type (sqAPI's
//! metadata and data stores): what the operator sets (`ferry store set`,
//! `POST /api/stores`), and the stores themselves, which the `meta` and
//! `blobs` capabilities open for a run.
//!
//! | store | types | default |
//! |---|---|---|
//! | `meta` (key-value) | `local` (the Ferry database), `redis` | `local` |
//! | `blobs` (object data) | `disk` (a directory the operator grants), `s3` (a bucket of an S3-compatible endpoint) | none: refused until set |
//!
//! What a module reaches of them is its manifest's business
//! (`[capabilities.meta]`, `[capabilities.blobs]`, see
//! [`ferry_manifest::stores`]); where they are is the operator's. The
//! settings live in the `topics` table under the reserved names `meta` and
//! `blobs` (no published topic can take them: a topic pattern is refused
//! there), and every change is in the audit log.

pub mod blobs;
pub mod meta;

use crate::audit;
use crate::error::{Error, Result};
use crate::store::{Store, TopicRow};
pub use ferry_manifest::StoreKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Audit action: where a store is was set.
pub const STORE_SET: &str = "store.set";
/// Audit action: a store's setting was removed (back to the default).
pub const STORE_REMOVE: &str = "store.remove";
/// Largest blob a `disk` store takes or gives by default.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 32 << 20;
/// The types of `meta`.
pub const META_KINDS: &[&str] = &["local", "redis"];
/// The types of `blobs`.
pub const BLOB_KINDS: &[&str] = &["disk", "s3"];

/// Settings of a store, as `ferry store set` keeps them; which apply
/// depends on the type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `redis`: the server's URL, without a password; `s3`: the endpoint
    /// (`https://s3.eu-west-1.amazonaws.com`, `http://minio:9000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `redis`: secret of the instance holding the password; `s3`: the one
    /// holding the secret access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// What every key is prefixed with in the store: `redis` (default
    /// `ferry:meta:INSTANCE:`; `""` to share keys other systems write), `s3`
    /// (default none: the bucket's keys as they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// `disk`: the directory that holds the blobs (made absolute, and
    /// created, when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// `disk`, `s3`: the largest blob put or got, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// `s3`: the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// `s3`: the region (default `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `s3`: the access key id (the secret key is `password_secret`'s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
}

impl StoreSettings {
    /// Check the settings for a store of type `kind`: a known type, what it
    /// needs, nothing it would ignore.
    pub fn check(&self, store: StoreKind, kind: &str) -> std::result::Result<(), String> {
        let kinds = match store {
            StoreKind::Meta => META_KINDS,
            StoreKind::Blobs => BLOB_KINDS,
        };
        if !kinds.contains(&kind) {
            return Err(format!(
                "unknown type `{kind}` for `{}` ({})",
                store.name(),
                kinds.join(", ")
            ));
        }
        let given: [(&str, bool); 8] = [
            ("url", self.url.is_some()),
            ("password-secret", self.password_secret.is_some()),
            ("key-prefix", self.key_prefix.is_some()),
            ("dir", self.dir.is_some()),
            ("max-bytes", self.max_bytes.is_some()),
            ("bucket", self.bucket.is_some()),
            ("region", self.region.is_some()),
            ("access-key-id", self.access_key_id.is_some()),
        ];
        let (needed, allowed): (&[&str], &[&str]) = match kind {
            "redis" => (&["url"], &["url", "password-secret", "key-prefix"]),
            "disk" => (&["dir"], &["dir", "max-bytes"]),
            "s3" => (
                &["url", "bucket"],
                &[
                    "url",
                    "bucket",
                    "region",
                    "access-key-id",
                    "password-secret",
                    "key-prefix",
                    "max-bytes",
                ],
            ),
            _ => (&[], &[]),
        };
        for (name, set) in given {
            if set && !allowed.contains(&name) {
                return Err(format!("`--{name}` does not apply to type {kind}"));
            }
            if !set && needed.contains(&name) {
                return Err(format!("type {kind} needs `--{name}`"));
            }
        }
        if let Some(url) = &self.url {
            let schemes: &[&str] = match kind {
                "redis" => &["redis", "rediss"],
                _ => &["https", "http"],
            };
            crate::service_url::check(url, schemes).map_err(|e| format!("type {kind}: {e}"))?;
        }
        if self.access_key_id.is_some() != self.password_secret.is_some() && kind == "s3" {
            return Err(
                "type s3 signs with `--access-key-id` and `--password-secret` (the secret                  access key) together, or neither (a public bucket)"
                    .into(),
            );
        }
        if let Some(prefix) = &self.key_prefix
            && kind == "s3"
        {
            ferry_manifest::stores::check_prefix(StoreKind::Blobs, prefix)
                .map_err(|e| format!("`--key-prefix`: {e}"))?;
        }
        if self.max_bytes == Some(0) {
            return Err("`--max-bytes` must be more than 0".into());
        }
        Ok(())
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached now (Redis away, a disk error): worth
    /// trying again later.
    #[error("{0}")]
    Unavailable(String),
    /// The store refuses this operation every time (too large, not set).
    #[error("{0}")]
    Refused(String),
    /// Ferry's own database failed.
    #[error(transparent)]
    Host(#[from] Error),
}

/// Where an instance's store is (`POST /api/stores`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSpec {
    /// Backend instance.
    pub instance: String,
    /// `meta` or `blobs`.
    pub store: String,
    /// Its type (`local`, `redis`, `disk`).
    pub kind: String,
    /// Its settings.
    #[serde(default)]
    pub settings: StoreSettings,
}

/// A store as set, or by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreRow {
    /// Backend instance.
    pub instance: String,
    /// `meta` or `blobs`.
    pub store: String,
    /// Its type.
    pub kind: String,
    /// Its settings.
    pub settings: StoreSettings,
    /// Set, ms (none: the default, nothing set).
    pub updated_at: Option<i64>,
}

/// The store named `name`, or why there is none.
pub fn store_kind(name: &str) -> Result<StoreKind> {
    match name {
        "meta" => Ok(StoreKind::Meta),
        "blobs" => Ok(StoreKind::Blobs),
        other => Err(Error::Invalid(format!(
            "unknown store `{other}`: an instance has `meta` and `blobs`"
        ))),
    }
}

/// Whether `topic` is the reserved name of a store in the topics table.
pub fn is_store_name(topic: &str) -> bool {
    store_kind(topic).is_ok()
}

/// Set where `spec.store` of `spec.instance` is, for `actor`.
pub async fn set(store: &Store, spec: &StoreSpec, actor: &str) -> Result<StoreRow> {
    store.instance(&spec.instance).await?;
    let kind = store_kind(&spec.store)?;
    let mut settings = spec.settings.clone();
    settings.check(kind, &spec.kind).map_err(|e| {
        Error::Invalid(format!(
            "store `{}` of `{}`: {e}",
            spec.store, spec.instance
        ))
    })?;
    if let Some(name) = &settings.password_secret {
        crate::service_url::check_password_secret(store, &spec.instance, name).await?;
    }
    if let Some(dir) = &settings.dir {
        settings.dir = Some(grant_dir(dir)?);
    }
    let config = match serde_json::to_value(&settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => Default::default(),
    };
    let row = store
        .set_topic(&spec.instance, kind.name(), &spec.kind, &config)
        .await?;
    let mut entry = audit::entry(actor, STORE_SET, &spec.instance, kind.name());
    entry.detail = Some(describe(&row.kind, &settings));
    audit::record(store, &entry).await?;
    row_of(row)
}

/// Every instance's stores (or `instance`'s): what is set, and `meta`'s
/// default where nothing is.
pub async fn list(store: &Store, instance: Option<&str>) -> Result<Vec<StoreRow>> {
    let instances: Vec<String> = match instance {
        Some(name) => vec![store.instance(name).await?.name],
        None => store
            .instances()
            .await?
            .into_iter()
            .map(|i| i.name)
            .collect(),
    };
    let set: Vec<TopicRow> = store
        .topics(instance)
        .await?
        .into_iter()
        .filter(|t| is_store_name(&t.topic))
        .collect();
    let mut rows = Vec::new();
    for name in instances {
        for kind in [StoreKind::Meta, StoreKind::Blobs] {
            match set
                .iter()
                .find(|t| t.instance == name && t.topic == kind.name())
            {
                Some(topic) => rows.push(row_of(topic.clone())?),
                None if kind == StoreKind::Meta => rows.push(StoreRow {
                    instance: name.clone(),
                    store: kind.name().into(),
                    kind: "local".into(),
                    settings: StoreSettings::default(),
                    updated_at: None,
                }),
                None => {}
            }
        }
    }
    Ok(rows)
}

/// The store `kind` of `instance` as set, or its default (none for `blobs`).
pub async fn configured(
    store: &Store,
    instance: &str,
    kind: StoreKind,
) -> Result<Option<StoreRow>> {
    let set = store
        .topics(Some(instance))
        .await?
        .into_iter()
        .find(|t| t.topic == kind.name());
    match (set, kind) {
        (Some(row), _) => row_of(row).map(Some),
        (None, StoreKind::Meta) => Ok(Some(StoreRow {
            instance: instance.to_string(),
            store: kind.name().into(),
            kind: "local".into(),
            settings: StoreSettings::default(),
            updated_at: None,
        })),
        (None, StoreKind::Blobs) => Ok(None),
    }
}

/// Remove what is set for `store_name` of `instance` (back to the default),
/// for `actor`.
pub async fn remove(store: &Store, instance: &str, store_name: &str, actor: &str) -> Result<()> {
    let kind = store_kind(store_name)?;
    store.remove_topic(instance, kind.name()).await?;
    audit::record(
        store,
        &audit::entry(actor, STORE_REMOVE, instance, kind.name()),
    )
    .await?;
    Ok(())
}

/// The directory `dir` made absolute and created, as a `disk` store keeps
/// it (a relative path would change meaning with the worker's directory).
fn grant_dir(dir: &std::path::Path) -> Result<PathBuf> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    dir.canonicalize().map_err(io)
}

fn row_of(topic: TopicRow) -> Result<StoreRow> {
    let settings =
        serde_json::from_value(serde_json::Value::Object(topic.config)).map_err(|e| {
            Error::Invalid(format!(
                "settings of store `{}` of `{}`: {e}",
                topic.topic, topic.instance
            ))
        })?;
    Ok(StoreRow {
        instance: topic.instance,
        store: topic.topic,
        kind: topic.kind,
        settings,
        updated_at: Some(topic.updated_at),
    })
}

/// One line saying where a store is (for the audit log and listings).
pub fn describe(kind: &str, settings: &StoreSettings) -> String {
    match (&settings.url, &settings.dir) {
        (Some(url), _) if settings.bucket.is_some() => format!(
            "{kind} {url} bucket {}",
            settings.bucket.as_deref().unwrap_or_default()
        ),
        (Some(url), _) => format!("{kind} {url}"),
        (None, Some(dir)) => format!("{kind} {}", dir.display()),
        (None, None) => kind.to_string(),
    }
}
