//! `ferry:connector/units`: one module calls a unit through the host, looked up
//! along the backend chain; each call runs in a fresh instance of the module
//! that answers.

use super::{HostState, WitResult};
use crate::bindings::{types, units};
use crate::invoke::{self, UnitCall};

impl HostState {
    async fn call_from(&mut self, from_parent: bool, call: UnitCall) -> WitResult<String> {
        let scope = match self.scope() {
            Ok(scope) => scope,
            Err(e) => return Ok(Err(e)),
        };
        let start = if from_parent {
            let here = self
                .module_backend
                .clone()
                .unwrap_or_else(|| scope.instance_key.clone());
            match scope.registry.parent(&here) {
                Some(parent) => parent.clone(),
                None => {
                    return Ok(Err(types::Error {
                        kind: types::ErrorKind::NotFound,
                        message: format!(
                            "module `{}` (backend `{here}`) has no parent backend to call",
                            self.module
                        ),
                        retry_after_ms: None,
                    }));
                }
            }
        } else {
            scope.instance_key.clone()
        };
        invoke::call_unit(scope, start, self.depth + 1, call).await
    }
}

impl units::Host for HostState {
    async fn call(
        &mut self,
        kind: String,
        model: String,
        method: String,
        payload: String,
    ) -> WitResult<String> {
        self.call_from(
            false,
            UnitCall {
                kind,
                model,
                method,
                payload,
            },
        )
        .await
    }

    async fn call_parent(
        &mut self,
        kind: String,
        model: String,
        method: String,
        payload: String,
    ) -> WitResult<String> {
        self.call_from(
            true,
            UnitCall {
                kind,
                model,
                method,
                payload,
            },
        )
        .await
    }
}
