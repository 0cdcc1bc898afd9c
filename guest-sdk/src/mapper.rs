//! Declarative mappers: external record ⇄ local values.
//!
//! As in the Odoo connector, a mapper is a list of rules: direct field pairs
//! (optionally converted), method mappings (code that returns several fields),
//! rules applied only when the record is created, bindings (an external id turned
//! into a local id through the links) and submappings (order lines of an order).
//!
//! ```
//! use ferry_sdk::mapper::{convert, Mapper};
//! use serde_json::json;
//!
//! let line = Mapper::new().direct("qty", "quantity").direct_with("price", "price_unit", convert::float);
//! let order = Mapper::new()
//!     .direct("number", "name")
//!     .on_create("created", "imported_at")
//!     .method(|rec| Ok(json!({ "total": rec["lines"].as_array().map(|l| l.len()).unwrap_or(0) })))
//!     .submapping("lines", "order_lines", line);
//! let values = order.map(None, &json!({"number": "S1", "created": 5, "lines": [{"qty": 2, "price": "3.5"}]}), true).unwrap();
//! assert_eq!(values["order_lines"][0]["price_unit"], json!(3.5));
//! assert_eq!(values["imported_at"], json!(5));
//! ```

use crate::unit::{Unit, kind};
use crate::{Context, Error, Result};
use serde_json::{Map, Value, json};

/// A value converter for [`Mapper::direct_with`].
pub type Converter = fn(&Value) -> Result<Value>;

type MethodFn = dyn Fn(&Value) -> Result<Value> + Send + Sync;

/// Ready-made converters.
pub mod convert {
    use super::*;

    fn bad(what: &str, v: &Value) -> Error {
        Error::fatal(format!("cannot read {v} as {what}"))
    }
    /// A number, from a number or numeric text.
    pub fn float(v: &Value) -> Result<Value> {
        match v {
            Value::Null => Ok(Value::Null),
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| bad("a number", v)),
            _ => Err(bad("a number", v)),
        }
    }
    /// An integer, from a number or numeric text.
    pub fn int(v: &Value) -> Result<Value> {
        match v {
            Value::Null => Ok(Value::Null),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Number(n) => Ok(Value::from(n.as_f64().unwrap_or_default().round() as i64)),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad("an integer", v)),
            _ => Err(bad("an integer", v)),
        }
    }
    /// Text, from anything scalar.
    pub fn string(v: &Value) -> Result<Value> {
        match v {
            Value::Null | Value::String(_) => Ok(v.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::from(v.to_string())),
            _ => Err(bad("text", v)),
        }
    }
    /// `true`/`false`, from a boolean, `0`/`1`, or text such as `"yes"`.
    pub fn boolean(v: &Value) -> Result<Value> {
        match v {
            Value::Null | Value::Bool(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::Bool(n.as_f64() != Some(0.0))),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
                "false" | "no" | "0" | "off" | "" => Ok(Value::Bool(false)),
                _ => Err(bad("true or false", v)),
            },
            _ => Err(bad("true or false", v)),
        }
    }
    /// A number as text with `digits` after the point (`19.9` → `"19.90"`).
    pub fn decimal_text(digits: u8) -> impl Fn(&Value) -> Result<Value> + Send + Sync {
        move |v| match float(v)? {
            Value::Number(n) => Ok(Value::from(format!(
                "{:.*}",
                usize::from(digits),
                n.as_f64().unwrap_or_default()
            ))),
            other => Ok(other),
        }
    }
    /// Empty text becomes null.
    pub fn none_if_empty(v: &Value) -> Result<Value> {
        Ok(match v {
            Value::String(s) if s.is_empty() => Value::Null,
            _ => v.clone(),
        })
    }
    /// An amount in cents (integer) as a decimal amount.
    pub fn cents_to_amount(v: &Value) -> Result<Value> {
        match v {
            Value::Null => Ok(Value::Null),
            _ => Ok(Value::from(
                int(v)?.as_i64().unwrap_or_default() as f64 / 100.0,
            )),
        }
    }
    /// A decimal amount as an integer number of cents.
    pub fn amount_to_cents(v: &Value) -> Result<Value> {
        match v {
            Value::Null => Ok(Value::Null),
            _ => Ok(Value::from(
                (float(v)?.as_f64().unwrap_or_default() * 100.0).round() as i64,
            )),
        }
    }
}

