//! `ferry:connector/events`: custom events and runtime subscriptions.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{Produced, RunContext};
use super::wit::{WitResult, denied, final_error, parse_json, record_id};
use crate::bindings::events::{self, Subscription};
use crate::bindings::types;
use crate::engine::config::EngineConfig;
use crate::events::{Emitter, RecordEvent};
use crate::manifest::{RECORD_EVENT_PREFIX, is_record_event, valid_name};
use crate::store::{Store, SubscriptionRow};
use wasmtime::component::Linker;

/// Events: custom events a module declares, and runtime subscriptions. No
/// state of its own: what a module declares is in the run's registry.
pub struct Events;

impl Capability for Events {
    type Config = ();
    type RunState = ();
    type State = ();

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) {}

    fn state(_setup: &mut Setup<'_, Self>) {}

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        events::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

impl View<'_, Events> {
    /// Whether this module may emit event `name` on `model`: never a
    /// `record.*` event (the host fires those, after local writes), and only
    /// the custom events it declares (`Connector::emits`).
    fn check_emit(&self, name: &str, model: &str) -> Result<(), types::Error> {
        if is_record_event(name) {
            return Err(denied(format!(
                "event `{name}`: only the host fires `{RECORD_EVENT_PREFIX}*` events (they follow local \
                 writes through the session); emit a custom event of your own instead"
            )));
        }
        if !valid_name(name) {
            return Err(final_error(format!(
                "event name {name:?}: letters, digits, `.`, `-` and `_` only, 64 at most"
            )));
        }
        if !model.is_empty() && !valid_name(model) {
            return Err(final_error(format!(
                "event `{name}`: model name {model:?}: letters, digits, `.`, `-` and `_` only, 64 at most"
            )));
        }
        let run = self.run()?;
        let declared = self
            .instance
            .module_backend
            .as_ref()
            .and_then(|at| run.registry.module_at(at))
            .map(|m| m.description.events.clone())
            .unwrap_or_default();
        if !declared.iter().any(|e| e == name) {
            return Err(denied(format!(
                "event `{name}` is not one module `{}` declares (it declares: {}); declare it with \
                 `Connector::emits(\"{name}\")`",
                self.module(),
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            )));
        }
        Ok(())
    }

    fn subscription_row(&self, sub: Subscription) -> Result<SubscriptionRow, types::Error> {
        let run = self.run()?;
        if !valid_name(&sub.event) || sub.models.iter().any(|m| m != "*" && !valid_name(m)) {
            return Err(final_error(format!(
                "subscription to {:?} on {:?}: event and model names are letters, digits, `.`, `-` \
                 and `_` only, 64 at most",
                sub.event, sub.models
            )));
        }
        if let Some(job) = &sub.job {
            run.registry.resolve_job(&run.instance_key, job)?;
        }
        Ok(SubscriptionRow {
            id: 0,
            module: self.module().to_string(),
            event: sub.event,
            models: sub.models,
            job: sub.job,
            priority: i64::from(sub.priority),
            source: "runtime".into(),
            conditions: Default::default(),
        })
    }
}

impl events::Host for View<'_, Events> {
    async fn emit(
        &mut self,
        name: String,
        model: String,
        id: Option<u64>,
        payload: String,
    ) -> WitResult<()> {
        let checked = self.check_emit(&name, &model);
        let module = self.module().to_string();
        self.with_run(async move |run| {
            checked?;
            run.charge(Produced::Events)?;
            run.check_payload(&format!("payload of event {name}"), &payload)?;
            let payload = parse_json(&payload, &format!("event {name}"))?;
            let emitter = Emitter {
                instance: run.instance.name.clone(),
                module,
            };
            let id = id.map(record_id).transpose()?;
            let event = RecordEvent::custom(&name, &model, id, payload, emitter);
            run.fire(event).await?;
            Ok(())
        })
        .await
    }

    async fn subscribe(&mut self, sub: Subscription) -> WitResult<u64> {
        let (row, module) = (self.subscription_row(sub), self.module().to_string());
        self.with_run(async move |run| Ok(run.store.add_subscription(&module, &row?).await? as u64))
            .await
    }

    async fn replace(&mut self, id: u64, sub: Subscription) -> WitResult<()> {
        let (row, module) = (self.subscription_row(sub), self.module().to_string());
        self.with_run(async move |run| {
            let replaced = run
                .store
                .replace_subscription(&module, id as i64, &row?)
                .await?;
            if replaced {
                Ok(())
            } else {
                Err(
                    crate::error::Error::not_found("subscription of this module", id.to_string())
                        .into(),
                )
            }
        })
        .await
    }

    async fn unsubscribe(&mut self, id: u64) -> WitResult<bool> {
        let module = self.module().to_string();
        self.with_run(async move |run| {
            Ok(run.store.remove_subscription(&module, id as i64).await?)
        })
        .await
    }
}
