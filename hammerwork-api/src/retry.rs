use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long to wait before the next attempt of a failed job.
///
/// Stored with the job (as JSON, durations in milliseconds), so every worker
/// computes the same backoff. A job without a policy uses
/// [`RetryPolicy::default`]: exponential from 1 s, doubling, capped at 10 min,
/// with 25% jitter.
///
/// ```
/// use std::time::Duration;
/// use hammerwork_api::RetryPolicy;
///
/// let policy = RetryPolicy::ExponentialBackoff {
///     initial_delay: Duration::from_secs(30),
///     max_delay: Duration::from_secs(300),
///     multiplier: 2.0,
/// };
/// assert_eq!(policy.delay_for(1, 0.5), Duration::from_secs(30));
/// assert_eq!(policy.delay_for(2, 0.5), Duration::from_secs(60));
/// assert_eq!(policy.delay_for(9, 0.5), Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RetryPolicy {
    /// The same delay before every retry.
    Fixed {
        /// The delay.
        #[serde(with = "millis")]
        delay: Duration,
    },
    /// `initial_delay + increment * (attempt - 1)`, capped at `max_delay`.
    Linear {
        /// Delay after the first failure.
        #[serde(with = "millis")]
        initial_delay: Duration,
        /// Added per further failure.
        #[serde(with = "millis")]
        increment: Duration,
        /// The cap.
        #[serde(with = "millis")]
        max_delay: Duration,
    },
    /// `initial_delay * multiplier^(attempt - 1)`, capped at `max_delay`.
    ExponentialBackoff {
        /// Delay after the first failure.
        #[serde(with = "millis")]
        initial_delay: Duration,
        /// The cap.
        #[serde(with = "millis")]
        max_delay: Duration,
        /// Growth per failure (2.0 doubles).
        multiplier: f64,
    },
    /// Exponential backoff where up to `jitter` (0.0..=1.0) of each delay is
    /// randomised, so jobs that failed together do not retry together.
    ExponentialJitter {
        /// Delay after the first failure.
        #[serde(with = "millis")]
        initial_delay: Duration,
        /// The cap (applied before jitter).
        #[serde(with = "millis")]
        max_delay: Duration,
        /// Growth per failure (2.0 doubles).
        multiplier: f64,
        /// Fraction of the delay that is randomised.
        jitter: f64,
    },
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::ExponentialJitter {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            multiplier: 2.0,
            jitter: 0.25,
        }
    }
}

impl RetryPolicy {
    /// Refuses a multiplier or jitter that is NaN or infinite: JSON has no
    /// such numbers, so the policy would be stored as `null` and the job
    /// could not be read back.
    pub(crate) fn check(&self) -> Result<(), String> {
        let numbers: &[(&str, f64)] = match *self {
            RetryPolicy::Fixed { .. } | RetryPolicy::Linear { .. } => &[],
            RetryPolicy::ExponentialBackoff { multiplier, .. } => &[("multiplier", multiplier)],
            RetryPolicy::ExponentialJitter {
                multiplier, jitter, ..
            } => &[("multiplier", multiplier), ("jitter", jitter)],
        };
        match numbers.iter().find(|(_, value)| !value.is_finite()) {
            Some((name, value)) => Err(format!(
                "retry policy {name} must be a finite number, got {value}"
            )),
            None => Ok(()),
        }
    }

    /// The delay after failed attempt number `attempt` (1-based).
    ///
    /// `random` is a number in `0.0..1.0` used only by jittered policies; it is a
    /// parameter so the computation is a pure function (tests pass a constant).
    pub fn delay_for(&self, attempt: u32, random: f64) -> Duration {
        let n = attempt.max(1) - 1;
        match *self {
            RetryPolicy::Fixed { delay } => delay,
            RetryPolicy::Linear {
                initial_delay,
                increment,
                max_delay,
            } => initial_delay
                .saturating_add(increment.saturating_mul(n))
                .min(max_delay),
            RetryPolicy::ExponentialBackoff {
                initial_delay,
                max_delay,
                multiplier,
            } => exponential(initial_delay, max_delay, multiplier, n),
            RetryPolicy::ExponentialJitter {
                initial_delay,
                max_delay,
                multiplier,
                jitter,
            } => {
                let base = exponential(initial_delay, max_delay, multiplier, n);
                // (NaN counts as no jitter; enqueue refuses it anyway.)
                let jitter = if jitter.is_nan() {
                    0.0
                } else {
                    jitter.clamp(0.0, 1.0)
                };
                // Keep (1 - jitter) of the delay fixed and spread the rest uniformly.
                base.mul_f64(1.0 - jitter + jitter * random.clamp(0.0, 1.0))
            }
        }
    }
}

fn exponential(initial: Duration, max: Duration, multiplier: f64, n: u32) -> Duration {
    let factor = multiplier.max(1.0).powi(n.min(64) as i32);
    let secs = initial.as_secs_f64() * factor;
    if !secs.is_finite() || secs >= max.as_secs_f64() {
        max
    } else {
        Duration::from_secs_f64(secs)
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().min(u64::MAX as u128) as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_linear() {
        let fixed = RetryPolicy::Fixed {
            delay: Duration::from_secs(5),
        };
        assert_eq!(fixed.delay_for(1, 0.0), Duration::from_secs(5));
        assert_eq!(fixed.delay_for(7, 0.9), Duration::from_secs(5));

        let linear = RetryPolicy::Linear {
            initial_delay: Duration::from_secs(1),
            increment: Duration::from_secs(2),
            max_delay: Duration::from_secs(6),
        };
        assert_eq!(linear.delay_for(1, 0.0), Duration::from_secs(1));
        assert_eq!(linear.delay_for(3, 0.0), Duration::from_secs(5));
        assert_eq!(linear.delay_for(10, 0.0), Duration::from_secs(6));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let policy = RetryPolicy::ExponentialJitter {
            initial_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(100),
            multiplier: 2.0,
            jitter: 0.5,
        };
        assert_eq!(policy.delay_for(1, 0.0), Duration::from_secs(5));
        assert_eq!(policy.delay_for(1, 1.0), Duration::from_secs(10));
        assert_eq!(policy.delay_for(2, 1.0), Duration::from_secs(20));
        assert_eq!(policy.delay_for(30, 1.0), Duration::from_secs(100));
    }

    #[test]
    fn serde_round_trip() {
        let policy = RetryPolicy::default();
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["kind"], "exponential_jitter");
        assert_eq!(json["initial_delay"], 1000);
        let back: RetryPolicy = serde_json::from_value(json).unwrap();
        assert_eq!(back, policy);
    }
}
