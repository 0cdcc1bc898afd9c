//! Parameters as operators give them: JSON values (`--param-json k=JSON`, an
//! API body), or text (`--param k=v`) read by the parameter's declared type,
//! so that `limit=10` is a number and `tags=a,b` a list. The text is read
//! where the declaration is known, on the server in remote mode.

use crate::error::{Error, Result};
use ferry_manifest::jobs::{JobParam, ParamError, parse_value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Parameters given by an operator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamInput {
    /// Values as JSON, by key.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    /// Values as text, by key, read by the declared type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub text_params: BTreeMap<String, String>,
}

impl ParamInput {
    /// Read `k=v` pairs (text) and `k=JSON` pairs (JSON values) from a command line.
    pub fn from_pairs(text: &[String], json: &[String]) -> Result<ParamInput> {
        let split = |pair: &String, flag: &str| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| Error::Invalid(format!("{flag} {pair:?}: expected KEY=VALUE")))
        };
        let mut input = ParamInput::default();
        for pair in text {
            let (k, v) = split(pair, "--param")?;
            input.text_params.insert(k, v);
        }
        for pair in json {
            let (k, v) = split(pair, "--param-json")?;
            let value = serde_json::from_str(&v).map_err(|e| {
                Error::Invalid(format!("--param-json {k}: the value is not JSON: {e}"))
            })?;
            input.params.insert(k, value);
        }
        Ok(input)
    }

    /// The values, text read by the types `declared` gives them (undeclared
    /// keys stay text: checking refuses them with the declared names).
    pub fn read(&self, subject: &str, declared: &[JobParam]) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        for (key, text) in &self.text_params {
            let value = match declared.iter().find(|p| &p.name == key) {
                Some(param) => parse_value(param, text).map_err(|problem| {
                    Error::Invalid(
                        ParamError {
                            subject: subject.to_string(),
                            param: Some(key.clone()),
                            problem,
                        }
                        .to_string(),
                    )
                })?,
                None => Value::String(text.clone()),
            };
            out.insert(key.clone(), value);
        }
        out.extend(self.params.clone());
        Ok(out)
    }
}
