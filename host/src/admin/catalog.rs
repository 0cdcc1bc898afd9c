//! What is installed and scheduled, through [`Admin`]: modules with every
//! kept version (`GET /api/modules`), cron schedules per instance
//! (`GET /api/cron`), records flagged for review (`GET /api/checkpoints`,
//! `DELETE …`) and links (`GET /api/links`).

use super::Admin;
use super::views::{Cleared, CronSchedule, InstanceQuery, MAX_LINKS, ModuleInfo, ModuleVersion};
use crate::Ferry;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::store::{Checkpoint, LinkFilter, LinkRow, now_ms};

impl Admin {
    /// Installed modules, by name, each with every version kept.
    pub async fn modules(&self) -> Result<Vec<ModuleInfo>> {
        match self {
            Admin::Local(ferry) => modules(ferry).await,
            Admin::Remote(r) => r.get(&["api", "modules"]).await,
        }
    }

    /// Cron schedules in effect, per backend instance (`instance`: only its).
    pub async fn cron_schedules(&self, instance: Option<&str>) -> Result<Vec<CronSchedule>> {
        match self {
            Admin::Local(ferry) => cron_schedules(ferry, instance).await,
            Admin::Remote(r) => {
                let query = InstanceQuery {
                    instance: instance.map(String::from),
                };
                r.get_with(&["api", "cron"], &query).await
            }
        }
    }

    /// Records flagged for review, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        match self {
            Admin::Local(ferry) => ferry.store().checkpoints().await,
            Admin::Remote(r) => r.get(&["api", "checkpoints"]).await,
        }
    }

    /// Clear checkpoint `id` (not found if there is none), or all of them.
    pub async fn clear_checkpoints(&self, id: Option<i64>) -> Result<Cleared> {
        match self {
            Admin::Local(ferry) => {
                let cleared = ferry.store().clear_checkpoints(id).await?;
                match id {
                    Some(id) if cleared == 0 => Err(Error::not_found("checkpoint", id.to_string())),
                    _ => Ok(Cleared { cleared }),
                }
            }
            Admin::Remote(r) => match id {
                Some(id) => r.delete(&["api", "checkpoints", &id.to_string()]).await,
                None => r.delete(&["api", "checkpoints"]).await,
            },
        }
    }

    /// Links of local records to external ids matching `filter`.
    pub async fn links(&self, filter: &LinkFilter) -> Result<Vec<LinkRow>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_LINKS);
                ferry.store().links(&filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "links"], filter).await,
        }
    }
}

/// The backend keys a stored manifest declares (none if it no longer parses).
fn backends(manifest: &str) -> Vec<String> {
    Manifest::parse(manifest)
        .map(|m| m.backends.iter().map(|b| b.key().to_string()).collect())
        .unwrap_or_default()
}

async fn modules(ferry: &Ferry) -> Result<Vec<ModuleInfo>> {
    let store = ferry.store();
    let versions = store.module_versions().await?;
    Ok(store
        .modules()
        .await?
        .into_iter()
        .map(|m| {
            let kept = versions
                .iter()
                .filter(|v| v.name == m.name)
                .map(|v| ModuleVersion {
                    version: v.version.clone(),
                    content_hash: v.content_hash.clone(),
                    backends: backends(&v.manifest),
                    installed_at: v.installed_at,
                    current: v.content_hash == m.content_hash,
                })
                .collect();
            ModuleInfo {
                backends: backends(&m.manifest),
                name: m.name,
                version: m.version,
                content_hash: m.content_hash,
                installed_at: m.installed_at,
                versions: kept,
            }
        })
        .collect())
}

async fn cron_schedules(ferry: &Ferry, instance: Option<&str>) -> Result<Vec<CronSchedule>> {
    if let Some(name) = instance {
        ferry.store().instance(name).await?;
    }
    let entries =
        crate::triggers::cron::list(ferry.store(), &ferry.registry(), instance, now_ms()).await?;
    Ok(entries.into_iter().map(CronSchedule::from).collect())
}

impl From<crate::triggers::cron::CronEntry> for CronSchedule {
    fn from(e: crate::triggers::cron::CronEntry) -> Self {
        CronSchedule {
            instance: e.instance,
            name: e.name,
            module: e.module,
            job: e.job,
            declared: e.declared,
            schedule: e.schedule,
            overridden: e.overridden,
            profile: e.profile,
            last_tick: e.last_tick,
            last_job: e.last_job,
            next_tick: e.next_tick,
        }
    }
}
