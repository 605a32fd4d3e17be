//! How many jobs a worker asks for per claim.
//!
//! Enough jobs must be on hand to keep the worker's slots busy while its
//! next claim is on the wire: about the rate jobs finish times a claim's
//! round trip (Little's law). For jobs that take milliseconds or more, the
//! starting size (4 per slot) covers that many times over, and more would
//! only hoard jobs other processes could run; for jobs that finish in
//! microseconds it is thousands, and a small claim leaves the slots idle for
//! most of every round trip. So the default size adapts between the two; a
//! size set with `Worker::with_batch_size` is kept as set.

use std::time::Duration;

/// Most jobs an adaptive claim asks for. It grows this far only while jobs
/// finish faster than a claim's round trip, and a claim's fixed cost per
/// statement and per transaction then decides the rate (MySQL's claim, a
/// locking read and updates by key, most of all: 24k no-op jobs/s at a
/// ceiling of 1,000 and 34k at 10,000 in one sitting, PostgreSQL about 40k
/// at either). Jobs that turn slow give the surplus back
/// (`worker::SURPLUS_WAIT`).
pub(crate) const MAX_ADAPTIVE_CLAIM: u32 = 10_000;

/// How many round trips' worth of jobs [`ClaimSize::pace`] keeps: the claim
/// goes out at half the buffer, round trips vary, and a larger claim costs
/// the database less per job.
pub(crate) const PACE_MARGIN: f64 = 8.0;

/// The size of a worker's next claim, and its rule for changing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClaimSize {
    current: u32,
    floor: u32,
    ceiling: u32,
}

/// What a worker saw when a claim came back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClaimReturn {
    /// How many jobs it asked for.
    pub(crate) wanted: u32,
    /// How many it got.
    pub(crate) got: usize,
    /// Whether the claim before it came back full: the queue had a backlog.
    /// (A first claim, or one after a short or failed claim, as after a
    /// quiet spell, says nothing of the jobs' pace.)
    pub(crate) after_full_claim: bool,
    /// Jobs still waiting in the buffer when it came back.
    pub(crate) buffered: usize,
    /// Whether a slot was free to run one.
    pub(crate) slot_free: bool,
}

impl ClaimSize {
    /// Always `n` (at least 1).
    pub(crate) fn fixed(n: u32) -> Self {
        let n = n.max(1);
        ClaimSize {
            current: n,
            floor: n,
            ceiling: n,
        }
    }

    /// Starts at 4 x `concurrency` (10..=200) and adapts from there up to
    /// [`MAX_ADAPTIVE_CLAIM`] (see [`observe`](Self::observe) and
    /// [`pace`](Self::pace)).
    pub(crate) fn adaptive(concurrency: usize) -> Self {
        let floor = u32::try_from(concurrency)
            .unwrap_or(u32::MAX)
            .saturating_mul(4)
            .clamp(10, 200);
        ClaimSize {
            current: floor,
            floor,
            ceiling: MAX_ADAPTIVE_CLAIM.max(floor),
        }
    }

    /// The starting size: what the buffer keeps when jobs turn slow (see
    /// [`shrink`](Self::shrink)).
    pub(crate) fn floor(&self) -> u32 {
        self.floor
    }

    /// Back to the starting size: the buffer held more than it could start
    /// soon, and gave the rest back.
    pub(crate) fn shrink(&mut self) {
        self.current = self.floor;
    }

    /// The size the buffer is topped up to: the next claim asks for this
    /// less what is still buffered.
    pub(crate) fn get(&self) -> u32 {
        self.current
    }

    /// The buffer level under which the next claim starts: half the size, so
    /// the claim's round trip overlaps with running the other half.
    pub(crate) fn refill_below(&self) -> usize {
        (self.current as usize).div_ceil(2)
    }

    /// Before a claim: `started` jobs left the buffer in `elapsed` since the
    /// last claim came back, and that claim's round trip took `round_trip`.
    /// Shrinks to what that pace needs over [`PACE_MARGIN`] round trips,
    /// never below the starting size: when jobs turn slow, the next claim
    /// already asks for few, rather than topping a large buffer up once more.
    pub(crate) fn pace(&mut self, started: usize, elapsed: Duration, round_trip: Duration) {
        if elapsed.is_zero() {
            return;
        }
        let per_round_trip = started as f64 * round_trip.as_secs_f64() / elapsed.as_secs_f64();
        let needed = (PACE_MARGIN * per_round_trip)
            .ceil()
            .min(f64::from(u32::MAX)) as u32;
        self.current = needed.clamp(self.floor, self.current.max(self.floor));
    }

