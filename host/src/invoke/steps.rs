//! The guest side of a step (contract 0.2): a tasklet's one call, and one
//! chunk of an item step (read, process, write) in ONE fresh instance, so
//! that a long step never holds more than a chunk in guest memory. What the
//! calls answered goes back to the step driver (`crate::steps`), which
//! commits it.

use super::instance::with_instance;
use super::{CallScope, Failure};
use crate::backend::Resolved;
use crate::bindings::guest_v0_2 as g2;
use crate::capabilities::session::SessionState;
use crate::error::FailureKind;
use std::sync::Arc;

pub use g2::{LocalWrite as GuestWrite, StepContext};

/// What one chunk's calls answered.
#[derive(Debug)]
pub struct ChunkAnswer {
    /// How many items the reader read.
    pub read: usize,
    /// Where the next chunk starts, JSON; none: the reader is done.
    pub next: Option<String>,
    /// Items the processor filtered out.
    pub filtered: usize,
    /// Items not written (item JSON, reason): the processor's invalid ones,
    /// then the writer's refusals.
    pub warnings: Vec<(String, String)>,
    /// Items the writer wrote.
    pub written: u32,
    /// The writer's local writes, in order.
    pub writes: Vec<GuestWrite>,
}

fn no_steps(resolved: &Resolved) -> Failure {
    Failure {
        kind: FailureKind::Final,
        message: format!(
            "module `{}` is built against contract 0.1, which has no steps: rebuild it with an SDK of \
             contract 0.2 to run jobs made of steps",
            resolved.module.name()
        ),
        retry_after_ms: None,
    }
}

/// Whether the component of `resolved` can run steps (contract 0.2).
pub(crate) fn has_steps(scope: &CallScope, resolved: &Resolved) -> bool {
    scope
        .engine
        .prepared(&resolved.module.content_hash)
        .is_some_and(|pre| pre.contract() != "0.1")
}

/// Run a tasklet step: its result, JSON.
pub(crate) async fn run_tasklet(
    scope: &Arc<CallScope>,
    resolved: &Resolved,
    ctx: &StepContext,
) -> Result<String, Failure> {
    if !has_steps(scope, resolved) {
        return Err(no_steps(resolved));
    }
    with_instance(scope, resolved, 0, async |store, connector| {
        let Some(calls) = connector.steps() else {
            return Err(wasmtime::Error::msg("the component has no step calls"));
        };
        let session = store.data_mut().table.push(SessionState::default())?;
        calls.call_run_tasklet(&mut *store, session, ctx).await
    })
    .await
}

/// Run one chunk of an item step from `position`: read at most `size`
/// items, process them, write the kept ones.
pub(crate) async fn run_chunk(
    scope: &Arc<CallScope>,
    resolved: &Resolved,
    ctx: &StepContext,
    position: Option<&String>,
    size: u32,
) -> Result<ChunkAnswer, Failure> {
    if !has_steps(scope, resolved) {
        return Err(no_steps(resolved));
    }
    with_instance(scope, resolved, 0, async |store, connector| {
        let Some(calls) = connector.steps() else {
            return Err(wasmtime::Error::msg("the component has no step calls"));
        };
        let session = store.data_mut().table.push(SessionState::default())?;
        let chunk = match calls
            .call_read_chunk(&mut *store, session, ctx, position, size)
            .await?
        {
            Ok(chunk) => chunk,
            Err(e) => return Ok(Err(e)),
        };
        if chunk.items.len() > size as usize {
            return Err(wasmtime::Error::msg(format!(
                "the reader of step `{}` returned {} items for a chunk of {size}",
                ctx.step,
                chunk.items.len()
            )));
        }
        let mut answer = ChunkAnswer {
            read: chunk.items.len(),
            next: chunk.next,
            filtered: 0,
            warnings: Vec::new(),
            written: 0,
            writes: Vec::new(),
        };
        if chunk.items.is_empty() {
            return Ok(Ok(answer));
        }
        let session = store.data_mut().table.push(SessionState::default())?;
        let processed = match calls
            .call_process_chunk(&mut *store, session, ctx, &chunk.items)
            .await?
        {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        if processed.len() != chunk.items.len() {
            return Err(wasmtime::Error::msg(format!(
                "the processor of step `{}` answered {} times for {} items (one answer per item, in order)",
                ctx.step,
                processed.len(),
                chunk.items.len()
            )));
        }
        let mut kept = Vec::new();
        for (item, p) in chunk.items.into_iter().zip(processed) {
            match p {
                g2::Processed::Keep(mapped) => kept.push(mapped),
                g2::Processed::Filtered => answer.filtered += 1,
                g2::Processed::Invalid(reason) => answer.warnings.push((item, reason)),
            }
        }
        if kept.is_empty() {
            return Ok(Ok(answer));
        }
        let session = store.data_mut().table.push(SessionState::default())?;
        let written = match calls
            .call_write_chunk(&mut *store, session, ctx, &kept)
            .await?
        {
            Ok(w) => w,
            Err(e) => return Ok(Err(e)),
        };
        answer.written = written.count;
        answer
            .warnings
            .extend(written.skipped.into_iter().map(|w| (w.item, w.reason)));
        answer.writes = written.writes;
        Ok(Ok(answer))
    })
    .await
}
