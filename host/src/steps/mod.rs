//! The step driver (contract 0.2): a job whose declaration has steps is run
//! by the host step by step instead of by `run-job`. A tasklet is one call;
//! an item step is a loop of chunks, each read, processed and written in one
//! fresh instance with the job's whole time budget, then committed in one
//! transaction fenced by the job's lease (writes, position, counts,
//! warnings). Between chunks the driver looks whether an operator asked the
//! job to stop or pause. A new try of the job skips completed steps and
//! resumes the others from their last committed position: a chunk is never
//! committed twice. A step left `started` by a worker that died is resumed
//! the same way (one row per step, no `abandoned` state): its history is in
//! the job's log, one line per start or resume.

mod writes;

use crate::backend::Resolved;
use crate::error::FailureKind;
use crate::invoke::steps::{ChunkAnswer, StepContext, run_chunk, run_tasklet};
use crate::invoke::{self, CallScope, Failure};
use crate::store::{ChunkCommit, Halt, RecordChange, StepRow, StepStatus};
use ferry_manifest::{StepDecl, StepKind};
use serde_json::{Value, json};
use std::sync::Arc;

/// Run job `name` of the scope's instance: through its steps when its
/// declaration has any, else as a plain job ([`invoke::run_job`]).
pub(crate) async fn run_job(
    scope: &Arc<CallScope>,
    name: &String,
    payload: &String,
) -> (Option<Resolved>, Result<String, Failure>) {
    let stepped = scope
        .registry
        .resolve_job(&scope.instance_key, name)
        .ok()
        .and_then(|resolved| {
            // The component's steps, with the manifest's chunk sizes.
            let steps = resolved.module.job_decl(name)?.steps;
            (!steps.is_empty()).then_some((resolved, steps))
        });
    let Some((resolved, steps)) = stepped else {
        return invoke::run_job(scope, name, payload).await;
    };
    let Some(job) = scope.job.clone() else {
        let failure = final_failure(format!(
            "job `{name}` is made of steps: it runs from the queue (enqueue it with `ferry run`)"
        ));
        return (Some(resolved), Err(failure));
    };
    let driver = Driver {
        scope,
        resolved: &resolved,
        job_id: job.id,
        token: job.token,
        attempt: job.attempt,
        name,
        payload,
    };
    let result = driver.run(&steps).await;
    (Some(resolved), result)
}

fn final_failure(message: String) -> Failure {
    Failure {
        kind: FailureKind::Final,
        message,
        retry_after_ms: None,
    }
}

/// The claim was lost (the job rescued, cancelled or set done meanwhile).
fn lease_lost(job_id: i64) -> Failure {
    Failure {
        kind: FailureKind::Retryable,
        message: format!("job {job_id} lost its lease: the step stopped before its next chunk"),
        retry_after_ms: None,
    }
}

/// A store error met while driving steps (not a chunk's commit): the try
/// fails, to be retried.
fn store_failure(e: crate::Error) -> Failure {
    Failure {
        kind: FailureKind::Retryable,
        message: format!("could not store the step's progress: {e}"),
        retry_after_ms: None,
    }
}

struct Driver<'a> {
    scope: &'a Arc<CallScope>,
    resolved: &'a Resolved,
    job_id: i64,
    token: i64,
    attempt: i64,
    name: &'a str,
    payload: &'a str,
}

