//! A job's declaration checked on its own, wherever it comes from
//! (`connector.toml` or `describe`), so that validating payloads later never
//! meets a rule that cannot hold: an `enum` without values, a default its own
//! parameter refuses, a pattern that is not a regular expression, a minimum
//! over the maximum.

use super::validate::{check_value, whole_match};
use super::{JobParam, ParamType, StepDecl, StepKind};
use crate::names::valid_name;

/// Most items in one chunk of an item step.
pub const MAX_CHUNK_SIZE: u32 = 100_000;

/// Check the parameters of job `job`; the error names the job, the parameter
/// and what is wrong.
pub fn check_params(job: &str, params: &[JobParam]) -> Result<(), String> {
    for (i, p) in params.iter().enumerate() {
        let at = format!("job `{job}`: parameter `{}`", p.name);
        if !valid_name(&p.name) {
            return Err(format!(
                "{at}: not a name (letters, digits, `.`, `-` and `_`, 64 at most)"
            ));
        }
        if params[..i].iter().any(|q| q.name == p.name) {
            return Err(format!("{at}: declared twice"));
        }
        if p.ty == ParamType::Enum && p.one_of.is_empty() {
            return Err(format!(
                "{at}: an `enum` needs `one_of`, its allowed values"
            ));
        }
        let ranged = matches!(
            p.ty,
            ParamType::Integer | ParamType::Number | ParamType::List
        );
        if !ranged && (p.minimum.is_some() || p.maximum.is_some()) {
            return Err(format!(
                "{at}: `minimum` and `maximum` apply to integer, number and list parameters, not {}",
                p.ty
            ));
        }
        if let (Some(min), Some(max)) = (p.minimum, p.maximum)
            && min > max
        {
            return Err(format!(
                "{at}: `minimum` {min} is more than `maximum` {max}"
            ));
        }
        if let Some(pattern) = &p.pattern {
            if !matches!(p.ty, ParamType::String | ParamType::List | ParamType::Url) {
                return Err(format!(
                    "{at}: `pattern` applies to string, list and url parameters, not {}",
                    p.ty
                ));
            }
            whole_match(pattern).map_err(|e| format!("{at}: {e}"))?;
        }
        if !p.one_of.is_empty()
            && matches!(
                p.ty,
                ParamType::Boolean | ParamType::Date | ParamType::Duration | ParamType::Url
            )
        {
            return Err(format!(
                "{at}: `one_of` applies to string, integer, number, enum and list parameters, not {}",
                p.ty
            ));
        }
        if p.required && p.default.is_some() {
            return Err(format!("{at}: a required parameter cannot have a default"));
        }
        if let Some(default) = &p.default {
            check_value(p, default).map_err(|e| format!("{at}: its default: {e}"))?;
        }
        if p.description.len() > 1_024 || p.description.chars().any(char::is_control) {
            return Err(format!(
                "{at}: its description must be one line of 1024 bytes at most"
            ));
        }
    }
    Ok(())
}

/// Check the steps of job `job`: unique names, and a chunk size an item step
/// can use.
pub fn check_steps(job: &str, steps: &[StepDecl]) -> Result<(), String> {
    for (i, s) in steps.iter().enumerate() {
        let at = format!("job `{job}`: step `{}`", s.name);
        if !valid_name(&s.name) {
            return Err(format!(
                "{at}: not a name (letters, digits, `.`, `-` and `_`, 64 at most)"
            ));
        }
        if steps[..i].iter().any(|o| o.name == s.name) {
            return Err(format!("{at}: declared twice"));
        }
        if s.kind == StepKind::Items && !(1..=MAX_CHUNK_SIZE).contains(&s.chunk_size) {
            return Err(format!(
                "{at}: chunk_size {} (1 to {MAX_CHUNK_SIZE})",
                s.chunk_size
            ));
        }
    }
    Ok(())
}
