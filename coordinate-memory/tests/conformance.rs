//! The shared conformance suite, run against the in-memory backend.

use std::sync::Arc;

use coordinate_api::{Coordinate, MockClock};
use coordinate_memory::MemoryCoordinate;

fn backend(clock: Arc<MockClock>, seed: u64) -> Arc<dyn Coordinate> {
    Arc::new(MemoryCoordinate::with_clock(clock).with_scheduler_seed(seed))
}

coordinate_conformance::conformance_tests!(backend);
