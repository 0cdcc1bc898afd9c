//! Webhook trigger: a call to `POST /hooks/{instance}/{hook}` is checked here
//! (size, authentication, content) and, if it passes, answered at once by the
//! module that declares the hook along the instance's backend chain.
//!
//! Nothing here knows about the HTTP server: the checks of a call and of the
//! guest's answer are pure functions of plain data, in
//! [`ferry_manifest::webhook_call`] (a fuzz target calls them without the
//! runtime), and [`call`] takes a plain [`Request`]. A refused call never
//! reaches the guest, so it cannot enqueue anything.

use crate::Ferry;
use crate::backend::{BackendKey, Resolved};
use crate::bindings::guest;
use crate::error::Error;
use crate::error::FailureKind;
use crate::invoke::{self, Failure, WebhookOutcome};
use crate::manifest::{WebhookAuth, WebhookDecl};
use crate::secrets;
use crate::store::Store;
use serde_json::{Map, Value};
use std::path::Path;

pub use ferry_manifest::webhook_call::{
    Answer, DEFAULT_MAX_BODY, GuestAnswer, Refusal, Request, answer_of, check, param_secret,
    too_large,
};

/// The secret of `hook` for backend instance `instance` (with these params):
/// its sealed secret (`secret`), opened with the master key of `key_file`, or
/// the param it names (`secret_param`); none when it is not set.
pub async fn secret_for(
    store: &Store,
    key_file: Option<&Path>,
    instance: &str,
    params: &Map<String, Value>,
    hook: &WebhookDecl,
) -> crate::Result<Option<String>> {
    if let Some(name) = &hook.secret {
        return secrets::open_one(store, key_file, instance, name).await;
    }
    Ok(param_secret(params, hook))
}

/// Where a hook of an instance is implemented: the first module along the
/// instance's backend chain that declares it.
fn find_hook(ferry: &Ferry, backend: &str, hook: &str) -> Option<(Resolved, WebhookDecl)> {
    let registry = ferry.registry();
    let key = BackendKey::parse(backend).ok()?;
    registry.chain(&key).into_iter().find_map(|at| {
        let module = registry.module_at(&at)?;
        let decl = module.manifest.webhooks.iter().find(|w| w.name == hook)?;
        Some((
            Resolved {
                module: module.clone(),
                at,
            },
            decl.clone(),
        ))
    })
}

/// Handle a call to `hook` of backend instance `instance`: check it, then let
/// the module answer. Every refusal happens before the guest runs.
pub async fn call(
    ferry: &Ferry,
    instance: &str,
    hook: &str,
    mut request: Request,
    max_body: usize,
) -> Result<Answer, Refusal> {
    let backend_instance = match ferry.store().instance(instance).await {
        Ok(i) => i,
        Err(Error::NotFound { .. }) => {
            return Err(Refusal::new(
                404,
                format!("no backend instance `{instance}`"),
            ));
        }
        Err(e) => return Err(Refusal::new(500, e.to_string())),
    };
    let Some((resolved, decl)) = find_hook(ferry, &backend_instance.backend, hook) else {
        return Err(Refusal::new(
            404,
            format!(
                "backend instance `{instance}` ({}) has no webhook `{hook}`",
                backend_instance.backend
            ),
        ));
    };
    let scope = ferry
        .scope(backend_instance, &format!("webhook:{hook}"), None)
        .await
        .map_err(|e| Refusal::new(503, format!("webhook `{hook}` cannot run: {e}")))?;
    let key_file = ferry.engine().config().secret_key_file.clone();
    let secret = secret_for(
        ferry.store(),
        key_file.as_deref(),
        instance,
        &scope.params,
        &decl,
    )
    .await
    .map_err(|e| {
        tracing::error!(instance, hook, "webhook secret: {e}");
        Refusal::new(
            503,
            format!("webhook `{hook}` cannot check its callers: {e}"),
        )
    })?;
    check(&decl, secret.as_deref(), &request, max_body)?;
    // The proof of who called is the host's business, not the guest's.
    if decl.auth != WebhookAuth::None {
        let header = decl.header_name();
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&header));
    }
    let wit_request = guest::WebhookRequest {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
    };
    let module = resolved.module.name().to_string();
    match invoke::handle_webhook(&scope, &resolved, hook, &wit_request).await {
        WebhookOutcome::Answered(answer) => answer_of(guest_answer(answer), &module),
        WebhookOutcome::Failed(failure) => Err(refusal_of_error(failure, &module, hook)),
        WebhookOutcome::Trapped(failure) => {
            tracing::warn!(
                instance,
                hook,
                module,
                "webhook trapped: {}",
                failure.message
            );
            let status = if failure.is_retryable() { 503 } else { 500 };
            let mut refusal = Refusal::new(
                status,
                format!(
                    "webhook `{hook}` of module `{module}` failed: {}",
                    first_line(&failure.message)
                ),
            );
            refusal.retry_after_secs = failure.retry_after_ms.map(|ms| ms.div_ceil(1000));
            Err(refusal)
        }
    }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

/// A guest error as the caller sees it.
fn refusal_of_error(failure: Failure, module: &str, hook: &str) -> Refusal {
    let status = match failure.kind {
        FailureKind::NotFound => 404,
        FailureKind::Denied => 403,
        FailureKind::Retryable => 503,
        FailureKind::Final => 422,
    };
    tracing::info!(
        hook,
        module,
        status,
        "webhook refused by the guest: {}",
        failure.message
    );
    Refusal {
        status,
        reason: failure.message,
        retry_after_secs: failure
            .retry_after_ms
            .filter(|_| status == 503)
            .map(|ms| ms.div_ceil(1000)),
    }
}

/// The guest's WIT answer as plain data, for [`answer_of`] to check.
fn guest_answer(answer: guest::WebhookResponse) -> GuestAnswer {
    GuestAnswer {
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
    }
}