enum Rule {
    Direct {
        from: String,
        to: String,
        convert: Option<Box<MethodFn>>,
    },
    Method(Box<MethodFn>),
    Binding {
        from: String,
        to: String,
        model: String,
    },
    Sub {
        from: String,
        to: String,
        mapper: Mapper,
    },
}

struct Entry {
    rule: Rule,
    only_on_create: bool,
}

/// Which way a mapper maps; decides what a binding rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// External record → local values (bindings: external id → local id).
    Import,
    /// Local values → external record (bindings: local id → external id).
    Export,
}

/// A list of mapping rules; see the module docs.
pub struct Mapper {
    entries: Vec<Entry>,
    direction: Direction,
}

impl Default for Mapper {
    fn default() -> Self {
        Self::new()
    }
}

impl Mapper {
    /// An import mapper with no rules.
    pub fn new() -> Self {
        Mapper {
            entries: Vec::new(),
            direction: Direction::Import,
        }
    }
    /// An export mapper with no rules (bindings map local ids to external ids).
    pub fn export() -> Self {
        Mapper {
            entries: Vec::new(),
            direction: Direction::Export,
        }
    }
    fn push(mut self, rule: Rule, only_on_create: bool) -> Self {
        self.entries.push(Entry {
            rule,
            only_on_create,
        });
        self
    }
    /// Copy field `from` of the source to field `to`.
    pub fn direct(self, from: &str, to: &str) -> Self {
        self.push(
            Rule::Direct {
                from: from.into(),
                to: to.into(),
                convert: None,
            },
            false,
        )
    }
    /// Copy field `from` to `to` through a converter.
    pub fn direct_with(self, from: &str, to: &str, convert: Converter) -> Self {
        self.direct_fn(from, to, convert)
    }
    /// Copy field `from` to `to` through a closure (a converter that needs
    /// a setting, such as [`convert::decimal_text`]'s digits).
    pub fn direct_fn(
        self,
        from: &str,
        to: &str,
        convert: impl Fn(&Value) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        self.push(
            Rule::Direct {
                from: from.into(),
                to: to.into(),
                convert: Some(Box::new(convert)),
            },
            false,
        )
    }
    /// Copy `from` to `to` only when the record is being created.
    pub fn on_create(self, from: &str, to: &str) -> Self {
        self.push(
            Rule::Direct {
                from: from.into(),
                to: to.into(),
                convert: None,
            },
            true,
        )
    }
    /// Code that reads the whole source and returns a JSON object of fields.
    pub fn method(self, f: impl Fn(&Value) -> Result<Value> + Send + Sync + 'static) -> Self {
        self.push(Rule::Method(Box::new(f)), false)
    }
    /// A method mapping applied only when the record is being created.
    pub fn method_on_create(
        self,
        f: impl Fn(&Value) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        self.push(Rule::Method(Box::new(f)), true)
    }
    /// Field `from` holds an id of `model` on the other side: map it through the
    /// links. On import an unknown external id is imported first (the model's
    /// importer runs), as a dependency.
    pub fn binding(self, from: &str, to: &str, model: &str) -> Self {
        self.push(
            Rule::Binding {
                from: from.into(),
                to: to.into(),
                model: model.into(),
            },
            false,
        )
    }
    /// Field `from` is a list of children (order lines): map each with `child`.
    pub fn submapping(self, from: &str, to: &str, child: Mapper) -> Self {
        self.push(
            Rule::Sub {
                from: from.into(),
                to: to.into(),
                mapper: child,
            },
            false,
        )
    }

    /// Map one source object. `ctx` is needed only by binding rules (and their
    /// submappings); `for_create` enables the only-on-create rules.
    pub fn map(&self, ctx: Option<&Context>, source: &Value, for_create: bool) -> Result<Value> {
        self.map_fields(ctx, source, for_create, None)
    }

