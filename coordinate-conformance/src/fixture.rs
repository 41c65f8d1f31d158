//! What every case starts from: a clock, a coordinate and a namespace of
//! its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use coordinate_api::{
    Coordinate, Data, MockClock, Namespace, Value, WorkSpec, WorkUnit, WorkUnitMeta, Worker,
};

use crate::Backend;

/// One case's world: a mock clock, a coordinate driven by it, and a
/// namespace with a name no other case (or earlier run) uses. Dropping the
/// fixture destroys the namespace, so a shared database does not fill up.
pub struct Fixture {
    /// The clock the coordinate reads; advance it to expire leases.
    pub clock: Arc<MockClock>,
    /// The coordinate under test.
    pub coordinate: Arc<dyn Coordinate>,
    /// This case's namespace.
    pub namespace: Arc<dyn Namespace>,
    /// The seed the coordinate's scheduler draws from: [`DEFAULT_SEED`],
    /// or `COORDINATE_TEST_SEED` from the environment to try others.
    /// Cases whose outcome depends on the draws print it when they fail.
    pub seed: u64,
}

/// The scheduler seed of every case unless `COORDINATE_TEST_SEED` says
/// otherwise: fixed, so a failure repeats on the next run.
pub const DEFAULT_SEED: u64 = 0x5eed_c0de;

/// The scheduler seed for this run (see [`Fixture::seed`]).
fn seed() -> u64 {
    match std::env::var("COORDINATE_TEST_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("COORDINATE_TEST_SEED={text:?} is not a u64")),
        Err(_) => DEFAULT_SEED,
    }
}

impl Fixture {
    /// Makes a fresh clock, coordinate and namespace.
    pub fn new(backend: Backend<'_>) -> Fixture {
        let clock = Arc::new(MockClock::default());
        let seed = seed();
        let coordinate = backend(clock.clone(), seed);
        let namespace = coordinate
            .namespace(&unique_name("ns"))
            .expect("create the case's namespace");
        Fixture {
            clock,
            coordinate,
            namespace,
            seed,
        }
    }

    /// Defines (or redefines) a work spec named `name` with the extra
    /// definition keys given.
    pub fn spec(&self, name: &str, keys: &[(&str, Value)]) -> Arc<dyn WorkSpec> {
        self.namespace
            .set_work_spec(definition(name, keys))
            .expect("set_work_spec")
    }

    /// Adds a unit with empty data and default meta.
    pub fn unit(&self, spec: &Arc<dyn WorkSpec>, name: &str) -> Arc<dyn WorkUnit> {
        spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .expect("add_work_unit")
    }

    /// Gets or creates a worker.
    pub fn worker(&self, name: &str) -> Arc<dyn Worker> {
        self.namespace.worker(name).expect("worker")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // A case that already destroyed its namespace, or failed, must not
        // turn into a second panic here.
        let _ = self.namespace.destroy();
    }
}

/// A work spec definition: `name` plus the keys given.
pub fn definition(name: &str, keys: &[(&str, Value)]) -> Data {
    let mut data = Data::new();
    data.insert("name".into(), Value::Text(name.into()));
    for (key, value) in keys {
        data.insert((*key).into(), value.clone());
    }
    data
}

/// A name unique to this process, this moment and this call, so that cases
/// sharing a database never meet.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
