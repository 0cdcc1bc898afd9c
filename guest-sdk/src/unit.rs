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
