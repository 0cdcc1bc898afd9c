//! What a job declares beyond its name: typed parameters (the payload is an
//! object of them) and, for a batch job, its steps. Reported by `describe`
//! (contract 0.2) or declared in `connector.toml`; the host validates a job's
//! payload, a profile and a one-off override against the parameters before
//! anything is stored, and runs the steps in order.
//!
//! - [`validate`]: a payload against a job's parameters (defaults applied);
//! - [`check_params`]: a declaration itself (an `enum` without `one_of`, a
//!   default of the wrong type, a pattern that is not a regular expression…);
//! - [`duration`]: the text of durations (`90s`, `15m`, `2h`, `2d`, `1w`).

mod check;
mod declaration;
pub mod duration;
mod validate;

pub use check::{MAX_CHUNK_SIZE, check_params, check_steps};
pub use declaration::{DEFAULT_CHUNK_SIZE, JobParam, ParamType, StepDecl, StepKind};
pub use validate::{ParamError, Problem, parse_value, validate};

#[cfg(test)]
mod tests;