impl Driver<'_> {
    async fn run(&self, steps: &[StepDecl]) -> Result<String, Failure> {
        let store = &self.scope.store;
        for (ordinal, decl) in steps.iter().enumerate() {
            let kind = match decl.kind {
                StepKind::Tasklet => "tasklet",
                StepKind::Items => "items",
            };
            let row = store
                .begin_step(self.job_id, self.token, &decl.name, ordinal as i64, kind)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| lease_lost(self.job_id))?;
            if row.status == StepStatus::Completed {
                continue;
            }
            self.log(format!(
                "step `{}` ({kind}) {}",
                decl.name,
                match row.chunks {
                    0 => "starts".to_string(),
                    n => format!("resumes after chunk {} (read {} so far)", n - 1, row.read),
                }
            ));
            let outcome = match decl.kind {
                StepKind::Tasklet => self.tasklet(decl).await,
                StepKind::Items => self.items(decl, row).await,
            };
            match outcome {
                Ok(()) => {}
                Err(Stop::Failed(failure)) => {
                    // Marked failed while the claim holds (a lost claim writes nothing).
                    let marked = store
                        .end_step(
                            self.job_id,
                            self.token,
                            &decl.name,
                            StepStatus::Failed,
                            None,
                            Some(&failure.message),
                            &[],
                            &[],
                        )
                        .await;
                    if let Err(e) = marked {
                        tracing::warn!(
                            job = self.job_id,
                            "could not mark step `{}` failed: {e}",
                            decl.name
                        );
                    }
                    return Err(failure);
                }
                Err(Stop::LeaseLost) => return Err(lease_lost(self.job_id)),
                // The store ended the job (cancelled or paused): no claim is
                // left for the queue to record this on.
                Err(Stop::Halted(message)) => return Err(final_failure(message)),
            }
        }
        let rows = store.job_steps(self.job_id).await.map_err(store_failure)?;
        Ok(summary(&rows).to_string())
    }

    fn log(&self, message: String) {
        self.scope.log("info", "host", &message);
    }

    fn context(&self, step: &str, chunk: i64) -> StepContext {
        StepContext {
            job_id: self.job_id as u64,
            job: self.name.to_string(),
            step: step.to_string(),
            params: self.payload.to_string(),
            attempt: self.attempt.clamp(1, i64::from(u32::MAX)) as u32,
            chunk: chunk as u64,
        }
    }

    /// Stop or pause here if an operator asked: the store ends the claim.
    async fn at_boundary(&self, step: &str, chunks: i64) -> Result<(), Stop> {
        let store = &self.scope.store;
        let halt = store
            .step_halt(self.job_id, self.token)
            .await
            .map_err(store_failure)?
            .ok_or(Stop::LeaseLost)?;
        let message = match halt {
            Halt::Run => return Ok(()),
            Halt::Stop => format!(
                "stopped by an operator at step `{step}` after {chunks} chunks \
                 (`ferry jobs requeue {}` resumes from there)",
                self.job_id
            ),
            Halt::Pause => format!(
                "paused by an operator at step `{step}` after {chunks} chunks \
                 (`ferry jobs resume {}` continues)",
                self.job_id
            ),
        };
        self.log(message.clone());
        let ended = store
            .halt_job_at_step(self.job_id, self.token, step, halt, &message)
            .await
            .map_err(store_failure)?;
        Err(match ended {
            true => Stop::Halted(message),
            false => Stop::LeaseLost,
        })
    }

    async fn tasklet(&self, decl: &StepDecl) -> Result<(), Stop> {
        self.at_boundary(&decl.name, 0).await?;
        let scope = self.scope.renewed().await.map_err(Failure::from)?;
        let out = run_tasklet(&scope, self.resolved, &self.context(&decl.name, 0)).await;
        self.scope.extend_logs(scope.take_logs());
        let cursors = scope.states.cursors.take(&scope.instance.name);
        let messages = scope.states.messaging.take();
        let result = scope.vault.redact_json(&out?);
        let max = self.scope.limits().max_result_bytes.as_u64();
        if result.len() as u64 > max {
            return Err(Stop::Failed(final_failure(format!(
                "the result of tasklet `{}` is {} bytes, over max_result_bytes ({max})",
                decl.name,
                result.len()
            ))));
        }
        let ended = self
            .scope
            .store
            .end_step(
                self.job_id,
                self.token,
                &decl.name,
                StepStatus::Completed,
                Some(&result),
                None,
                &cursors,
                &messages,
            )
            .await
            .map_err(store_failure)?;
        ended.then_some(()).ok_or(Stop::LeaseLost)
    }

    async fn items(&self, decl: &StepDecl, row: StepRow) -> Result<(), Stop> {
        let size = chunk_size(decl, self.payload);
        let mut chunk = row.chunks;
        let mut position = row.position.map(|p| p.to_string());
        loop {
            self.at_boundary(&decl.name, chunk).await?;
            let scope = self.scope.renewed().await.map_err(Failure::from)?;
            let ctx = self.context(&decl.name, chunk);
            let answer = run_chunk(&scope, self.resolved, &ctx, position.as_ref(), size).await;
            self.scope.extend_logs(scope.take_logs());
            let answer = answer.map_err(|f| Failure {
                message: format!("step `{}`, chunk {chunk}: {}", decl.name, f.message),
                ..f
            })?;
            let next = self.commit(&scope, &decl.name, chunk, answer).await?;
            match next {
                None => return Ok(()),
                Some(next) => position = Some(next),
            }
            chunk += 1;
        }
    }

    /// Commit a chunk; the position the next one starts at, none when the
    /// step is done.
    async fn commit(
        &self,
        scope: &Arc<CallScope>,
        step: &str,
        chunk: i64,
        answer: ChunkAnswer,
    ) -> Result<Option<String>, Stop> {
        let bad = |what: String| final_failure(format!("step `{step}`, chunk {chunk}: {what}"));
        let next = match &answer.next {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|e| bad(format!("the reader's next position is not JSON: {e}")))?,
            ),
        };
        let local = writes::local_writes(answer.writes).map_err(bad)?;
        let warnings: Vec<(Value, String)> = answer
            .warnings
            .into_iter()
            .map(|(item, reason)| {
                let item = serde_json::from_str(&item).unwrap_or(Value::String(item));
                (item, scope.vault.redact(&reason))
            })
            .collect();
        let subscribers = writes::Subscribed::of(scope, &local)
            .await
            .map_err(store_failure)?;
        let commit = ChunkCommit {
            job_id: self.job_id,
            token: self.token,
            instance: &scope.instance.name,
            step,
            chunk,
            next: next.as_ref(),
            read: answer.read as i64,
            written: i64::from(answer.written),
            filtered: answer.filtered as i64,
            warnings: &warnings,
            writes: &local,
            cursors: &scope.states.cursors.take(&scope.instance.name),
            messages: &scope.states.messaging.take(),
        };
        let events = |change: RecordChange<'_>| subscribers.jobs(change);
        let committed = scope
            .store
            .commit_chunk(&commit, &events)
            .await
            .map_err(|e| {
                // A database that may come back retries; a write it refuses
                // (a record that does not exist) fails the same on every try.
                let f = Failure::from(e);
                Failure {
                    message: format!(
                        "step `{step}`, chunk {chunk}: its commit failed: {}",
                        f.message
                    ),
                    ..f
                }
            })?;
        if !committed {
            return Err(Stop::LeaseLost);
        }
        Ok(next.map(|n| n.to_string()))
    }
}

