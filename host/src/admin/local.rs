//! The operations of [`super::Admin`] on the store of this installation.

use super::types::{
    ActionResult, ChainLink, Done, Health, HookInfo, InstanceInfo, JobAction, JobDetail, JobInfo,
    NewInstance, SecretName, Snooze, StepInfo, StepWarnings,
};
use crate::Ferry;
use crate::backend::BackendKey;
use crate::error::{Error, Result};
use crate::manifest::WebhookAuth;
use crate::secrets::{self, MasterKey};
use crate::store::{BackendInstance, JobFilter, JobState};
use crate::triggers::{button, webhook};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Most jobs one list returns, whatever was asked.
pub const MAX_LIST: u32 = 1_000;

/// Words that mark a param as secret even when no manifest says so.
const SECRET_WORDS: [&str; 5] = ["secret", "token", "password", "api_key", "apikey"];

pub(super) async fn health(ferry: &Ferry) -> Result<Health> {
    let mut jobs = BTreeMap::new();
    for state in [
        JobState::Pending,
        JobState::Enqueued,
        JobState::Started,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Paused,
    ] {
        jobs.insert(
            state.as_str().to_string(),
            ferry.store().count_jobs(state).await?,
        );
    }
    Ok(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        jobs,
    })
}

pub(super) async fn list_jobs(ferry: &Ferry, filter: &JobFilter) -> Result<Vec<JobInfo>> {
    let mut filter = filter.clone();
    filter.limit = filter.limit.min(MAX_LIST);
    ferry.store().list_jobs(&filter).await
}

pub(super) async fn job(ferry: &Ferry, id: i64) -> Result<JobDetail> {
    let job = ferry.store().job(id).await?;
    let snooze = ferry
        .store()
        .snoozes()
        .await?
        .into_iter()
        .find(|(instance, _, _)| *instance == job.instance)
        .map(|(instance, until, reason)| Snooze {
            instance,
            until,
            reason,
        });
    Ok(JobDetail {
        logs: ferry.store().job_logs(id).await?,
        dependencies: ferry.store().job_dependencies(id).await?,
        job,
        snooze,
    })
}

pub(super) async fn act(ferry: &Ferry, id: i64, action: JobAction) -> Result<ActionResult> {
    let store = ferry.store();
    let (mut was, mut was_due) = (None, None);
    let state = match action {
        JobAction::Requeue => {
            let before = store.requeue_job(id).await?;
            let pending = before.state == JobState::Pending;
            (was, was_due) = (Some(before.state), before.eta.filter(|_| pending));
            JobState::Pending
        }
        JobAction::Cancel => {
            store.cancel_job(id).await?;
            JobState::Cancelled
        }
        JobAction::Stop => store.stop_job(id).await?,
        JobAction::Done => {
            store.set_job_done(id, None).await?;
            JobState::Done
        }
        JobAction::Pause => store.pause_job(id).await?,
        JobAction::Resume => store.resume_job(id).await?,
    };
    Ok(ActionResult {
        id,
        action,
        state,
        was,
        was_due,
    })
}

pub(super) async fn instances(ferry: &Ferry) -> Result<Vec<InstanceInfo>> {
    let all = ferry.store().instances().await?;
    let set = ferry.store().secret_names(None).await?;
    all.into_iter()
        .map(|i| {
            let secrets = set_for(&set, &i.name);
            describe(ferry, i, &secrets)
        })
        .collect()
}

pub(super) async fn instance(ferry: &Ferry, name: &str) -> Result<InstanceInfo> {
    let instance = ferry.store().instance(name).await?;
    let set = ferry.store().secret_names(Some(name)).await?;
    describe(ferry, instance, &set_for(&set, name))
}

/// The names of the secrets set for `instance`, out of `(instance, name)` pairs.
fn set_for(pairs: &[(String, String)], instance: &str) -> BTreeSet<String> {
    pairs
        .iter()
        .filter(|(i, _)| i == instance)
        .map(|(_, name)| name.clone())
        .collect()
}

pub(super) async fn add_instance(ferry: &Ferry, new: &NewInstance) -> Result<InstanceInfo> {
    let instance = ferry
        .add_instance(&new.name, &new.backend, new.params.clone())
        .await?;
    describe(ferry, instance, &BTreeSet::new())
}

