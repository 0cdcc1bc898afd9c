//! [`Vault`]: the secrets of one run's backend instance, opened at most once
//! per run (at the first credential or reveal), and the redaction of their
//! values from whatever the run leaves behind.

use super::{master_key, open_all, redact};
use crate::store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The secrets of one run's instance. One vault serves the whole run (the job
/// and its nested unit calls), so that a value opened anywhere in it is
/// redacted everywhere: log lines, transmission log rows, the job's error and
/// result.
#[derive(Debug, Default)]
pub(crate) struct Vault {
    /// Where the secrets come from: none while a module is only described.
    source: Option<(Store, String, Option<PathBuf>)>,
    opened: tokio::sync::OnceCell<Result<BTreeMap<String, String>, String>>,
    /// Values to redact: every secret of the instance once opened.
    values: RwLock<Vec<String>>,
    /// Reveals the run asked for so far.
    reveals: AtomicU32,
}

impl Vault {
    /// The secrets of `instance` in `store`, under the master key of
    /// `key_file` (or of `FERRY_MASTER_KEY` alone when there is no file).
    pub(crate) fn new(store: Store, instance: String, key_file: Option<PathBuf>) -> Self {
        Vault {
            source: Some((store, instance, key_file)),
            ..Default::default()
        }
    }

    /// The backend instance whose secrets these are.
    pub(crate) fn instance(&self) -> &str {
        self.source.as_ref().map(|s| s.1.as_str()).unwrap_or("?")
    }

    /// `text` with the value of every opened secret replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        match self.values.read() {
            Ok(values) if !values.is_empty() => redact(text, values.iter()),
            _ => text.to_string(),
        }
    }

    /// JSON `text` (a job's result) with every opened value replaced by `***`
    /// in its strings and keys, so that it stays valid JSON; text that is not
    /// JSON is redacted as text.
    pub(crate) fn redact_json(&self, text: &str) -> String {
        if self.values.read().map(|v| v.is_empty()).unwrap_or(true) {
            return text.to_string();
        }
        match serde_json::from_str::<Value>(text) {
            Ok(mut value) => {
                self.redact_value(&mut value);
                value.to_string()
            }
            Err(_) => self.redact(text),
        }
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, mut v)| {
                        self.redact_value(&mut v);
                        (self.redact(&k), v)
                    })
                    .collect();
            }
            _ => {}
        }
    }

    /// Open every secret of the instance (once per run).
    async fn open(&self) -> Result<&BTreeMap<String, String>, String> {
        let opened = self
            .opened
            .get_or_init(|| async {
                let (store, instance, key_file) =
                    self.source.as_ref().ok_or("no secret can be opened here")?;
                let key = master_key(key_file.as_deref())
                    .map_err(|e| format!("the master key cannot be loaded: {e}"))?;
                let values = open_all(store, &key, instance)
                    .await
                    .map_err(|e| e.to_string())?;
                if let Ok(mut redacted) = self.values.write() {
                    redacted.extend(values.values().cloned());
                }
                Ok(values)
            })
            .await;
        opened.as_ref().map_err(|e| e.clone())
    }

    /// The value of secret `name`: `None` when the instance has no such
    /// secret, an error when the secrets cannot be opened.
    pub(crate) async fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.open().await?.get(name).cloned())
    }

    /// The value of secret `name`, or why there is none.
    pub(crate) async fn value(&self, name: &str) -> Result<String, String> {
        self.get(name).await?.ok_or_else(|| self.not_set(name))
    }

    /// Count one more reveal asked for in this run; returns how many so far.
    pub(crate) fn count_reveal(&self) -> u32 {
        self.reveals
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
    }

    /// What to say when the instance has no secret `name`.
    pub(crate) fn not_set(&self, name: &str) -> String {
        let instance = self.instance();
        format!(
            "secret `{name}` of backend instance `{instance}` is not set \
             (ferry secret set {instance} {name})"
        )
    }
}
