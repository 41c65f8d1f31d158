//! Where a backend's scheduler draws its random numbers from: the thread's
//! own generator in production, or one seeded generator per coordinate in
//! tests, so that a run whose draws went wrong can be repeated exactly.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// The random source of one coordinate's scheduler (see
/// [`choose_work_spec`](crate::backend::scheduler::choose_work_spec)).
///
/// A seeded source repeats its draws only when the calls that draw come in
/// the same order, as they do in a single-threaded test.
pub struct SchedulerRng {
    seeded: Option<(u64, Mutex<StdRng>)>,
}

impl SchedulerRng {
    /// Draws from the calling thread's generator, seeded by the system.
    pub fn from_entropy() -> Self {
        SchedulerRng { seeded: None }
    }

    /// Draws from one generator started from `seed`, shared by every
    /// thread using this coordinate.
    pub fn seeded(seed: u64) -> Self {
        SchedulerRng {
            seeded: Some((seed, Mutex::new(StdRng::seed_from_u64(seed)))),
        }
    }

    /// The seed, when there is one.
    pub fn seed(&self) -> Option<u64> {
        self.seeded.as_ref().map(|(seed, _)| *seed)
    }

    /// A generator to hand to the scheduler. It takes the shared lock only
    /// for each single draw, so concurrent claims do not wait for each
    /// other's round trips.
    pub fn handle(&self) -> SchedulerRngHandle<'_> {
        SchedulerRngHandle { source: self }
    }

    fn with<T>(&self, draw: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        match &self.seeded {
            None => draw(&mut rand::rng()),
            Some((_, rng)) => draw(&mut *rng.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }
}

impl Default for SchedulerRng {
    fn default() -> Self {
        SchedulerRng::from_entropy()
    }
}

impl fmt::Debug for SchedulerRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seed() {
            None => f.write_str("SchedulerRng(from entropy)"),
            Some(seed) => write!(f, "SchedulerRng(seed {seed})"),
        }
    }
}

/// A [`RngCore`] drawing from a [`SchedulerRng`].
pub struct SchedulerRngHandle<'a> {
    source: &'a SchedulerRng,
}

impl RngCore for SchedulerRngHandle<'_> {
    fn next_u32(&mut self) -> u32 {
        self.source.with(|rng| rng.next_u32())
    }

    fn next_u64(&mut self) -> u64 {
        self.source.with(|rng| rng.next_u64())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.source.with(|rng| rng.fill_bytes(dest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(source: &SchedulerRng) -> Vec<u32> {
        let mut rng = source.handle();
        (0..16).map(|_| rng.random_range(0..1000)).collect()
    }

    #[test]
    fn a_seed_repeats_its_draws() {
        let first = draws(&SchedulerRng::seeded(7));
        assert_eq!(first, draws(&SchedulerRng::seeded(7)));
        assert_ne!(first, draws(&SchedulerRng::seeded(8)));
        assert_eq!(SchedulerRng::seeded(7).seed(), Some(7));
        assert_eq!(SchedulerRng::from_entropy().seed(), None);
    }

    #[test]
    fn one_seeded_source_continues_across_handles() {
        let source = SchedulerRng::seeded(3);
        let mut both = draws(&source);
        both.extend(draws(&source));
        let fresh = SchedulerRng::seeded(3);
        let mut once = fresh.handle();
        let expected: Vec<u32> = (0..32).map(|_| once.random_range(0..1000)).collect();
        assert_eq!(both, expected);
    }
}
