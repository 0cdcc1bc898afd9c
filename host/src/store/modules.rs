//! Installed modules, backend instances and event subscriptions.

use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::manifest::Conditions;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;

/// An installed module as stored.
#[derive(Debug, Clone, Serialize)]
pub struct InstalledModule {
    /// Module name.
    pub name: String,
    /// Module version.
    pub version: String,
    /// SHA-256 of the component, hex.
    pub content_hash: String,
    /// The manifest text.
    pub manifest: String,
    /// What `describe` reported, JSON text.
    pub description: String,
    /// Where the component file is kept, relative to the data directory
    /// (`modules/NAME-HASH.wasm`); older installations stored other paths,
    /// which loading still understands.
    pub wasm_path: String,
    /// When it was installed, ms.
    pub installed_at: i64,
}

/// A configured connection to one external system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendInstance {
    /// Instance name, e.g. `acme`.
    pub name: String,
    /// Backend key, e.g. `shop@2.0`.
    pub backend: String,
    /// Params (URL, …).
    pub params: Map<String, Value>,
    /// Created, ms.
    pub created_at: i64,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionRow {
    /// Id.
    pub id: i64,
    /// Module it belongs to.
    pub module: String,
    /// Event name.
    pub event: String,
    /// Models; empty = all.
    pub models: Vec<String>,
    /// Job to enqueue; none = the module's `handle-event`.
    pub job: Option<String>,
    /// Priority of the jobs.
    pub priority: i64,
    /// `manifest` or `runtime`.
    pub source: String,
    /// Watched fields, filter and timed condition (record triggers).
    pub conditions: Conditions,
}

fn subscription(row: &super::DbRow) -> Result<SubscriptionRow> {
    let models: String = row.try_get("models")?;
    let conditions: String = row.try_get("conditions")?;
    Ok(SubscriptionRow {
        id: row.try_get("id")?,
        module: row.try_get("module")?,
        event: row.try_get("event")?,
        models: serde_json::from_str(&models)?,
        job: row.try_get("job")?,
        priority: row.try_get("priority")?,
        source: row.try_get("source")?,
        conditions: serde_json::from_str(&conditions)?,
    })
}

