//! [`Failure`]: why a guest call returned no value, and how traps are explained.

use crate::bindings::types;
use crate::capabilities::HostState;
use crate::error::{Error, FailureKind};
use std::time::Duration;

/// Why a guest call did not return a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// How it failed (traps are final).
    pub kind: FailureKind,
    /// What happened.
    pub message: String,
    /// For retryable failures: the delay the remote asked for.
    pub retry_after_ms: Option<u64>,
}

impl Failure {
    pub(crate) fn from_wit(e: types::Error) -> Self {
        let kind = match e.kind {
            types::ErrorKind::Retryable => FailureKind::Retryable,
            types::ErrorKind::Final => FailureKind::Final,
            types::ErrorKind::NotFound => FailureKind::NotFound,
            types::ErrorKind::Denied => FailureKind::Denied,
        };
        Failure {
            kind,
            message: e.message,
            retry_after_ms: e.retry_after_ms,
        }
    }

    /// Whether another try may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == FailureKind::Retryable
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::from_wit(e.into())
    }
}

/// A registry lookup that fails (`?` on [`crate::backend::Registry`]'s
/// answers) fails the guest call as the host's error of the same name does.
impl From<ferry_manifest::Error> for Failure {
    fn from(e: ferry_manifest::Error) -> Self {
        Error::from(e).into()
    }
}

/// See [`Failure`]'s `From<ferry_manifest::Error>`: the same, for a host call.
impl From<ferry_manifest::Error> for types::Error {
    fn from(e: ferry_manifest::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<Failure> for types::Error {
    fn from(f: Failure) -> Self {
        let kind = match f.kind {
            FailureKind::Retryable => types::ErrorKind::Retryable,
            FailureKind::NotFound => types::ErrorKind::NotFound,
            FailureKind::Denied => types::ErrorKind::Denied,
            FailureKind::Final => types::ErrorKind::Final,
        };
        types::Error {
            kind,
            message: f.message,
            retry_after_ms: f.retry_after_ms,
        }
    }
}

/// Whether the trap happened at the bottom of a long chain of calls to one function.
fn recursing(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<wasmtime::WasmBacktrace>()
        .is_some_and(|bt| {
            let frames = bt.frames();
            frames.len() >= 16
                && frames[..16]
                    .windows(2)
                    .all(|w| w[0].func_index() == w[1].func_index())
        })
}

/// The failure of a call the guest answered with an error. A guest whose
/// runtime catches a refused memory growth (Python's `MemoryError`, a JS
/// engine's "out of memory") answers an error rather than trapping: the
/// memory limit is still the reason, and the operator must read it.
pub(crate) fn guest_failure(state: &HostState, error: types::Error) -> Failure {
    let failure = Failure::from_wit(error);
    if !state.limits.exceeded {
        return failure;
    }
    Failure {
        kind: crate::error::FailureKind::Final,
        message: format!(
            "memory limit {} MiB exceeded (the guest then answered: {})",
            state.limits.max >> 20,
            failure.message
        ),
        retry_after_ms: None,
    }
}

/// Explain a trap: limits hit, a panic's message, or the trap itself.
pub(crate) fn trap_failure(state: &HostState, err: &wasmtime::Error, budget: Duration) -> Failure {
    let fatal = |message: String| Failure {
        kind: crate::error::FailureKind::Final,
        message,
        retry_after_ms: None,
    };
    if err
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        // Too many instances at once: a capacity problem of this host, not of the job.
        let message = format!("no free instance slot ({err}); trying again shortly");
        return Failure {
            kind: crate::error::FailureKind::Retryable,
            message,
            retry_after_ms: Some(1_000),
        };
    }
    if state.limits.exceeded {
        return fatal(format!(
            "memory limit {} MiB exceeded",
            state.limits.max >> 20
        ));
    }
    if state.limits.table_exceeded {
        return fatal(format!(
            "table limit of {} elements exceeded",
            state.limits.max_table_elements
        ));
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            let fuel = state.limits.fuel.unwrap_or_default();
            return fatal(format!(
                "fuel limit of {fuel} exceeded (the guest was stopped)"
            ));
        }
        Some(wasmtime::Trap::Interrupt) => {
            return fatal(format!(
                "time budget of {budget:?} exceeded (the guest was stopped)"
            ));
        }
        Some(wasmtime::Trap::StackOverflow) => {
            return fatal("stack overflow (recursion too deep)".into());
        }
        // Rust and C guests keep their stack in linear memory, below their
        // data: when it runs out, the stack pointer wraps and the next write
        // faults, deep in a chain of calls to one function.
        Some(wasmtime::Trap::MemoryOutOfBounds) if recursing(err) => {
            return fatal(
                "stack overflow (recursion too deep: the guest's stack in linear memory ran out)"
                    .into(),
            );
        }
        _ => {}
    }
    let stderr = state.stderr_text();
    if let Some(at) = stderr.find("panicked at") {
        let panic = stderr[at..]
            .lines()
            .take_while(|l| !l.starts_with("note:"))
            .collect::<Vec<_>>()
            .join(" ");
        return fatal(format!("guest {panic}"));
    }
    if stderr.is_empty() {
        fatal(format!("guest trapped: {err:#}"))
    } else {
        fatal(format!("guest trapped: {err:#}; stderr: {stderr}"))
    }
}