    /// Adapts to what a claim came back to:
    /// - the queue ran dry (fewer jobs than asked for): back to the starting
    ///   size, so a burst that grew it leaves nothing to hoard later;
    /// - it and the claim before it were full, and the buffer ran out with a
    ///   slot free before it came back: the slots idled while it was on the
    ///   wire, so the size doubles.
    pub(crate) fn observe(&mut self, seen: ClaimReturn) {
        if seen.got < seen.wanted as usize {
            self.current = self.floor;
        } else if seen.after_full_claim && seen.buffered == 0 && seen.slot_free {
            self.current = self.current.saturating_mul(2).min(self.ceiling);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full claim, `after_full` another or not, back to `buffered`.
    fn full(size: &ClaimSize, after_full: bool, buffered: usize, slot_free: bool) -> ClaimReturn {
        ClaimReturn {
            wanted: size.get(),
            got: size.get() as usize,
            after_full_claim: after_full,
            buffered,
            slot_free,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn grows_while_slots_idle_waiting_for_full_claims() {
        let mut size = ClaimSize::adaptive(16);
        assert_eq!(size.get(), 64);
        for expected in [128, 256, 512, 1_024, 2_048, 4_096, 8_192, 10_000, 10_000] {
            size.observe(full(&size, true, 0, true));
            assert_eq!(size.get(), expected);
        }
    }

    #[test]
    fn a_first_claim_does_not_grow_it() {
        let mut size = ClaimSize::adaptive(16);
        size.observe(full(&size, false, 0, true));
        assert_eq!(
            size.get(),
            64,
            "a start or a wake-up says nothing of the pace"
        );
    }

    #[test]
    fn stays_when_every_slot_is_busy_or_some_is_left() {
        let mut size = ClaimSize::adaptive(16);
        size.observe(full(&size, true, 0, false));
        assert_eq!(
            size.get(),
            64,
            "slots busy with long jobs: no need to hoard more"
        );
        size.observe(full(&size, true, 5, true));
        assert_eq!(size.get(), 64, "jobs left when it came back: enough");
    }

    #[test]
    fn shrinks_to_the_pace_before_the_next_claim() {
        let mut size = ClaimSize::adaptive(16);
        for _ in 0..8 {
            size.observe(full(&size, true, 0, true));
        }
        assert_eq!(size.get(), 10_000);
        // 250 started in 10 ms, round trips of 2 ms: 50 per round trip.
        size.pace(250, ms(10), ms(2));
        assert_eq!(size.get(), 400);
        // Jobs turned slow: 16 a second.
        size.pace(16, ms(1_000), ms(2));
        assert_eq!(size.get(), 64, "never below the starting size");
        // A fast pace never grows it: only idle slots do.
        size.pace(10_000, ms(1), ms(2));
        assert_eq!(size.get(), 64);
        size.pace(0, Duration::ZERO, ms(2));
        assert_eq!(size.get(), 64);
    }

    #[test]
    fn a_dry_queue_resets_to_the_starting_size() {
        let mut size = ClaimSize::adaptive(16);
        size.observe(full(&size, true, 0, true));
        size.observe(full(&size, true, 0, true));
        assert_eq!(size.get(), 256);
        size.observe(ClaimReturn {
            wanted: 256,
            got: 3,
            after_full_claim: true,
            buffered: 0,
            slot_free: true,
        });
        assert_eq!(size.get(), 64);
    }

    #[test]
    fn a_fixed_size_never_changes() {
        let mut size = ClaimSize::fixed(50);
        size.observe(full(&size, true, 0, true));
        size.pace(1, ms(1_000), ms(2));
        size.pace(10_000, ms(1), ms(2));
        assert_eq!(size.get(), 50);
        assert_eq!(ClaimSize::fixed(0).get(), 1);
        assert_eq!(ClaimSize::adaptive(1).get(), 10);
        assert_eq!(ClaimSize::adaptive(100).get(), 200);
    }
}
