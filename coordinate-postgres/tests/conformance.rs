//! The shared behaviour suite, run against PostgreSQL through
//! `Arc<dyn Coordinate>`, the way applications hold a backend. `cargo
//! xtask conformance` runs it twice: against the server, and through
//! PgBouncer in transaction mode with `transaction_pooling(true)` (see
//! `test_support::builder`).

use std::sync::Arc;

use coordinate_api::{Coordinate, MockClock};
use coordinate_postgres::test_support::{builder, database_url};

/// Connections per case's coordinate: enough for the concurrency cases'
/// threads to work at once instead of queueing for a connection.
const POOL_SIZE: u32 = 10;

fn backend(clock: Arc<MockClock>, seed: u64) -> Arc<dyn Coordinate> {
    Arc::new(
        builder(&database_url())
            .clock(clock)
            .scheduler_seed(seed)
            .pool_size(POOL_SIZE)
            .build()
            .expect("connect to the test database"),
    )
}

coordinate_conformance::conformance_tests!(backend);