/// Why a step did not run to its end.
enum Stop {
    /// A guest call, the check of its answer or the commit failed.
    Failed(Failure),
    /// The claim was lost: nothing more is written.
    LeaseLost,
    /// An operator stopped or paused the job at a chunk boundary (why).
    Halted(String),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failed(f)
    }
}

/// Items per chunk: the payload's `chunk_size` (at least 1), else the step's.
fn chunk_size(decl: &StepDecl, payload: &str) -> u32 {
    serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|p| p.get("chunk_size").and_then(Value::as_u64))
        .filter(|n| *n >= 1)
        .map(|n| n.min(u64::from(u32::MAX)) as u32)
        .unwrap_or(decl.chunk_size.max(1))
}

/// The job's result: what each step did.
fn summary(rows: &[StepRow]) -> Value {
    let steps: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "step": r.step, "kind": r.kind, "status": r.status, "chunks": r.chunks,
                "read": r.read, "written": r.written, "filtered": r.filtered,
                "skipped": r.skipped, "result": r.result,
            })
        })
        .collect();
    json!({ "steps": steps })
}

#[cfg(test)]
mod tests {
    use super::chunk_size;
    use ferry_manifest::{StepDecl, StepKind};

    #[test]
    fn a_payload_overrides_the_chunk_size_with_one_at_least() {
        let decl = StepDecl {
            name: "export".into(),
            kind: StepKind::Items,
            chunk_size: 100,
            description: String::new(),
        };
        assert_eq!(chunk_size(&decl, "{}"), 100);
        assert_eq!(chunk_size(&decl, r#"{"chunk_size": 7}"#), 7);
        assert_eq!(chunk_size(&decl, r#"{"chunk_size": 0}"#), 100);
        assert_eq!(chunk_size(&decl, "not json"), 100);
    }
}
