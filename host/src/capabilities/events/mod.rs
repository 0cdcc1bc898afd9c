//! `ferry:connector/events`: custom events and runtime subscriptions.

use super::{HostState, WitResult, denied, final_error, parse_json};
use crate::bindings::events::{self, Subscription};
use crate::bindings::types;
use crate::events::{Emitter, RecordEvent};
use crate::invoke::Produced;
use crate::manifest::{RECORD_EVENT_PREFIX, is_record_event, valid_name};
use crate::store::SubscriptionRow;

impl HostState {
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
        let scope = self.scope()?;
        let declared = self
            .module_backend
            .as_ref()
            .and_then(|at| scope.registry.module_at(at))
            .map(|m| m.description.events.clone())
            .unwrap_or_default();
        if !declared.iter().any(|e| e == name) {
            return Err(denied(format!(
                "event `{name}` is not one module `{}` declares (it declares: {}); declare it with \
                 `Connector::emits(\"{name}\")`",
                self.module,
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
        let scope = self.scope()?;
        if !valid_name(&sub.event) || sub.models.iter().any(|m| m != "*" && !valid_name(m)) {
            return Err(final_error(format!(
                "subscription to {:?} on {:?}: event and model names are letters, digits, `.`, `-` \
                 and `_` only, 64 at most",
                sub.event, sub.models
            )));
        }
        if let Some(job) = &sub.job {
            scope.registry.resolve_job(&scope.instance_key, job)?;
        }
        Ok(SubscriptionRow {
            id: 0,
            module: self.module.clone(),
            event: sub.event,
            models: sub.models,
            job: sub.job,
            priority: i64::from(sub.priority),
            source: "runtime".into(),
            conditions: Default::default(),
        })
    }
}

impl events::Host for HostState {
    async fn emit(
        &mut self,
        name: String,
        model: String,
        record_id: Option<u64>,
        payload: String,
    ) -> WitResult<()> {
        let (scope, checked) = (self.scope(), self.check_emit(&name, &model));
        let module = self.module.clone();
        Ok(async move {
            let scope = scope?;
            checked?;
            scope.charge(Produced::Events)?;
            scope.check_payload(&format!("payload of event {name}"), &payload)?;
            let payload = parse_json(&payload, &format!("event {name}"))?;
            let emitter = Emitter {
                instance: scope.instance.name.clone(),
                module,
            };
            let id = record_id.map(super::record_id).transpose()?;
            let event = RecordEvent::custom(&name, &model, id, payload, emitter);
            scope.fire(event).await?;
            Ok(())
        }
        .await)
    }

    async fn subscribe(&mut self, sub: Subscription) -> WitResult<u64> {
        let (scope, row, module) = (
            self.scope(),
            self.subscription_row(sub),
            self.module.clone(),
        );
        Ok(async move {
            let (scope, row) = (scope?, row?);
            Ok(scope.store.add_subscription(&module, &row).await? as u64)
        }
        .await)
    }

    async fn replace(&mut self, id: u64, sub: Subscription) -> WitResult<()> {
        let (scope, row, module) = (
            self.scope(),
            self.subscription_row(sub),
            self.module.clone(),
        );
        Ok(async move {
            let (scope, row) = (scope?, row?);
            let replaced = scope
                .store
                .replace_subscription(&module, id as i64, &row)
                .await?;
            if replaced {
                Ok(())
            } else {
                Err(crate::Error::not_found("subscription of this module", id.to_string()).into())
            }
        }
        .await)
    }

    async fn unsubscribe(&mut self, id: u64) -> WitResult<bool> {
        let (scope, module) = (self.scope(), self.module.clone());
        Ok(async move { Ok(scope?.store.remove_subscription(&module, id as i64).await?) }.await)
    }
}
