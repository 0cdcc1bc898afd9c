//! The generic binder unit, over the host's links.

use super::payload::{id_field, local_id_field};
use crate::unit::Unit;
use crate::{Binder, Context, Error, Result};
use serde_json::{Value, json};

/// The `binder` unit of a model, over the host's links.
pub struct LinkBinder {
    model: String,
}

impl LinkBinder {
    /// The binder of `model`.
    pub fn new(model: &str) -> Self {
        LinkBinder {
            model: model.to_string(),
        }
    }
}

impl Unit for LinkBinder {
    fn methods(&self) -> Vec<String> {
        vec!["to_local".into(), "to_external".into(), "bind".into()]
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        let binder = Binder::new(ctx, &self.model);
        match method {
            "to_local" => {
                Ok(json!({ "local_id": binder.to_local(&id_field(&payload, "external_id")?)? }))
            }
            "to_external" => Ok(
                json!({ "external_id": binder.to_external(local_id_field(&payload, "local_id")?)? }),
            ),
            "bind" => {
                let link = binder.bind(
                    local_id_field(&payload, "local_id")?,
                    &id_field(&payload, "external_id")?,
                    payload.get("data"),
                )?;
                Ok(link.to_json())
            }
            other => Err(Error::not_found(format!("binder has no method `{other}`"))),
        }
    }
}
