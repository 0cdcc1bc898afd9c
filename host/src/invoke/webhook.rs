//! A module's `handle-webhook`, called at once (not from a queued job) in a
//! fresh instance, as a job run is: same limits, same host APIs.

use super::Failure;
use super::instance::with_instance;
use crate::backend::Resolved;
use crate::bindings::guest::{WebhookRequest, WebhookResponse};
use crate::capabilities::session::SessionState;
use crate::invoke::CallScope;
use std::sync::Arc;

/// How a webhook call ended.
#[derive(Debug)]
pub enum WebhookOutcome {
    /// The guest answered.
    Answered(WebhookResponse),
    /// The guest returned an error (its kind says which).
    Failed(Failure),
    /// The guest did not return: it trapped (panic, memory, time budget) or
    /// could not be instantiated.
    Trapped(Failure),
}

/// Call `hook` of the module `resolved` in `scope`.
pub(crate) async fn handle_webhook(
    scope: &Arc<CallScope>,
    resolved: &Resolved,
    hook: &str,
    request: &WebhookRequest,
) -> WebhookOutcome {
    // The guest's own error is kept inside the value, so that what comes back
    // as a `Failure` can only be a trap.
    let result = with_instance(scope, resolved, 0, async |store, connector| {
        let session = store.data_mut().table.push(SessionState::default())?;
        let answer = connector
            .handle_webhook(store, session, hook, request)
            .await?;
        Ok(Ok(answer))
    })
    .await;
    match result {
        Ok(Ok(answer)) => WebhookOutcome::Answered(answer),
        Ok(Err(error)) => WebhookOutcome::Failed(Failure::from_wit(error)),
        Err(trap) => WebhookOutcome::Trapped(trap),
    }
}