    /// Like [`Mapper::map`], but direct and binding rules whose source field is
    /// not in `fields` are skipped (export of the fields that changed).
    pub fn map_fields(
        &self,
        ctx: Option<&Context>,
        source: &Value,
        for_create: bool,
        fields: Option<&[String]>,
    ) -> Result<Value> {
        let src = source
            .as_object()
            .ok_or_else(|| Error::fatal(format!("cannot map {source}: not an object")))?;
        let wanted = |from: &str| fields.is_none_or(|f| f.iter().any(|x| x == from));
        let mut out = Map::new();
        for entry in self
            .entries
            .iter()
            .filter(|e| for_create || !e.only_on_create)
        {
            match &entry.rule {
                Rule::Direct { from, to, convert } => {
                    if let Some(v) = src.get(from).filter(|_| wanted(from)) {
                        let v = match convert {
                            Some(c) => c(v).map_err(|e| e.context(format!("field `{from}`")))?,
                            None => v.clone(),
                        };
                        out.insert(to.clone(), v);
                    }
                }
                Rule::Method(f) => match f(source)? {
                    Value::Object(fields) => out.extend(fields),
                    Value::Null => {}
                    other => {
                        return Err(Error::fatal(format!(
                            "a method mapping returned {other}, not an object"
                        )));
                    }
                },
                Rule::Binding { from, to, model } => {
                    if let Some(v) = src.get(from).filter(|_| wanted(from)) {
                        out.insert(to.clone(), self.map_binding(ctx, model, v)?);
                    }
                }
                Rule::Sub { from, to, mapper } => {
                    if let Some(children) = src.get(from).filter(|_| wanted(from)) {
                        let children = children
                            .as_array()
                            .ok_or_else(|| Error::fatal(format!("field `{from}` is not a list")))?;
                        let mapped = children
                            .iter()
                            .map(|c| mapper.map(ctx, c, for_create))
                            .collect::<Result<Vec<_>>>()
                            .map_err(|e| e.context(format!("submapping `{from}`")))?;
                        out.insert(to.clone(), Value::Array(mapped));
                    }
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn map_binding(&self, ctx: Option<&Context>, model: &str, v: &Value) -> Result<Value> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let ctx =
            ctx.ok_or_else(|| Error::fatal(format!("mapping a `{model}` id needs a context")))?;
        let links = ctx.links();
        match self.direction {
            Direction::Import => {
                let external_id = id_text(v);
                if let Some(link) = links.to_local(model, &external_id)? {
                    return Ok(json!(link.local_id));
                }
                // Import the dependency first, as Odoo's importers do.
                let out = ctx.call(
                    kind::IMPORTER,
                    model,
                    "run",
                    &json!({ "external_id": external_id }),
                )?;
                out.get("local_id").cloned().ok_or_else(|| {
                    Error::fatal(format!(
                        "importing {model} {external_id} as a dependency returned no local_id"
                    ))
                })
            }
            Direction::Export => {
                let local_id = v
                    .as_u64()
                    .ok_or_else(|| Error::fatal(format!("{v} is not a local {model} id")))?;
                match links.to_external(model, local_id)? {
                    Some(link) => Ok(Value::from(link.external_id)),
                    None => Err(Error::retryable(format!(
                        "{model} {local_id} is not exported yet"
                    ))),
                }
            }
        }
    }
}

/// Text of an id that may be a JSON number or string.
pub fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `mapper` unit of one model: an import and an export mapper.
///
/// Methods: `to_local` `{record, for_create}` → values; `to_local_batch`
/// `{records, for_create}` → list of values; `to_external` `{values, fields?}` → record.
pub struct MapperUnit {
    import: Mapper,
    export: Mapper,
}

impl MapperUnit {
    /// A mapper unit from its two directions.
    pub fn new(import: Mapper, export: Mapper) -> Self {
        MapperUnit { import, export }
    }
    /// The import direction.
    pub fn import(&self) -> &Mapper {
        &self.import
    }
    /// The export direction.
    pub fn export(&self) -> &Mapper {
        &self.export
    }
}

impl Unit for MapperUnit {
    fn methods(&self) -> Vec<String> {
        vec![
            "to_local".into(),
            "to_local_batch".into(),
            "to_external".into(),
        ]
    }
    fn call(&self, ctx: &Context, method: &str, payload: Value) -> Result<Value> {
        let for_create = payload["for_create"].as_bool().unwrap_or(false);
        match method {
            "to_local" => self.import.map(Some(ctx), &payload["record"], for_create),
            "to_local_batch" => {
                let records = payload["records"]
                    .as_array()
                    .ok_or_else(|| Error::fatal("`records` must be a list"))?;
                let out = records
                    .iter()
                    .map(|r| self.import.map(Some(ctx), r, for_create))
                    .collect::<Result<_>>()?;
                Ok(Value::Array(out))
            }
            "to_external" => {
                let fields: Option<Vec<String>> = match payload.get("fields") {
                    Some(Value::Array(f)) if !f.is_empty() => Some(f.iter().map(id_text).collect()),
                    _ => None,
                };
                self.export
                    .map_fields(Some(ctx), &payload["values"], for_create, fields.as_deref())
            }
            other => Err(Error::not_found(format!("mapper has no method `{other}`"))),
        }
    }
}
