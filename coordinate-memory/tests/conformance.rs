//! The shared conformance suite, run against the in-memory backend.

use std::sync::Arc;

use coordinate_api::{Coordinate, MockClock};
use coordinate_memory::MemoryCoordinate;

fn backend(clock: Arc<MockClock>) -> Arc<dyn Coordinate> {
    Arc::new(MemoryCoordinate::with_clock(clock))
}

coordinate_conformance::conformance_tests!(backend);
