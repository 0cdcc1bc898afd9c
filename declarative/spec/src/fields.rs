//! `fields`: which remote field is which local one, how its value is read,
//! and in which direction it goes.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// One entry of `fields`: `remote = "local"`, or a table when the value must
/// be converted or goes one way only.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Field {
    /// `sku = "default_code"`: copied as it is, both ways.
    Local(String),
    /// `price = { local = "list_price", type = "decimal", decimals = 2 }`.
    Spec(FieldSpec),
}

/// Text or a table; a table's own mistakes (`typ = …`) are named as such,
/// not as "matches no form".
impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(local) => Ok(Field::Local(local)),
            table @ serde_json::Value::Object(_) => FieldSpec::deserialize(table)
                .map(Field::Spec)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "{other}: a local field name, or a table {{ local = \"…\", type = \"…\" }}"
            ))),
        }
    }
}

/// The table form of a field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The local field.
    pub local: String,
    /// How the value is read (copied as it is when absent).
    #[serde(default, rename = "type")]
    pub ty: Option<FieldType>,
    /// Digits after the point a `decimal` is sent with (2 when absent).
    #[serde(default)]
    pub decimals: Option<u8>,
    /// Which way it goes (`both` when absent).
    #[serde(default)]
    pub direction: Direction,
}

/// How a field's value is read.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text both sides.
    Text,
    /// A whole number locally (a numeric string remotely is read too).
    Integer,
    /// A number locally (a numeric string remotely is read too).
    Number,
    /// `true`/`false` locally (`"true"`, `1`… remotely are read too).
    Boolean,
    /// A number locally, a string with `decimals` digits remotely (`"19.90"`).
    Decimal,
}

/// Which way a field goes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Imported and exported.
    #[default]
    Both,
    /// Only imported (a remote value the local side keeps, never sent back).
    Import,
    /// Only exported.
    Export,
}

impl Field {
    /// The local field.
    pub fn local(&self) -> &str {
        match self {
            Field::Local(local) => local,
            Field::Spec(spec) => &spec.local,
        }
    }

    /// How the value is read (none: as it is).
    pub fn ty(&self) -> Option<FieldType> {
        match self {
            Field::Local(_) => None,
            Field::Spec(spec) => spec.ty,
        }
    }

    /// Digits after the point of a `decimal`.
    pub fn decimals(&self) -> u8 {
        match self {
            Field::Spec(FieldSpec {
                decimals: Some(d), ..
            }) => *d,
            _ => 2,
        }
    }

    /// Which way it goes.
    pub fn direction(&self) -> Direction {
        match self {
            Field::Local(_) => Direction::Both,
            Field::Spec(spec) => spec.direction,
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.local().is_empty() {
            return Err("the local field is empty".into());
        }
        if let Field::Spec(spec) = self {
            if spec.decimals.is_some() && spec.ty != Some(FieldType::Decimal) {
                return Err("`decimals` goes with type = \"decimal\"".into());
            }
            if spec.decimals.is_some_and(|d| d > 12) {
                return Err("decimals: at most 12".into());
            }
        }
        Ok(())
    }
}
