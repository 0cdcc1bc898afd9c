//! How far ahead a worker claims. A claim is a write transaction that may
//! wait its turn behind other writers (on SQLite, behind the outcome batch
//! being written): if the claimed jobs waiting for a slot run out before the
//! next claim answers, slots sit empty. So a worker keeps waiting about what
//! its slots run during two claims' round trips, measured as it goes: many
//! short jobs make claims large and rare, slow jobs keep them a slot's worth
//! (no worker holds leased jobs it will not reach for a while, which other
//! workers could have run). `batch` stays the most jobs held at once.

/// A worker's lookahead, adapted after each claim.
#[derive(Debug)]
pub(super) struct Prefetch {
    concurrency: usize,
    /// Most jobs held at once (waiting and running).
    ceiling: usize,
    /// Jobs this worker runs during one claim's round trip, estimated.
    lookahead: usize,
    /// Of the claim in flight: jobs ended before it began.
    ended_before: u64,
    /// Of the claim in flight: whether it began with jobs held, which may
    /// run out before it answers.
    watching: bool,
    /// Of the claim in flight: whether they ran out (a slot was free with
    /// nothing waiting).
    starved: bool,
}

impl Prefetch {
    /// A worker with `concurrency` slots holding at most `ceiling` jobs starts
    /// by claiming a slot's worth or two.
    pub(super) fn new(concurrency: usize, ceiling: usize) -> Prefetch {
        let concurrency = concurrency.max(1);
        Prefetch {
            concurrency,
            ceiling: ceiling.max(concurrency),
            lookahead: concurrency,
            ended_before: 0,
            watching: false,
            starved: false,
        }
    }

    /// How many jobs to claim now, when `waiting` jobs wait for a slot and
    /// `held` are held in all (none when enough wait, or the ceiling is
    /// reached): a claim begins when fewer than two round trips' worth wait
    /// and asks for enough to hold four.
    pub(super) fn want(&self, waiting: usize, held: usize) -> Option<usize> {
        if waiting >= 2 * self.lookahead {
            return None;
        }
        let target = (4 * self.lookahead + self.concurrency).min(self.ceiling);
        let want = target.saturating_sub(held);
        (want > 0).then_some(want)
    }

    /// A claim began when `ended` jobs had ended on this worker and `held`
    /// were held. Slots empty while a worker that held nothing claims (its
    /// start, or new work after the queue ran out) say nothing of the
    /// lookahead: only jobs held that run out do.
    pub(super) fn claim_began(&mut self, ended: u64, held: usize) {
        self.ended_before = ended;
        self.watching = held > 0;
        self.starved = false;
    }

    /// A slot is free and no claimed job waits for it while a claim is in
    /// flight.
    pub(super) fn starving(&mut self) {
        self.starved |= self.watching;
    }

    /// The claim answered with `got` of the `want` jobs it asked for, when
    /// `ended` jobs had ended. The jobs that ended meanwhile are what the
    /// slots ran during one round trip; if the slots ran dry, they would
    /// have run more, so the estimate doubles. A queue that ran out (fewer
    /// jobs than asked) says nothing about the round trip. The estimate
    /// rises at once and falls by a quarter a claim, so one quick claim
    /// does not starve the next.
    pub(super) fn claim_answered(&mut self, want: usize, got: usize, ended: u64) {
        let ran = usize::try_from(ended.saturating_sub(self.ended_before)).unwrap_or(usize::MAX);
        let sample = if self.starved && got >= want {
            ran.max(self.lookahead).saturating_mul(2)
        } else {
            ran
        };
        let decayed = self.lookahead - self.lookahead / 4;
        let most = (self.ceiling / 4).max(self.concurrency);
        self.lookahead = sample.max(decayed).clamp(self.concurrency, most);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_jobs_keep_claims_at_a_few_slots_worth() {
        let mut p = Prefetch::new(4, 1024);
        // A 20-job claim: the first one holds four slots' worth and a slot.
        assert_eq!(p.want(0, 0), Some(20));
        for _ in 0..10 {
            p.claim_began(0, 0);
            p.starving();
            p.claim_answered(16, 16, 1);
        }
        assert_eq!(p.lookahead, 4, "empty slots at a start are no sign");
        assert_eq!(p.want(8, 12), None, "two round trips' worth wait");
        assert_eq!(p.want(7, 11), Some(9));
    }

    #[test]
    fn short_jobs_that_run_dry_grow_claims_up_to_the_ceiling() {
        let mut p = Prefetch::new(16, 1024);
        let mut ended = 0;
        for _ in 0..10 {
            p.claim_began(ended, 16);
            p.starving();
            ended += 100;
            p.claim_answered(64, 64, ended);
        }
        assert_eq!(p.lookahead, 256, "a quarter of the ceiling at most");
        assert_eq!(p.want(0, 16), Some(1008));
        assert_eq!(p.want(512, 528), None);
    }

    #[test]
    fn a_queue_that_runs_out_does_not_grow_claims_and_estimates_decay() {
        let mut p = Prefetch::new(4, 1024);
        p.claim_began(0, 4);
        p.starving();
        p.claim_answered(20, 3, 3);
        assert_eq!(p.lookahead, 4);
        p.claim_began(3, 4);
        p.claim_answered(20, 20, 203);
        assert_eq!(p.lookahead, 200);
        p.claim_began(203, 4);
        p.claim_answered(20, 20, 213);
        assert_eq!(p.lookahead, 150, "falls by a quarter");
    }

    #[test]
    fn the_ceiling_bounds_what_is_held() {
        let p = Prefetch::new(8, 8);
        assert_eq!(p.want(0, 0), Some(8));
        assert_eq!(p.want(0, 8), None);
    }
}
