//! `ferry:connector/events`: custom events and runtime subscriptions.

use super::{HostState, WitResult, parse_json};
use crate::bindings::events::{self, Subscription};
use crate::bindings::types;
use crate::events::RecordEvent;
use crate::store::SubscriptionRow;

impl HostState {
    fn subscription_row(&self, sub: Subscription) -> Result<SubscriptionRow, types::Error> {
        let scope = self.scope()?;
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
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            let payload = parse_json(&payload, &format!("event {name}"))?;
            let event = RecordEvent::custom(&name, &model, record_id.map(|id| id as i64), payload);
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