pub(super) async fn remove_instance(ferry: &Ferry, name: &str) -> Result<Done> {
    if ferry.store().remove_instance(name).await? {
        Ok(Done { done: true })
    } else {
        Err(Error::not_found("backend instance", name))
    }
}

pub(super) async fn secrets(ferry: &Ferry, instance: Option<&str>) -> Result<Vec<SecretName>> {
    if let Some(name) = instance {
        ferry.store().instance(name).await?;
    }
    let names = secrets::list(ferry.store(), instance).await?;
    Ok(names
        .into_iter()
        .map(|(instance, secret)| SecretName { instance, secret })
        .collect())
}

pub(super) async fn set_secret(
    ferry: &Ferry,
    instance: &str,
    name: &str,
    value: &str,
    actor: &str,
) -> Result<Done> {
    let key = MasterKey::load(&secrets::key_file(ferry.data_dir()))?;
    secrets::set(ferry.store(), &key, instance, name, value, actor).await?;
    Ok(Done { done: true })
}

pub(super) async fn remove_secret(
    ferry: &Ferry,
    instance: &str,
    name: &str,
    actor: &str,
) -> Result<Done> {
    secrets::remove(ferry.store(), instance, name, actor).await?;
    Ok(Done { done: true })
}

/// An instance with its chain, webhooks and buttons; secrets hidden.
/// `secrets_set`: the names of the instance's secrets that are set.
fn describe(
    ferry: &Ferry,
    instance: BackendInstance,
    secrets_set: &BTreeSet<String>,
) -> Result<InstanceInfo> {
    let registry = ferry.registry();
    let key = BackendKey::parse(&instance.backend).map_err(Error::Invalid)?;
    let mut chain = Vec::new();
    let mut webhooks: Vec<HookInfo> = Vec::new();
    let mut secrets = BTreeSet::new();
    for at in registry.chain(&key) {
        let module = registry.module_at(&at);
        chain.push(ChainLink {
            backend: at.to_string(),
            module: module.map(|m| m.name().to_string()),
        });
        let Some(module) = module else { continue };
        secrets.extend(module.manifest.capabilities.secrets.iter().cloned());
        for hook in &module.manifest.webhooks {
            secrets.extend(hook.secret_param.iter().cloned());
            if webhooks.iter().any(|w| w.name == hook.name) {
                continue;
            }
            webhooks.push(HookInfo {
                name: hook.name.clone(),
                module: module.name().to_string(),
                path: format!("/hooks/{}/{}", instance.name, hook.name),
                auth: hook.auth,
                content: hook.content,
                configured: hook.auth == WebhookAuth::None
                    || hook
                        .secret
                        .as_ref()
                        .is_some_and(|s| secrets_set.contains(s))
                    || webhook::param_secret(&instance.params, hook).is_some(),
                description: hook.description.clone(),
            });
        }
    }
    let buttons = button::buttons(&ferry.registry(), &instance.backend)?;
    let mut params = instance.params;
    for (name, value) in params.iter_mut() {
        let lower = name.to_ascii_lowercase();
        let secret = secrets.contains(name) || SECRET_WORDS.iter().any(|word| lower.contains(word));
        if secret && value.as_str().is_some_and(|s| !s.is_empty()) {
            *value = Value::from("***");
        }
    }
    Ok(InstanceInfo {
        name: instance.name,
        backend: instance.backend,
        params,
        created_at: instance.created_at,
        chain,
        webhooks,
        buttons,
    })
}

pub(super) async fn job_steps(ferry: &Ferry, id: i64) -> Result<Vec<StepInfo>> {
    ferry.store().job(id).await?;
    ferry.store().job_steps(id).await
}

pub(super) async fn job_warnings(ferry: &Ferry, id: i64, limit: u32) -> Result<StepWarnings> {
    let store = ferry.store();
    store.job(id).await?;
    let (kept, dropped) = store.count_step_warnings(id).await?;
    Ok(StepWarnings {
        job: id,
        warnings: store.step_warnings(id, limit.min(MAX_LIST)).await?,
        kept,
        dropped,
    })
}
