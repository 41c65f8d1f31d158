//! Retry delays after handler errors: exponential with full jitter.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter: after the `n`th failed attempt the
/// unit waits a uniformly random time between zero and
/// `min(cap, base × 2ⁿ⁻¹)`. The randomness spreads a burst of failures
/// (a dependency that was down) over time instead of retrying it in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failure.
    pub base: Duration,
    /// The ceiling no delay exceeds.
    pub cap: Duration,
}

impl Default for Backoff {
    /// Base 1 s, cap 10 minutes.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The longest delay after the `attempt`th failed attempt (counting
    /// from 1).
    pub fn ceiling(&self, attempt: usize) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(63);
        self.base
            .checked_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// A delay for the `attempt`th failed attempt, drawn from `rng`.
    pub fn delay(&self, attempt: usize, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        ceiling.mul_f64(rng.random::<f64>())
    }
}

/// `interval` scaled by a random factor in [0.8, 1.2), so that a fleet
/// started together does not poll in step.
pub(crate) fn jittered(interval: Duration, rng: &mut impl Rng) -> Duration {
    interval.mul_f64(rng.random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let backoff = Backoff::default();
        assert_eq!(backoff.ceiling(1), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(2), Duration::from_secs(2));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(16));
        assert_eq!(backoff.ceiling(10), Duration::from_secs(512));
        assert_eq!(backoff.ceiling(11), Duration::from_secs(600));
        assert_eq!(backoff.ceiling(usize::MAX), Duration::from_secs(600));
        assert_eq!(backoff.ceiling(0), Duration::from_secs(1));
    }

    #[test]
    fn delays_stay_under_the_ceiling_and_spread_out() {
        let backoff = Backoff::default();
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        let short = delays
            .iter()
            .filter(|d| **d < Duration::from_secs(4))
            .count();
        // Full jitter: about half fall below half the ceiling.
        assert!((60..=140).contains(&short), "{short} of 200 below 4 s");
    }

    #[test]
    fn a_zero_base_never_waits() {
        let backoff = Backoff {
            base: Duration::ZERO,
            cap: Duration::from_secs(1),
        };
        assert_eq!(
            backoff.delay(3, &mut StdRng::seed_from_u64(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(1), &mut rng);
            assert!(d >= Duration::from_millis(800) && d < Duration::from_millis(1200));
        }
    }
}
