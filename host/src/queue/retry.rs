//! What follows a failed try: when to try again (the job's retry pattern, the
//! delay the remote asked for, or exponential backoff with jitter), whether
//! the try counts, and whether the whole backend instance should wait.

use super::executor::TryFailure;
use crate::store::{JobRow, now_ms};
use std::time::Duration;

/// The longest a retry is put off, whatever the remote asked for.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(24 * 3600);

/// Delay before try `attempt + 1`: `base · 2^(attempt-1)`, at most an hour, with
/// ±20 % jitter so that jobs failed together do not retry together.
pub fn backoff(base: Duration, attempt: i64, job_id: i64) -> Duration {
    let exp = base
        .saturating_mul(1u32 << (attempt.clamp(1, 20) - 1) as u32)
        .min(Duration::from_secs(3600));
    let spread =
        (job_id.wrapping_mul(2_654_435_761).wrapping_add(attempt) % 41) as f64 / 100.0 - 0.2;
    exp.mul_f64(1.0 + spread)
}

/// The decision after a failed try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextTry {
    /// Try again at this time (ms); none: failed for good.
    pub retry_at: Option<i64>,
    /// Whether this try uses up one of the job's retries.
    pub count_try: bool,
    /// Every job of the instance waits until then (ms): the remote said so.
    pub snooze_until: Option<i64>,
}

/// Decide what follows `failure` of `job`'s current try. `lock_contended`:
/// the run only met another run's `lock-or-retry` lock, which is no failure of
/// this job: its try is given back and it is retried even past its last try.
/// `max_snooze`: set when a remote answered the run 429 or 503, the longest
/// its `Retry-After` may hold every job of the instance; without it, a delay
/// the guest asks for holds only this job (no remote asked the instance to
/// wait).
pub fn next_try(
    job: &JobRow,
    failure: &TryFailure,
    lock_contended: bool,
    retry_base: Duration,
    max_snooze: Option<Duration>,
) -> NextTry {
    let lock_only = lock_contended && failure.is_retryable();
    let asked = failure
        .retry_after_ms
        .map(|ms| Duration::from_millis(ms).min(MAX_RETRY_DELAY));
    let retry = failure.is_retryable() && (lock_only || job.attempts <= job.max_retries);
    let delay = asked
        .or_else(|| job.retry_pattern.as_ref().map(|p| p.delay(job.attempts)))
        .unwrap_or_else(|| backoff(retry_base, job.attempts, job.id))
        .min(MAX_RETRY_DELAY);
    let now = now_ms();
    NextTry {
        retry_at: retry.then(|| now.saturating_add(delay.as_millis() as i64)),
        count_try: !lock_only,
        // A remote that asks to wait (429/503 with Retry-After) is down for
        // every job of the instance, not just this one: snooze them all instead
        // of letting each burn its retries.
        snooze_until: match (lock_only, asked, max_snooze) {
            (false, Some(wait), Some(max)) => {
                Some(now.saturating_add(wait.min(max).as_millis() as i64))
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::queue::retry::backoff;
    use crate::store::RetryPattern;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(10);
        let first = backoff(base, 1, 7);
        let third = backoff(base, 3, 7);
        assert!(
            first >= Duration::from_secs(8) && first <= Duration::from_secs(12),
            "{first:?}"
        );
        assert!(
            third >= Duration::from_secs(32) && third <= Duration::from_secs(48),
            "{third:?}"
        );
        assert!(backoff(base, 30, 7) <= Duration::from_secs(3600 * 12 / 10));
    }

    #[test]
    fn a_retry_pattern_sets_the_delay_from_each_step_on() {
        let pattern = RetryPattern::parse("1:10s,5:1m,10:10m").unwrap();
        assert_eq!(pattern.delay(1), Duration::from_secs(10));
        assert_eq!(pattern.delay(4), Duration::from_secs(10));
        assert_eq!(pattern.delay(5), Duration::from_secs(60));
        assert_eq!(pattern.delay(12), Duration::from_secs(600));
        assert!(RetryPattern::parse("1-10s").is_err());
    }
}
