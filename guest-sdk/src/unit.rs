//! Units: pluggable pieces with one responsibility, registered per model.

use crate::{Context, Result};
use serde_json::Value;

/// Standard unit kinds (any other string is a custom kind).
pub mod kind {
    /// Turns external records into local values and back.
    pub const MAPPER: &str = "mapper";
    /// Speaks the external system's protocol (`search`, `read`, `create`,
    /// `find`, `write`, `delete`; see [`crate::generic`] for their payloads).
    pub const ADAPTER: &str = "adapter";
    /// Keeps the links between local and external ids.
    pub const BINDER: &str = "binder";
    /// Imports one external record.
    pub const IMPORTER: &str = "importer";
    /// Exports one local record.
    pub const EXPORTER: &str = "exporter";
    /// Deletes a record on the other side.
    pub const DELETER: &str = "deleter";
}

/// A unit: answers named methods with JSON in, JSON out.
///
/// Other modules reach it through the host (`Context::call`), so a child module
/// can override one unit and inherit the rest from its parent.
pub trait Unit: Send + Sync {
    /// The methods it answers (shown by `describe`).
    fn methods(&self) -> Vec<String>;
    /// Run one method.
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value>;
    /// Run one method for `model`: what the connector calls. A unit
    /// registered for one model ignores it (the default); one registered
    /// for `*` reads it (see [`per_model`]).
    fn call_model(
        &self,
        ctx: &Context,
        model: &str,
        method: &str,
        payload: Value,
    ) -> Result<Value> {
        let _ = model;
        self.call(ctx, method, payload)
    }
}

/// A unit for every model, made for the model of each call: register it
/// for `*` when the models are known only at run time (a declarative
/// connector's streams, read from the instance):
/// `.unit(kind::IMPORTER, "*", per_model(vec!["run".into()], |ctx, model| Ok(generic::Importer::new(model))))`.
pub struct PerModel<F> {
    methods: Vec<String>,
    make: F,
}

/// The unit that answers `methods`, made by `make(ctx, model)` for each call.
pub fn per_model<U, F>(methods: Vec<String>, make: F) -> PerModel<F>
where
    U: Unit,
    F: Fn(&Context, &str) -> Result<U> + Send + Sync,
{
    PerModel { methods, make }
}

impl<U, F> Unit for PerModel<F>
where
    U: Unit,
    F: Fn(&Context, &str) -> Result<U> + Send + Sync,
{
    fn methods(&self) -> Vec<String> {
        self.methods.clone()
    }
    fn call(&self, _ctx: &Context, method: &str, _payload: Value) -> Result<Value> {
        Err(crate::Error::fatal(format!(
            "a per-model unit was called (`{method}`) without a model"
        )))
    }
    fn call_model(
        &self,
        ctx: &Context,
        model: &str,
        method: &str,
        payload: Value,
    ) -> Result<Value> {
        (self.make)(ctx, model)?.call(ctx, method, payload)
    }
}

type UnitFn = dyn Fn(&Context, &str, Value) -> Result<Value> + Send + Sync;

/// A unit made of a closure; see [`from_fn`].
pub struct FnUnit {
    methods: Vec<String>,
    f: Box<UnitFn>,
}

/// A unit from a closure that answers `methods` (it receives the method name).
pub fn from_fn(
    methods: &[&str],
    f: impl Fn(&Context, &str, Value) -> Result<Value> + Send + Sync + 'static,
) -> FnUnit {
    FnUnit {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        f: Box::new(f),
    }
}

impl Unit for FnUnit {
    fn methods(&self) -> Vec<String> {
        self.methods.clone()
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        if !self.methods.iter().any(|m| m == method) {
            return Err(crate::Error::not_found(format!(
                "unit has no method `{method}` (it has: {})",
                self.methods.join(", ")
            )));
        }
        (self.f)(ctx, method, payload)
    }
}

