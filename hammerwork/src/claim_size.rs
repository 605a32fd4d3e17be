//! How many jobs a worker asks for per claim.
//!
//! Enough jobs must be on hand to keep the worker's slots busy while its
//! next claim is on the wire: about the rate jobs finish times a claim's
//! round trip (Little's law). For jobs that take milliseconds or more that is
//! a handful, and a large buffer would only hoard jobs other processes could
//! run; for jobs that finish in microseconds it is hundreds, and a small one
//! leaves the slots idle for most of every round trip. So the default size
//! adapts between the two; a size set with `Worker::with_batch_size` is kept
//! as set.

/// Most jobs an adaptive claim asks for: one claim statement, and one
/// settle batch, of this many rows stay small for every backend.
pub(crate) const MAX_ADAPTIVE_CLAIM: u32 = 1_000;

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
    /// Jobs still waiting in the buffer from earlier claims.
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
    /// [`MAX_ADAPTIVE_CLAIM`] (see [`observe`](Self::observe)).
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

    /// The size of the next claim.
    pub(crate) fn get(&self) -> u32 {
        self.current
    }

    /// The buffer level under which the next claim starts: half the size, so
    /// the claim's round trip overlaps with running the other half.
    pub(crate) fn refill_below(&self) -> usize {
        (self.current as usize).div_ceil(2)
    }

    /// Adapts to what a claim came back to:
    /// - the queue ran dry (fewer jobs than asked for): back to the starting
    ///   size, so a burst that grew it leaves nothing to hoard later;
    /// - it was full, and the buffer had run empty with a slot free: the
    ///   slots idled while it was on the wire, so the size doubles;
    /// - a quarter of the size or more was still buffered: the buffer
    ///   outlasts a round trip by far, so the size halves.
    pub(crate) fn observe(&mut self, seen: ClaimReturn) {
        if seen.got < seen.wanted as usize {
            self.current = self.floor;
        } else if seen.buffered == 0 && seen.slot_free {
            self.current = self.current.saturating_mul(2).min(self.ceiling);
        } else if seen.buffered.saturating_mul(4) >= self.current as usize {
            self.current = (self.current / 2).max(self.floor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(size: &ClaimSize, buffered: usize, slot_free: bool) -> ClaimReturn {
        ClaimReturn {
            wanted: size.get(),
            got: size.get() as usize,
            buffered,
            slot_free,
        }
    }

    #[test]
    fn grows_while_slots_idle_waiting_for_full_claims() {
        let mut size = ClaimSize::adaptive(16);
        assert_eq!(size.get(), 64);
        for expected in [128, 256, 512, 1_000, 1_000] {
            size.observe(full(&size, 0, true));
            assert_eq!(size.get(), expected);
        }
    }

    #[test]
    fn stays_when_every_slot_is_busy_or_a_little_is_left() {
        let mut size = ClaimSize::adaptive(16);
        size.observe(full(&size, 0, false));
        assert_eq!(
            size.get(),
            64,
            "slots busy with long jobs: no need to hoard more"
        );
        size.observe(full(&size, 15, true));
        assert_eq!(size.get(), 64, "less than a quarter left: about right");
    }

    #[test]
    fn shrinks_when_the_buffer_outlasts_a_round_trip() {
        let mut size = ClaimSize::adaptive(16);
        for _ in 0..3 {
            size.observe(full(&size, 0, true));
        }
        assert_eq!(size.get(), 512);
        size.observe(full(&size, 128, true));
        assert_eq!(size.get(), 256);
        for _ in 0..5 {
            size.observe(full(&size, 200, false));
        }
        assert_eq!(size.get(), 64, "never below the starting size");
    }

    #[test]
    fn a_dry_queue_resets_to_the_starting_size() {
        let mut size = ClaimSize::adaptive(16);
        size.observe(full(&size, 0, true));
        size.observe(full(&size, 0, true));
        assert_eq!(size.get(), 256);
        size.observe(ClaimReturn {
            wanted: 256,
            got: 3,
            buffered: 0,
            slot_free: true,
        });
        assert_eq!(size.get(), 64);
    }

    #[test]
    fn a_fixed_size_never_changes() {
        let mut size = ClaimSize::fixed(50);
        size.observe(full(&size, 0, true));
        size.observe(full(&size, 49, false));
        assert_eq!(size.get(), 50);
        assert_eq!(ClaimSize::fixed(0).get(), 1);
        assert_eq!(ClaimSize::adaptive(1).get(), 10);
        assert_eq!(ClaimSize::adaptive(100).get(), 200);
    }
}
