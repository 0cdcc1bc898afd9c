//! `ferry:connector/secrets`: revealed secrets. A guest may read the value of
//! a secret only when its module's manifest lists the name in
//! `[capabilities] reveal`, and only of the backend instance its call runs for
//! (the call takes no instance: there is no way to name another). The value is
//! opened in the run's `Vault` (`crate::secrets`), so it is redacted
//! from everything the run leaves behind; every reveal and every refused
//! attempt is written to the audit log ([`crate::audit`]) before the guest
//! gets an answer.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::RunContext;
use super::wit::{WitResult, final_error};
use crate::audit;
use crate::bindings::{secrets, types};
use crate::engine::config::EngineConfig;
use crate::secrets::Vault;
use crate::store::{BackendInstance, Store};
use std::path::PathBuf;
use wasmtime::component::Linker;

/// Reveals one run may ask for: enough for any real use, few enough that a
/// guest asking in a loop cannot flood the audit log.
pub const MAX_REVEALS: u32 = 100;

/// Secrets: reveals of the names a module's manifest lists. The run's
/// vault is opened here (`Secrets::vault`) and kept in the
/// [`RunContext`]: every part of the run redacts with it (log lines,
/// transmissions, the result), and sealed credentials of `http` read it.
pub struct Secrets;

/// Where the master key of the instances' secrets is.
#[derive(Debug, Clone)]
pub struct SecretsConfig {
    /// The key file (used when `FERRY_MASTER_KEY` is not set); none means
    /// that no secret can be opened.
    key_file: Option<PathBuf>,
}

impl Secrets {
    /// The vault of `instance`'s secrets for one run (opened lazily).
    pub(crate) fn vault(
        config: &SecretsConfig,
        store: &Store,
        instance: &BackendInstance,
    ) -> Vault {
        Vault::new(
            store.clone(),
            instance.name.clone(),
            config.key_file.clone(),
        )
    }
}

impl Capability for Secrets {
    type Config = SecretsConfig;
    type RunState = ();
    /// The names the module's manifest lists in `[capabilities] reveal`.
    type State = Vec<String>;

    fn config(engine: &EngineConfig, _store: &Store) -> SecretsConfig {
        SecretsConfig {
            key_file: engine.secret_key_file.clone(),
        }
    }

    fn run_state(_config: &SecretsConfig, _run: &RunContext) {}

    fn state(setup: &mut Setup<'_, Self>) -> Vec<String> {
        setup.manifest.map(|m| m.reveal.clone()).unwrap_or_default()
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        secrets::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

fn error(kind: types::ErrorKind, message: String) -> types::Error {
    types::Error {
        kind,
        message,
        retry_after_ms: None,
    }
}

impl secrets::Host for View<'_, Secrets> {
    async fn reveal(&mut self, name: String) -> WitResult<String> {
        let listed = self.state.contains(&name);
        let module = self.module().to_string();
        self.with_run(async move |run| reveal(&run, &module, listed, &name).await)
            .await
    }
}

/// Reveal secret `name` of the scope's instance to `module`, if its manifest
/// lists it (`listed`), writing the audit entry first.
async fn reveal(
    scope: &RunContext,
    module: &str,
    listed: bool,
    name: &str,
) -> Result<String, types::Error> {
    let count = scope.vault.count_reveal();
    if count > MAX_REVEALS {
        return Err(final_error(format!(
            "more than {MAX_REVEALS} secret reveals in one run"
        )));
    }
    let instance = scope.vault.instance();
    let (actor, job_id) = match &scope.job {
        Some(job) => (audit::job(job.id), Some(job.id)),
        None => (audit::run(&scope.user), None),
    };
    // A name no manifest could list is still audited, cut to a name's length.
    let subject: String = name.chars().take(64).collect();
    let write = async |action: &str, detail: String| {
        let mut entry = audit::entry(&actor, action, instance, &subject);
        entry.job_id = job_id;
        entry.detail = Some(detail);
        audit::record(&scope.store, &entry).await.map_err(|e| {
            // A database that is down is worth a retry; a name it cannot
            // store (a NUL byte on PostgreSQL) fails on every try.
            let kind = match e.is_transient() {
                true => types::ErrorKind::Retryable,
                false => types::ErrorKind::Final,
            };
            error(
                kind,
                format!(
                    "secret `{subject}`: the audit log cannot be written ({e}); nothing revealed"
                ),
            )
        })
    };
    if !listed {
        write(
            audit::REVEAL_DENIED,
            format!("module `{module}` does not list it in [capabilities] reveal"),
        )
        .await?;
        return Err(error(
            types::ErrorKind::Denied,
            format!(
                "secret `{subject}` is not revealed to module `{module}`: its manifest must list \
                 it in `[capabilities] reveal = [\"{subject}\"]` (when the value only goes into \
                 requests, a sealed credential, `[[capabilities.credential]]`, keeps it out of \
                 the guest)"
            ),
        ));
    }
    match scope.vault.get(name).await {
        Ok(Some(value)) => {
            write(audit::REVEAL, format!("module `{module}`")).await?;
            Ok(value)
        }
        Ok(None) => {
            write(audit::REVEAL_FAILED, format!("module `{module}`: not set")).await?;
            Err(error(types::ErrorKind::NotFound, scope.vault.not_set(name)))
        }
        Err(e) => {
            write(audit::REVEAL_FAILED, format!("module `{module}`: {e}")).await?;
            Err(final_error(format!("secret `{name}`: {e}")))
        }
    }
}
