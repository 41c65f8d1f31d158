//! The entry point: the shared state behind every handle, and the
//! `Coordinate` trait.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};
use coordinate_api::backend::random::SchedulerRng;
use coordinate_api::backend::validate::validate_name;
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::data::{check_within, DEFAULT_MAX_DATA_BYTES};
use coordinate_api::summary::normalize_summary;
use coordinate_api::{Clock, Coordinate, Data, Error, Namespace, Result, Summary, SystemClock};

use crate::namespace::{MemNamespace, NamespaceState};

/// Identifier of a namespace, work spec, work unit, worker or attempt.
///
/// Ids are never reused, so a handle to something deleted cannot reach a
/// newer object of the same name: it finds nothing and reports `Gone`.
pub(crate) type Id = u64;

/// A map keyed by [`Id`]. Ids are our own counters, not caller input, so
/// a fast non-keyed hash is safe here, and it makes claiming about a
/// fifth cheaper than the standard library's SipHash.
pub(crate) type IdMap<V> = rustc_hash::FxHashMap<Id, V>;

/// What every handle made from one coordinate shares.
pub(crate) struct Shared {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    /// Largest encoded size of data a caller may hand in.
    max_data_bytes: AtomicUsize,
    /// The scheduler's random source; replaceable so that a test can seed
    /// it (see [`MemoryCoordinate::with_scheduler_seed`]).
    scheduler_rng: Mutex<SchedulerRng>,
    /// Signalled when units may have become available somewhere.
    work_arrived: Condvar,
    /// Threads in `wait_for_work`; without any, nobody counts changes.
    waiters: AtomicUsize,
}

impl Shared {
    /// Locks the whole store. One lock keeps every operation atomic, which
    /// is all the isolation an in-memory store needs.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Store operations do not panic; should one ever do so, the state
        // is still memory-safe, and serving it beats failing every later
        // call of every thread.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The time by the coordinate's clock, at microsecond precision (as the
    /// PostgreSQL backend stores it).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(self.clock.now())
    }

    /// The scheduler's random source. Claims take it under the store lock,
    /// so holding it costs nothing more.
    pub(crate) fn scheduler_rng(&self) -> MutexGuard<'_, SchedulerRng> {
        self.scheduler_rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether some thread waits in `wait_for_work`.
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::SeqCst) > 0
    }

    /// Wakes every waiter in `wait_for_work`.
    pub(crate) fn wake_waiters(&self) {
        self.work_arrived.notify_all();
    }

    /// Waits, with the lock held on entry and on return, until woken or
    /// until `deadline`; `changed` tells whether to stop waiting. Returns
    /// the guard and whether the deadline passed first.
    pub(crate) fn wait_until<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Instant,
        mut changed: impl FnMut(&State) -> bool,
    ) -> (MutexGuard<'a, State>, bool) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let timed_out = loop {
            if changed(&state) {
                break false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break true;
            }
            state = self
                .work_arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        (state, timed_out)
    }

    /// Refuses data the PostgreSQL backend would refuse: nested too deep,
    /// or over the size limit once encoded.
    pub(crate) fn check_data(&self, data: &Data) -> Result<()> {
        check_within(data, self.max_data_bytes.load(Ordering::Relaxed))
    }
}

/// All namespaces of one coordinate.
#[derive(Default)]
pub(crate) struct State {
    last_id: Id,
    pub(crate) namespaces: IdMap<NamespaceState>,
    pub(crate) namespace_ids: BTreeMap<Arc<str>, Id>,
}

impl State {
    /// The namespace called `name`, created if needed.
    fn get_or_create(&mut self, name: &str) -> Id {
        if let Some(&id) = self.namespace_ids.get(name) {
            return id;
        }
        self.last_id += 1;
        let id = self.last_id;
        let name: Arc<str> = Arc::from(name);
        self.namespaces
            .insert(id, NamespaceState::new(name.clone()));
        self.namespace_ids.insert(name, id);
        id
    }
}

/// A coordinate whose whole state lives in this process's memory.
///
/// It is thread-safe, and cloning it is cheap: clones (and every handle
/// made from them) share the same state. Use [`MemoryCoordinate::new`] for
/// the system clock, or [`MemoryCoordinate::with_clock`] to drive time by
/// hand in tests.
#[derive(Clone)]
pub struct MemoryCoordinate {
    shared: Arc<Shared>,
}

impl MemoryCoordinate {
    /// An empty coordinate on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty coordinate reading time from `clock` (for example a
    /// [`MockClock`](coordinate_api::MockClock) that a test advances).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryCoordinate {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                clock,
                max_data_bytes: AtomicUsize::new(DEFAULT_MAX_DATA_BYTES),
                scheduler_rng: Mutex::new(SchedulerRng::from_entropy()),
                work_arrived: Condvar::new(),
                waiters: AtomicUsize::new(0),
            }),
        }
    }

    /// The same coordinate, refusing data whose CBOR encoding is over
    /// `max_bytes` (by default
    /// [`DEFAULT_MAX_DATA_BYTES`](coordinate_api::data::DEFAULT_MAX_DATA_BYTES)),
    /// as `PostgresCoordinate::builder(…).max_data_bytes(…)` does. Clones
    /// share the setting.
    ///
    /// Errors: [`InvalidInput`](Error::InvalidInput) when `max_bytes` is 0.
    pub fn with_max_data_bytes(self, max_bytes: usize) -> Result<Self> {
        if max_bytes == 0 {
            return Err(Error::invalid("max_data_bytes", "must be positive"));
        }
        self.shared
            .max_data_bytes
            .store(max_bytes, Ordering::Relaxed);
        Ok(self)
    }
}

impl MemoryCoordinate {
    /// The same coordinate, choosing among work specs with a generator
    /// started from `seed` instead of the thread's, so that a test whose
    /// draws went wrong can be run again with the same draws (as
    /// `PostgresCoordinate::builder(…).scheduler_seed(…)` does). Clones
    /// share the setting.
    pub fn with_scheduler_seed(self, seed: u64) -> Self {
        *self.shared.scheduler_rng() = SchedulerRng::seeded(seed);
        self
    }
}

impl Default for MemoryCoordinate {
    /// The same as [`MemoryCoordinate::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryCoordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let namespaces = self.shared.lock().namespaces.len();
        f.debug_struct("MemoryCoordinate")
            .field("namespaces", &namespaces)
            .field("clock", &self.shared.clock)
            .finish()
    }
}

impl Coordinate for MemoryCoordinate {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>> {
        validate_name("namespace name", name)?;
        let id = self.shared.lock().get_or_create(name);
        Ok(Arc::new(MemNamespace::new(
            self.shared.clone(),
            id,
            Arc::from(name),
        )))
    }

    fn namespaces(&self) -> Result<Vec<Arc<dyn Namespace>>> {
        let state = self.shared.lock();
        Ok(state
            .namespace_ids
            .iter()
            .map(|(name, &id)| {
                Arc::new(MemNamespace::new(self.shared.clone(), id, name.clone()))
                    as Arc<dyn Namespace>
            })
            .collect())
    }

    fn summarize(&self) -> Result<Summary> {
        let mut state = self.shared.lock();
        let now = self.shared.now();
        let mut summary = Summary::new();
        for namespace in state.namespaces.values_mut() {
            summary.extend(namespace.summarize(now));
        }
        Ok(normalize_summary(summary))
    }
}
