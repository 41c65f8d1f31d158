//! Setup shared by the runtime tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{Backoff, Runtime, RuntimeBuilder};
use coordinate_api::{Coordinate, Data, Namespace, WorkSpec, WorkUnitMeta, WorkUnitStatus};
use coordinate_memory::MemoryCoordinate;

/// A fresh namespace with one work spec per definition.
pub fn namespace(specs: &[WorkSpecDefinition]) -> Arc<dyn Namespace> {
    let coordinate = MemoryCoordinate::new();
    let namespace = coordinate.namespace("runtime").unwrap();
    for spec in specs {
        namespace.set_work_spec(spec.clone().into_data()).unwrap();
    }
    namespace
}

/// Adds units `prefix0`, `prefix1`, … to `spec`.
pub fn add_units(namespace: &dyn Namespace, spec: &str, prefix: &str, count: usize) {
    let spec = namespace.work_spec(spec).unwrap();
    for i in 0..count {
        spec.add_work_unit(
            &format!("{prefix}{i}"),
            Data::new(),
            WorkUnitMeta::default(),
        )
        .unwrap();
    }
}

/// A builder with intervals short enough for tests: 600 ms leases,
/// 20 ms polls, retries without delay.
pub fn quick(namespace: Arc<dyn Namespace>) -> RuntimeBuilder {
    Runtime::builder(namespace)
        .lease(Duration::from_millis(600))
        .poll_interval(Duration::from_millis(20))
        .grace(Duration::from_secs(2))
        .backoff(Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        })
        .worker_name("test-runtime")
}

/// Waits until `done` holds, failing the test with `what` after 10 s.
pub fn wait_until(what: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How many units of `spec` are in each status.
pub fn statuses(namespace: &dyn Namespace, spec: &str) -> BTreeMap<WorkUnitStatus, usize> {
    namespace
        .work_spec(spec)
        .unwrap()
        .count_work_unit_status()
        .unwrap()
}

/// The number of units of `spec` in `status`.
pub fn count(namespace: &dyn Namespace, spec: &str, status: WorkUnitStatus) -> usize {
    statuses(namespace, spec).get(&status).copied().unwrap_or(0)
}

/// The data of unit `name` of `spec`.
pub fn unit_data(namespace: &dyn Namespace, spec: &str, name: &str) -> Data {
    let spec: Arc<dyn WorkSpec> = namespace.work_spec(spec).unwrap();
    spec.work_unit(name).unwrap().data().unwrap()
}

/// A namespace that passes every call to a real one, counts the batched
/// calls, and fails some of them on request as an unreachable database
/// would.
pub struct Flaky {
    inner: Arc<dyn Namespace>,
    /// Renewals fail while set.
    pub fail_renewals: std::sync::atomic::AtomicBool,
    /// The next this many `complete_attempts` calls fail.
    pub fail_completions: std::sync::atomic::AtomicUsize,
    /// The next this many `complete_attempts` calls are applied, then
    /// fail as a connection lost after its `COMMIT` was sent would.
    pub lose_answers: std::sync::atomic::AtomicUsize,
    /// The size of every `complete_attempts` call that reached the store.
    pub batches: std::sync::Mutex<Vec<usize>>,
    /// How many `renew_attempts` calls reached the store.
    pub renewals: std::sync::atomic::AtomicUsize,
}

impl Flaky {
    pub fn new(inner: Arc<dyn Namespace>) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner,
            fail_renewals: Default::default(),
            fail_completions: Default::default(),
            lose_answers: Default::default(),
            batches: Default::default(),
            renewals: Default::default(),
        })
    }

    fn unreachable() -> coordinate_api::Error {
        coordinate_api::Error::backend(
            coordinate_api::BackendErrorKind::Unavailable,
            "connection refused (test)",
        )
    }
}

use coordinate_api::{Attempt, Completion, Result, Summary, Wakeup, Worker};
use std::sync::atomic::Ordering;

impl Namespace for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn destroy(&self) -> Result<()> {
        self.inner.destroy()
    }
    fn set_work_spec(&self, data: Data) -> Result<Arc<dyn WorkSpec>> {
        self.inner.set_work_spec(data)
    }
    fn work_spec(&self, name: &str) -> Result<Arc<dyn WorkSpec>> {
        self.inner.work_spec(name)
    }
    fn destroy_work_spec(&self, name: &str) -> Result<()> {
        self.inner.destroy_work_spec(name)
    }
    fn work_spec_names(&self) -> Result<Vec<String>> {
        self.inner.work_spec_names()
    }
    fn worker(&self, name: &str) -> Result<Arc<dyn Worker>> {
        self.inner.worker(name)
    }
    fn workers(&self) -> Result<Vec<Arc<dyn Worker>>> {
        self.inner.workers()
    }
    fn summarize(&self) -> Result<Summary> {
        self.inner.summarize()
    }
    fn prune(&self, request: &coordinate_api::PruneRequest) -> Result<coordinate_api::Pruned> {
        self.inner.prune(request)
    }
    fn count_prunable(
        &self,
        request: &coordinate_api::PruneRequest,
    ) -> Result<coordinate_api::Pruned> {
        self.inner.count_prunable(request)
    }
    fn complete_attempts(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        let fail = self
            .fail_completions
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(Self::unreachable());
        }
        self.batches.lock().unwrap().push(batch.len());
        let results = self.inner.complete_attempts(batch)?;
        let lose = self
            .lose_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if lose {
            return Err(Self::unreachable());
        }
        Ok(results)
    }
    fn renew_attempts(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        if self.fail_renewals.load(Ordering::SeqCst) {
            return Err(Self::unreachable());
        }
        self.renewals.fetch_add(1, Ordering::SeqCst);
        self.inner.renew_attempts(attempts, extend)
    }
    fn wait_for_work(&self, timeout: Duration) -> Result<Wakeup> {
        self.inner.wait_for_work(timeout)
    }
}