/// `f` over JSON: the payload read into `In` (a payload that does not fit is
/// a final error naming `what` and the field), the answer written from `Out`.
/// What typed jobs and typed unit methods share.
pub(crate) fn typed_fn<In, Out>(
    what: String,
    f: impl Fn(&Context, In) -> Result<Out> + Send + Sync + 'static,
) -> impl Fn(&Context, Value) -> Result<Value> + Send + Sync + 'static
where
    In: serde::de::DeserializeOwned,
    Out: serde::Serialize,
{
    move |ctx, payload| {
        let input = serde_json::from_value(payload)
            .map_err(|e| crate::Error::fatal(format!("{what}: the payload does not fit: {e}")))?;
        Ok(serde_json::to_value(f(ctx, input)?)?)
    }
}

/// A unit whose methods are typed functions, `fn(&Context, In) -> Result<Out>`
/// for `In: Deserialize` and `Out: Serialize`: the payload is read into
/// `In` before the method sees it (a payload that does not fit is a final
/// error naming the method and the field) and `Out` is the answer. Call it
/// typed too, with [`Context::call_as`].
///
/// ```
/// use ferry_sdk::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Quote { sku: String, quantity: u32 }
/// #[derive(Serialize, Deserialize)]
/// struct Price { total: f64 }
///
/// let pricing = unit::typed().method("quote", |_ctx, q: Quote| {
///     Ok(Price { total: f64::from(q.quantity) * if q.sku.starts_with("P-") { 50.0 } else { 10.0 } })
/// });
/// let _ = Connector::new().unit("pricing", "product", pricing);
/// // Elsewhere, in this module or a child:
/// // let price: Price = ctx.call_as("pricing", "product", "quote", &json!({"sku": "P-1", "quantity": 2}))?;
/// ```
#[derive(Default)]
pub struct Typed {
    methods: Vec<(String, Box<UnitFn>)>,
}

/// A unit of typed methods; see [`Typed`].
pub fn typed() -> Typed {
    Typed::default()
}

impl Typed {
    /// Answer `name` with `f`; a later method of the same name replaces it.
    pub fn method<In, Out>(
        mut self,
        name: &str,
        f: impl Fn(&Context, In) -> Result<Out> + Send + Sync + 'static,
    ) -> Self
    where
        In: serde::de::DeserializeOwned,
        Out: serde::Serialize,
    {
        let typed = typed_fn(format!("unit method `{name}`"), f);
        let run = move |ctx: &Context, _method: &str, payload: Value| typed(ctx, payload);
        self.methods.retain(|(m, _)| m != name);
        self.methods.push((name.to_string(), Box::new(run)));
        self
    }
}

impl Unit for Typed {
    fn methods(&self) -> Vec<String> {
        self.methods.iter().map(|(name, _)| name.clone()).collect()
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        match self.methods.iter().find(|(name, _)| name == method) {
            Some((_, run)) => run(ctx, method, payload),
            None => Err(crate::Error::not_found(format!(
                "unit has no method `{method}` (it has: {})",
                self.methods().join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Unit, typed};
    use crate::{Context, ErrorKind};
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Deserialize)]
    struct Quote {
        sku: String,
        quantity: u32,
    }

    #[derive(Serialize)]
    struct Price {
        sku: String,
        total: f64,
    }

    #[test]
    fn typed_methods_read_their_payload_and_name_what_does_not_fit() {
        let unit = typed()
            .method("quote", |_ctx, q: Quote| {
                Ok(Price {
                    total: f64::from(q.quantity) * 2.5,
                    sku: q.sku,
                })
            })
            .method("ping", |_ctx, (): ()| Ok("pong"));
        assert_eq!(unit.methods(), vec!["quote", "ping"]);
        let ctx = Context::detached();
        let price = unit
            .call(&ctx, "quote", json!({ "sku": "P-1", "quantity": 4 }))
            .unwrap();
        assert_eq!(price, json!({ "sku": "P-1", "total": 10.0 }));

        let err = unit
            .call(&ctx, "quote", json!({ "sku": "P-1", "quantity": "four" }))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Final);
        assert!(
            err.message.contains("`quote`") && err.message.contains("invalid type"),
            "{}",
            err.message
        );
        let err = unit.call(&ctx, "discount", json!({})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.message.contains("quote, ping"), "{}", err.message);
    }
}