impl Store {
    /// Store a module (replacing one of the same name) and its manifest
    /// subscriptions, in one transaction.
    pub async fn save_module(
        &self,
        m: &InstalledModule,
        subscriptions: &[SubscriptionRow],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM modules WHERE name = $1")
            .bind(&m.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO modules (name, version, content_hash, manifest, description, wasm_path, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.name)
        .bind(&m.version)
        .bind(&m.content_hash)
        .bind(&m.manifest)
        .bind(&m.description)
        .bind(&m.wasm_path)
        .bind(m.installed_at)
        .execute(&mut *tx)
        .await?;
        // Every version is remembered, so that jobs pinned to it can still run.
        sqlx::query(
            "INSERT INTO module_versions (content_hash, name, version, manifest, description, wasm_path, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (content_hash) DO NOTHING",
        )
        .bind(&m.content_hash)
        .bind(&m.name)
        .bind(&m.version)
        .bind(&m.manifest)
        .bind(&m.description)
        .bind(&m.wasm_path)
        .bind(m.installed_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM subscriptions WHERE module = $1 AND source = 'manifest'")
            .bind(&m.name)
            .execute(&mut *tx)
            .await?;
        for s in subscriptions {
            sqlx::query(
                "INSERT INTO subscriptions (module, event, models, job, priority, source, conditions) \
                 VALUES ($1, $2, $3, $4, $5, 'manifest', $6)",
            )
            .bind(&m.name)
            .bind(&s.event)
            .bind(serde_json::to_string(&s.models)?)
            .bind(&s.job)
            .bind(s.priority)
            .bind(serde_json::to_string(&s.conditions)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A fingerprint of the installed modules (names and content hashes):
    /// changes whenever any process installs or replaces a module.
    pub async fn modules_fingerprint(&self) -> Result<String> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, content_hash FROM modules ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .iter()
            .map(|(n, h)| format!("{n}:{h}"))
            .collect::<Vec<_>>()
            .join(","))
    }

    /// Keep the bytes of a component, by content hash (once per hash).
    pub async fn save_module_blob(&self, content_hash: &str, wasm: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO module_blobs (content_hash, wasm) VALUES ($1, $2) ON CONFLICT (content_hash) DO NOTHING",
        )
        .bind(content_hash)
        .bind(wasm.to_vec())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The bytes of a component, by content hash (none for modules installed
    /// before components were kept in the database).
    pub async fn module_blob(&self, content_hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT wasm FROM module_blobs WHERE content_hash = $1")
                .bind(content_hash)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Every installed module.
    pub async fn modules(&self) -> Result<Vec<InstalledModule>> {
        let rows = sqlx::query(
            "SELECT name, version, content_hash, manifest, description, wasm_path, installed_at FROM modules ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(installed_module).collect()
    }

    /// Every version of every module ever installed here, by name, newest first.
    pub async fn module_versions(&self) -> Result<Vec<InstalledModule>> {
        let rows = sqlx::query(
            "SELECT name, version, content_hash, manifest, description, wasm_path, installed_at \
             FROM module_versions ORDER BY name, installed_at DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(installed_module).collect()
    }

    /// A version of a module ever installed here, by content hash.
    pub async fn module_version(&self, content_hash: &str) -> Result<Option<InstalledModule>> {
        let row = sqlx::query(
            "SELECT name, version, content_hash, manifest, description, wasm_path, installed_at \
             FROM module_versions WHERE content_hash = $1",
        )
        .bind(content_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(installed_module).transpose()
    }
}

fn installed_module(r: &super::DbRow) -> Result<InstalledModule> {
    Ok(InstalledModule {
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        content_hash: r.try_get("content_hash")?,
        manifest: r.try_get("manifest")?,
        description: r.try_get("description")?,
        wasm_path: r.try_get("wasm_path")?,
        installed_at: r.try_get("installed_at")?,
    })
}

impl Store {
    /// Add a backend instance.
    pub async fn add_instance(
        &self,
        name: &str,
        backend: &str,
        params: &Map<String, Value>,
    ) -> Result<BackendInstance> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO backend_instances (name, backend, params, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(backend)
        .bind(Value::Object(params.clone()).to_string())
        .bind(now)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "backend instance `{name}` already exists (remove it first with `ferry backend remove {name}`)"
            )));
        }
        Ok(BackendInstance {
            name: name.into(),
            backend: backend.into(),
            params: params.clone(),
            created_at: now,
        })
    }

    /// Remove a backend instance; false if there was none.
    pub async fn remove_instance(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM backend_instances WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One backend instance.
    pub async fn instance(&self, name: &str) -> Result<BackendInstance> {
        self.instances()
            .await?
            .into_iter()
            .find(|i| i.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: "backend instance",
                name: name.into(),
                hint: " (list them with `ferry backend list`)".into(),
            })
    }

    /// Every backend instance.
    pub async fn instances(&self) -> Result<Vec<BackendInstance>> {
        let rows = sqlx::query(
            "SELECT name, backend, params, created_at FROM backend_instances ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let params: String = r.try_get("params")?;
                Ok(BackendInstance {
                    name: r.try_get("name")?,
                    backend: r.try_get("backend")?,
                    params: match serde_json::from_str(&params)? {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    },
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Subscriptions to `event` (all events when `None`).
    pub async fn subscriptions(&self, event: Option<&str>) -> Result<Vec<SubscriptionRow>> {
        let rows = sqlx::query(
            "SELECT id, module, event, models, job, priority, source, conditions FROM subscriptions \
             WHERE ($1 IS NULL OR event = $1) ORDER BY id",
        )
        .bind(event)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(subscription).collect()
    }

    /// Add a runtime subscription of `module`; returns its id.
    pub async fn add_subscription(&self, module: &str, s: &SubscriptionRow) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO subscriptions (module, event, models, job, priority, source, conditions) \
             VALUES ($1, $2, $3, $4, $5, 'runtime', $6) RETURNING id",
        )
        .bind(module)
        .bind(&s.event)
        .bind(serde_json::to_string(&s.models)?)
        .bind(&s.job)
        .bind(s.priority)
        .bind(serde_json::to_string(&s.conditions)?)
        .fetch_one(self.pool())
        .await?)
    }

    /// Replace a subscription of `module`; false if it has none with this id.
    pub async fn replace_subscription(
        &self,
        module: &str,
        id: i64,
        s: &SubscriptionRow,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE subscriptions SET event = $1, models = $2, job = $3, priority = $4, conditions = $5 \
             WHERE id = $6 AND module = $7",
        )
        .bind(&s.event)
        .bind(serde_json::to_string(&s.models)?)
        .bind(&s.job)
        .bind(s.priority)
        .bind(serde_json::to_string(&s.conditions)?)
        .bind(id)
        .bind(module)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Remove a subscription of `module`; false if it has none with this id.
    pub async fn remove_subscription(&self, module: &str, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM subscriptions WHERE id = $1 AND module = $2")
            .bind(id)
            .bind(module)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
