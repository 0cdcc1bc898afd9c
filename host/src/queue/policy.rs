//! The queue's policy where the store needs it inside its transactions: what
//! a failed try leads to (retry, fail, or give way to a twin with the same
//! identity or merge key), how merged payloads combine, and what becomes of a
//! job whose worker stopped. Pure decisions on facts the store reads; the store
//! only reads those facts and writes the outcome. (Nothing here imports the
//! store, so that the store can ask without a cycle.)

use serde_json::Value;

/// How many times in a row a job may be put back without a try counted
/// because the worker that claimed it stopped before its start was recorded.
pub const MAX_FREE_LOST_CLAIMS: i64 = 3;

/// What a failed try of a job leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterFailure {
    /// Pending again, at its retry time.
    Retry,
    /// Failed for good (final error, or out of retries).
    Fail,
    /// Not retried: another job with its identity key waits to run.
    YieldToIdentityTwin(i64),
    /// Not retried: the pending job with its merge key takes `payload`
    /// (the twin's own, with this job's changes joined).
    MergeInto {
        /// The pending twin.
        twin: i64,
        /// The twin's payload from now on.
        payload: Value,
    },
}

impl AfterFailure {
    /// Decide, for a failed try to retry or not (`retry`), given the job's
    /// twins: one waiting with its identity key, or one pending with its merge
    /// key (id and payload). A twin wins over a retry, which would only run
    /// the same work twice.
    pub fn decide(
        retry: bool,
        payload: &str,
        identity_twin: Option<i64>,
        merge_twin: Option<(i64, &str)>,
    ) -> Result<AfterFailure, serde_json::Error> {
        if !retry {
            return Ok(AfterFailure::Fail);
        }
        if let Some(twin) = identity_twin {
            return Ok(AfterFailure::YieldToIdentityTwin(twin));
        }
        Ok(match merge_twin {
            Some((twin, newer)) => AfterFailure::MergeInto {
                twin,
                // The twin is newer: its values win, this job's changes join.
                payload: merge_payloads(
                    &serde_json::from_str(payload)?,
                    &serde_json::from_str(newer)?,
                ),
            },
            None => AfterFailure::Retry,
        })
    }

    /// Whether the job waits for another try.
    pub fn retries(&self) -> bool {
        matches!(self, AfterFailure::Retry)
    }

    /// The job's error, with why it is not retried when a twin took over.
    pub fn error(&self, error: &str) -> String {
        match self {
            AfterFailure::Retry | AfterFailure::Fail => error.to_string(),
            AfterFailure::YieldToIdentityTwin(twin) => format!(
                "{error} (not retried: job {twin} with the same identity key is waiting to run)"
            ),
            AfterFailure::MergeInto { twin, .. } => {
                format!("{error} (not retried: merged into pending job {twin})")
            }
        }
    }
}

/// What becomes of a job whose claim's lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rescue {
    /// It never started: pending again, its try given back.
    PutBack,
    /// Its try is lost: recorded as a failed try with this error, to be
    /// retried if `retry`.
    TryLost {
        /// Why, for its error and log.
        error: String,
        /// Whether a retry is left.
        retry: bool,
    },
}

impl Rescue {
    /// Decide for a job claimed by `worker`, `started` or only claimed, on its
    /// try `attempts` of `max_retries + 1`, put back unstarted `lost_claims`
    /// times in a row already. A job that brings its worker down before its
    /// start is recorded must not loop for ever: after
    /// [`MAX_FREE_LOST_CLAIMS`] free put-backs its tries count.
    pub fn decide(
        worker: &str,
        started: bool,
        attempts: i64,
        max_retries: i64,
        lost_claims: i64,
    ) -> Rescue {
        if !started && lost_claims < MAX_FREE_LOST_CLAIMS {
            return Rescue::PutBack;
        }
        let error = if started {
            format!(
                "try {attempts} lost: worker {worker} stopped while running it (its lease expired)"
            )
        } else {
            format!(
                "try {attempts} lost: worker {worker} stopped before starting it (its lease expired), \
                 the {}th time in a row, so the try counts",
                lost_claims + 1
            )
        };
        Rescue::TryLost {
            error,
            retry: attempts <= max_retries,
        }
    }

    /// The log line of a job put back unstarted.
    pub fn put_back_note(worker: &str) -> String {
        format!(
            "worker {worker} claimed it but stopped before starting it (its lease expired): \
             back in the queue, no try counted"
        )
    }
}

/// Fold the payload of a newer job into an older pending one: objects merge
/// key by key (the newer value wins), and `changed_fields` lists are united,
/// so that one run exports every field either change touched.
pub fn merge_payloads(older: &Value, newer: &Value) -> Value {
    match (older, newer) {
        (Value::Object(old), Value::Object(new)) => {
            let mut merged = old.clone();
            for (key, value) in new {
                let combined = match (old.get(key), value) {
                    (Some(Value::Array(a)), Value::Array(b)) if key == "changed_fields" => {
                        let mut all = a.clone();
                        all.extend(b.iter().filter(|v| !a.contains(v)).cloned());
                        Value::Array(all)
                    }
                    // The record's values: one level deep, so a field whose
                    // value is an object is replaced whole, never blended.
                    (Some(Value::Object(o)), Value::Object(n)) => {
                        let mut values = o.clone();
                        values.extend(n.iter().map(|(k, v)| (k.clone(), v.clone())));
                        Value::Object(values)
                    }
                    _ => value.clone(),
                };
                merged.insert(key.clone(), combined);
            }
            Value::Object(merged)
        }
        _ => newer.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::queue::policy::{AfterFailure, MAX_FREE_LOST_CLAIMS, Rescue};
    use serde_json::json;

    #[test]
    fn a_twin_wins_over_a_retry_and_the_identity_twin_first() {
        let decide = |identity, merge| AfterFailure::decide(true, "{}", identity, merge).unwrap();
        assert_eq!(decide(None, None), AfterFailure::Retry);
        assert_eq!(
            decide(Some(7), Some((8, "{}"))),
            AfterFailure::YieldToIdentityTwin(7)
        );
        assert_eq!(
            AfterFailure::decide(false, "{}", Some(7), None).unwrap(),
            AfterFailure::Fail
        );
        let merged = AfterFailure::decide(
            true,
            r#"{"changed_fields":["a"],"values":{"a":1}}"#,
            None,
            Some((8, r#"{"changed_fields":["b"],"values":{"b":2}}"#)),
        )
        .unwrap();
        assert_eq!(
            merged,
            AfterFailure::MergeInto {
                twin: 8,
                payload: json!({"changed_fields": ["a", "b"], "values": {"a": 1, "b": 2}}),
            }
        );
        assert_eq!(
            merged.error("boom"),
            "boom (not retried: merged into pending job 8)"
        );
    }

    #[test]
    fn an_unstarted_claim_is_put_back_free_only_a_few_times() {
        assert_eq!(Rescue::decide("w", false, 1, 5, 0), Rescue::PutBack);
        let Rescue::TryLost { error, retry } =
            Rescue::decide("w", false, 6, 5, MAX_FREE_LOST_CLAIMS)
        else {
            panic!("expected the try to count");
        };
        assert!(!retry);
        assert!(error.contains("the 4th time in a row"), "{error}");
        assert!(matches!(
            Rescue::decide("w", true, 2, 5, 0),
            Rescue::TryLost { retry: true, .. }
        ));
    }
}
